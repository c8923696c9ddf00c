import { RegionBackend } from './region-backend';

/** Options given to a backend factory: the device and backend-specific settings. */
export interface BackendOptions {
  /** Device id the backend instance should drive. */
  readonly deviceId: number;
  /** Platform, when the backend supports several (e.g. `a2a3sim`, `a5sim`). */
  readonly platform?: string;
  /** Backend-specific settings (from `backendOptions` or `simpler-region.config.json`). */
  readonly [key: string]: unknown;
}

/** A function that creates a backend instance for one device. */
export type BackendFactory = (options: BackendOptions) => RegionBackend | Promise<RegionBackend>;

/** The shape of a backend package: what `require('<backend module>')` must provide. */
export interface BackendModule {
  /** Package name, checked against the created backend's `name`. */
  readonly BACKEND_NAME: string;
  /** Creates a backend for one device. */
  readonly createBackend: BackendFactory;
}

import { BackendAllocation } from './backend-allocation';
import type { SharedLaunchQueue } from '../launch-queue/shared-launch-queue';

/** The backend contract version this build of the core speaks. A backend reports the one it implements. */
export const BACKEND_ABI_VERSION = 1;

/**
 * What a backend (HAL) provides to the owner-process core. A backend instance is bound to one
 * device. The core serialises calls into it; a backend need not be re-entrant.
 */
export interface RegionBackend {
  /** Package name of the backend, e.g. `@simpler/hal-sim`. */
  readonly name: string;
  /** Backend contract version; must equal {@link BACKEND_ABI_VERSION}. */
  readonly abiVersion: number;
  /** Platform string, e.g. `a2a3sim`, `a5sim`, `a2a3`, `a5`. */
  readonly platform: string;
  /** The device id this instance drives. */
  readonly deviceId: number;
  /**
   * Allocates `totalBytes` of device-visible memory with a zero-filled host view.
   * Throws `OutOfMemoryError` when it cannot, `BackendError` when the mapping fails,
   * `UnsupportedError` when the platform has no mapping path.
   */
  allocate(totalBytes: number): BackendAllocation;
  /** Queues a device kernel by name with 64-bit arguments. Optional: absent means `ENOTSUP`. */
  launch?(kernel: string, args: readonly bigint[]): void;
  /** Waits for every queued kernel; rejects with the first kernel failure. Optional. */
  synchronize?(): Promise<void>;
  /**
   * Optional: the backend's launch queue, for another process to map and launch through without
   * a request to this one (docs/l3-protocol.md section 11). Launches queued there count for
   * {@link synchronize} like the backend's own. Throws `UnsupportedError` when the queue cannot be
   * shared (then launches go through {@link launch}).
   */
  shareLaunchQueue?(): SharedLaunchQueue;
  /** Releases the device. Called once, after every allocation was released. */
  destroy(): void | Promise<void>;
}

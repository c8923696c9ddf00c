import { SimBackend, SimBackendOptions, createBackend } from '@simpler/hal-sim';

/** Creates a simulator backend instance for device 0 unless told otherwise. */
export function simBackend(options: Partial<SimBackendOptions> = {}): Promise<SimBackend> {
  return createBackend({ deviceId: 0, ...options });
}

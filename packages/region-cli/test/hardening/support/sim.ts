import type { SimBackend, SimBackendOptions } from '@simpler/hal-sim';

/**
 * Creates a simulator backend instance. Loaded with require, not a static import: the CLI
 * resolves @simpler/hal-sim lazily, and the module-boundary lint forbids mixing both styles.
 */
export function simBackend(options: Partial<SimBackendOptions> = {}): Promise<SimBackend> {
  const sim = require('@simpler/hal-sim') as typeof import('@simpler/hal-sim');
  return sim.createBackend({ deviceId: 0, ...options });
}

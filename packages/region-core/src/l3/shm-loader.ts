import type * as Shm from '@simpler/shm';
import { UnsupportedError } from '@simpler/abi';

/** The `@simpler/shm` module, as far as this package uses it. */
export type ShmModule = typeof Shm;

let cached: { module?: ShmModule; reason?: string } | undefined;

/**
 * Loads `@simpler/shm` on first use: it binds libc through koffi, which L2 users and pipe-only
 * parents should not pay for. Never throws; `reason` says why shared memory is unavailable.
 */
function load(): { module?: ShmModule; reason?: string } {
  if (cached) return cached;
  try {
    const module = require('@simpler/shm') as ShmModule;
    cached = module.shmSupported ? { module } : { reason: module.shmUnsupportedReason ?? 'unsupported platform' };
  } catch (error) {
    cached = { reason: `@simpler/shm failed to load: ${error instanceof Error ? error.message : String(error)}` };
  }
  return cached;
}

/** Why the shared-memory transport cannot be used here, or `undefined` when it can. */
export function shmUnavailableReason(): string | undefined {
  return load().reason;
}

/** The loaded module; `ENOTSUP` naming the reason where shared memory is unavailable. */
export function requireShm(what: string): ShmModule {
  const loaded = load();
  if (loaded.module) return loaded.module;
  throw new UnsupportedError(`${what}: the shared-memory transport is not available here (${loaded.reason}); use transport 'pipe'`);
}

import type * as ShmModuleType from '@simpler/shm';

/** The `@simpler/shm` module. */
export type ShmModule = typeof ShmModuleType;

/** `@simpler/shm` when it is installed and works here, else why not. */
export type ShmLoad = { readonly shm: ShmModule; readonly reason?: undefined } | { readonly shm?: undefined; readonly reason: string };

let loaded: ShmLoad | undefined;

/**
 * Loads `@simpler/shm` once. It is an optional dependency: without it (or off Linux, or on a CPU
 * whose futex call is unknown) the simulator keeps its regions in SharedArrayBuffers.
 */
export function loadShm(): ShmLoad {
  if (loaded !== undefined) return loaded;
  let shm: ShmModule;
  try {
    shm = require('@simpler/shm') as ShmModule;
  } catch (error) {
    loaded = { reason: `@simpler/shm is not installed (${error instanceof Error ? error.message.split('\n')[0] : String(error)})` };
    return loaded;
  }
  if (!shm.shmSupported) loaded = { reason: shm.shmUnsupportedReason ?? 'shared memory is not supported here' };
  else if (!shm.futexSupported) loaded = { reason: `the futex call of architecture ${process.arch} is not known` };
  else loaded = { shm };
  return loaded;
}

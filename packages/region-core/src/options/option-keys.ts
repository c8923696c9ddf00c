import { knownKeys } from '@simpler/abi';
import type { DeviceContextOptions } from '../context/device-context';
import type { WaitTuning } from '../context/wait-strategy';
import type { L3WorkerOptions } from '../l3/create-l3-worker';
import type { ShmTuning } from '../l3/shm-parent-link';
import type { OpenMappedRegionOptions, WorkerIdOption } from '../worker/worker';
import type { WorkerOptions } from '../worker/worker-options';

// Every options object of the public API refuses keys it does not know (a typo, or an option of
// a newer version, must not run as if it were absent). Each list is typed by its interface, so
// adding an option to an interface without adding it here fails to compile: a one-line change.

/** The options both levels share (every `WorkerOptions` key but the level-2 `waitTuning`). */
const COMMON_WORKER_KEYS = {
  level: true,
  backend: true,
  backendOptions: true,
  deviceId: true,
  deviceIds: true,
  platform: true,
} as const satisfies { readonly [K in keyof Omit<WorkerOptions, 'waitTuning'>]-?: true };

/** `createWorker` options at level 2. */
export const L2_WORKER_OPTION_KEYS = knownKeys<WorkerOptions>('createWorker options (level 2)', { ...COMMON_WORKER_KEYS, waitTuning: true });

/** `createWorker`/`createL3Worker` options at level 3 (`waitTuning` is a level-2 setting: a child uses the default). */
export const L3_WORKER_OPTION_KEYS = knownKeys<Omit<L3WorkerOptions, 'waitTuning'>>('createWorker options (level 3)', {
  ...COMMON_WORKER_KEYS,
  initTimeoutMs: true,
  requestTimeoutMs: true,
  shutdownGraceMs: true,
  childStderr: true,
  transport: true,
  shmTuning: true,
});

/** `waitTuning` overrides. */
export const WAIT_TUNING_KEYS = knownKeys<WaitTuning>('waitTuning', { syncSpinUs: true, asyncSpinUs: true, maxSliceMs: true });

/** `shmTuning` overrides of the L3 shared-memory transport. */
export const SHM_TUNING_KEYS = knownKeys<ShmTuning>('shmTuning', { chunkBytes: true, parentSpinUs: true, childSpinUs: true });

/** Options of a `DeviceContext`. */
export const DEVICE_CONTEXT_OPTION_KEYS = knownKeys<DeviceContextOptions>('DeviceContext options', { waitTuning: true });

/** `openMappedRegion` options. */
export const OPEN_MAPPED_REGION_OPTION_KEYS = knownKeys<OpenMappedRegionOptions>('openMappedRegion options', {
  signalCount: true,
  flags: true,
  workerId: true,
  access: true,
});

/** The `{ workerId }` options of region calls, `launch` and `synchronize`. */
export const WORKER_ID_OPTION_KEYS = knownKeys<WorkerIdOption>('{ workerId } options of launch, synchronize and region calls', { workerId: true });

export { shmSupported, shmUnsupportedReason, systemPageSize } from './platform';
export { SharedMemoryObject } from './shared-memory-object';
export type { SharedMapOptions, SharedMemoryCreateOptions } from './shared-memory-object';
export { SharedMapping } from './shared-mapping';
export { FUTEX_MAX_TIMEOUT_MS, futexSupported } from './futex';
export type { FutexWaitResult } from './futex';

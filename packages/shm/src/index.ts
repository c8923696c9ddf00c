export { shmSupported, shmUnsupportedReason, systemPageSize } from './platform';
export { SharedMemoryObject } from './shared-memory-object';
export type { SharedMemoryCreateOptions } from './shared-memory-object';
export { SharedMapping } from './shared-mapping';

/**
 * What another process needs to map a backend's launch queue (layout: `launch-queue-layout.ts`).
 * The consumer sleeps with `FUTEX_WAIT` (not private) on the queue's `doorbell` word, so a producer
 * in another process wakes it with `FUTEX_WAKE` on the same word of its own mapping. Valid until
 * the backend is destroyed; the descriptor stays the backend's.
 */
export interface SharedLaunchQueue {
  /** An open descriptor in this process (a sealed memfd) holding the queue. */
  readonly fd: number;
  /** Offset of the queue's first byte in the descriptor; a multiple of the page size. */
  readonly offset: number;
  /** Bytes of the queue (`launchQueueBytes(capacity)`). */
  readonly length: number;
}

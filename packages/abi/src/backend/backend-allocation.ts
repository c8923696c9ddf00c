/**
 * Device-visible memory for one region, as a backend hands it to the core.
 * The core owns its lifetime: it calls `release` exactly once.
 */
export interface BackendAllocation {
  /** Host view of exactly `totalBytes` bytes, zero-filled. The core writes the header and nothing else at open. */
  readonly bytes: Uint8Array;
  /** Host address of `bytes[0]` (owner process only; never published). 0n when the backend cannot tell. */
  readonly hostBase: bigint;
  /** Device address of `bytes[0]`: what device kernels use. */
  readonly deviceBase: bigint;
  /**
   * Makes host writes to `[offset, offset + length)` visible to the device (cache clean).
   * Absent on cache-coherent backends.
   */
  flush?(offset: number, length: number): void;
  /**
   * Discards stale host cache lines of `[offset, offset + length)` before the host reads
   * device writes (cache clean + invalidate). Absent on cache-coherent backends.
   */
  invalidate?(offset: number, length: number): void;
  /**
   * Called right after the core release-stored a signal word at byte `offset` of the region, so a
   * backend whose device may be asleep on that word can wake it (cheaply: only when it sleeps).
   * Absent: on `SharedArrayBuffer` memory the core wakes `Atomics.wait` sleepers itself with
   * `Atomics.notify`, which costs ~40 ns per notify whether anyone sleeps or not.
   */
  wakeSignal?(offset: number): void;
  /** Releases the host mapping and the device memory. Called once; must not throw for a valid allocation. */
  release(): void;
}

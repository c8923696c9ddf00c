import { SharedAllocation } from './shared-allocation';

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
  /**
   * For memory that is not a `SharedArrayBuffer` (no `Atomics.wait` there): blocks the calling
   * thread until the u32 signal word at byte `offset` may no longer hold `observed`, or
   * `timeoutMs` passed; returning early is fine (the core looks again). Whoever publishes (the
   * device, or the core through `wakeSignal`) must wake it. Absent: the core sleeps and polls.
   */
  sleepSignal?(offset: number, observed: number, timeoutMs: number): void;
  /**
   * {@link sleepSignal} without blocking the thread: settles under the same conditions
   * (`undefined` means "look again now"). Absent: the core polls on timers.
   */
  sleepSignalAsync?(offset: number, observed: number, timeoutMs: number): Promise<void> | undefined;
  /**
   * Optional: describes how another process maps exactly these bytes (see
   * {@link SharedAllocation}). Absent: the memory cannot be shared and stays with its owner.
   * `EINVAL` after `release`.
   */
  share?(): SharedAllocation;
  /**
   * Releases the host mapping and the device memory at once. Called once; must not throw for a
   * valid allocation. Pending `sleepSignal`/`sleepSignalAsync` calls return promptly.
   */
  release(): void;
}

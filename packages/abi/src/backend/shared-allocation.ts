import { describe } from '../codec/scalars';

/**
 * How a publisher in another process wakes threads asleep on a signal word of a shared
 * allocation. `'poll'`: nobody sleeps on a futex; sleepers wake by polling, so a publisher
 * only stores. `'futex'`: see {@link FutexWake}.
 */
export type SharedWake = { readonly kind: 'poll' } | FutexWake;

/**
 * Linux futexes on the signal words themselves, without `FUTEX_PRIVATE_FLAG` (so they work
 * across processes), and a count of sleepers so that a publisher pays for a system call only
 * when someone sleeps:
 * - a sleeper atomically adds 1 to the count, reads the word again, `FUTEX_WAIT`s on the word
 *   with the value it read and a bounded timeout, then subtracts 1;
 * - a publisher, after its sequentially consistent store to a signal word, reads the count and,
 *   when it is not 0, `FUTEX_WAKE`s that word (every waiter).
 */
export interface FutexWake {
  /** Discriminant. */
  readonly kind: 'futex';
  /** Byte offset, in the descriptor, of the int32 sleeper count; 4-byte aligned, outside the allocation's bytes. */
  readonly sleepersOffset: number;
}

/**
 * What another process needs to map exactly an allocation's bytes and to take part in its
 * signal protocol. Valid until the allocation is released; the descriptor stays owned by the
 * allocation (duplicate it, e.g. by passing it in `spawn`'s `stdio`, to keep it longer).
 */
export interface SharedAllocation {
  /** An open descriptor in this process (a memfd or another mappable file) holding the memory. */
  readonly fd: number;
  /** Offset of byte 0 of the allocation in the descriptor; a multiple of the page size. */
  readonly offset: number;
  /** Bytes of the allocation (its `totalBytes`). */
  readonly length: number;
  /**
   * Cache maintenance the other process must do around its accesses. `'none'`: the memory is
   * coherent, like the allocation itself (which then has no flush/invalidate hooks).
   */
  readonly cacheHooks: 'none';
  /** How to wake the other side after publishing a signal. */
  readonly wake: SharedWake;
}

/**
 * Why `shared` is not a usable {@link SharedAllocation} of an allocation of `totalBytes` bytes
 * (its shape only: the descriptor itself is not looked at), or undefined when it is.
 */
export function sharedAllocationProblem(shared: unknown, totalBytes: number): string | undefined {
  if (typeof shared !== 'object' || shared === null) return `expected an object, got ${describe(shared)}`;
  const s = shared as Partial<Record<keyof SharedAllocation, unknown>>;
  if (typeof s.fd !== 'number' || !Number.isInteger(s.fd) || s.fd < 0 || s.fd > 0x7fff_ffff) return `fd must be a descriptor number, got ${describe(s.fd)}`;
  if (typeof s.offset !== 'number' || !Number.isSafeInteger(s.offset) || s.offset < 0) return `offset must be an integer >= 0, got ${describe(s.offset)}`;
  if (s.length !== totalBytes) return `length must be the region's ${totalBytes} bytes, got ${describe(s.length)}`;
  if (s.cacheHooks !== 'none') return `cacheHooks must be 'none', got ${describe(s.cacheHooks)}`;
  const wake = s.wake as { kind?: unknown; sleepersOffset?: unknown } | null | undefined;
  if (typeof wake !== 'object' || wake === null) return `wake must be an object, got ${describe(wake)}`;
  if (wake.kind === 'poll') return undefined;
  if (wake.kind !== 'futex') return `wake.kind must be 'futex' or 'poll', got ${describe(wake.kind)}`;
  const at = wake.sleepersOffset;
  if (typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0 || at % 4 !== 0) return `wake.sleepersOffset must be a multiple of 4 >= 0, got ${describe(at)}`;
  if (at + 4 > s.offset && at < s.offset + totalBytes) return `wake.sleepersOffset ${at} lies inside the region's bytes [${s.offset}, ${s.offset + totalBytes})`;
  return undefined;
}

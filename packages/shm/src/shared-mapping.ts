import { InvalidArgumentError, describe } from '@simpler/abi';
import { syscallError } from './errors';
import { FutexWaitResult, checkWordOffset, futexWaitAsyncAt, futexWaitAt, futexWakeAt } from './futex';
import { HeapPlacement, evacuateHeap } from './heap-mapping';
import { MAP_FAILED, MAP_PRIVATE_ANON_FIXED, PROT_READ_WRITE } from './native/libc';
import { requireLibc } from './platform';

/**
 * What is needed to give an address range back once its last `ArrayBuffer` is gone. It never
 * references the buffer (that would keep the buffer alive forever). It doubles as the key of the
 * owner's live-mapping table, so the owner knows which ranges of the object are still mapped.
 */
export interface MappedRange {
  /** Start address of the range. */
  readonly address: bigint;
  /** Length of the range in bytes. */
  readonly length: number;
  /** The owning object's table of live mappings (range -> end offset in the object). */
  readonly live: Map<MappedRange, number>;
  /** Set for a mapping over a V8-owned buffer (`backing: 'heap'`): V8 frees the range, not us. */
  readonly heap?: HeapPlacement;
}

// koffi.view's ArrayBuffer does not own its memory and has no finalizer of its own: munmap while
// a view is reachable would be a use-after-free, so the range is only unmapped once the buffer
// (and with it every typed array over it) has been collected.
const reclaimer = new FinalizationRegistry<MappedRange>((range) => {
  range.live.delete(range);
  requireLibc('munmap').munmap(range.address, range.length);
});

/** Most waiters one `futexWake` can wake (`INT_MAX`). */
const ALL_WAITERS = 0x7fff_ffff;

/**
 * One read/write `MAP_SHARED` mapping of a shared memory object, as an `ArrayBuffer`.
 *
 * @example
 * const shm = SharedMemoryObject.create(4096);
 * const mapping = shm.map();
 * const words = new Int32Array(mapping.buffer);
 * Atomics.store(words, 0, 1);
 * mapping.unmap();
 * shm.close();
 */
export class SharedMapping {
  /** Length of the mapping in bytes. */
  readonly byteLength: number;
  /** Offset of the mapping in the object, a multiple of the page size. */
  readonly offset: number;
  /** Where the mapping starts in `buffer`: 0, except with `backing: 'heap'` (under a page). */
  readonly byteOffset: number;
  #buffer: ArrayBuffer | null;
  readonly #range: MappedRange;
  // The address as an exact number (user addresses are below 2^53): futex calls take no BigInt.
  readonly #address: number;

  /** @internal Built by `SharedMemoryObject.map`, which has checked the mmap result. */
  constructor(range: MappedRange, buffer: ArrayBuffer, offset: number) {
    this.byteLength = range.length;
    this.offset = offset;
    this.byteOffset = range.heap === undefined ? 0 : range.heap.byteOffset;
    this.#buffer = buffer;
    this.#range = range;
    this.#address = Number(range.address);
    // A heap-backed range is the buffer's own memory: V8 frees it with the buffer.
    if (range.heap === undefined) reclaimer.register(buffer, range);
  }

  /**
   * The mapped memory; the same `ArrayBuffer` on every call. `EINVAL` once released. With
   * `backing: 'heap'` it is larger than the mapping: view it at `byteOffset` for `byteLength`.
   */
  get buffer(): ArrayBuffer {
    const buffer = this.#buffer;
    if (buffer === null) throw new InvalidArgumentError(`mapping of ${this.byteLength} bytes at offset ${this.offset} was unmapped`);
    return buffer;
  }

  /** True once `unmap` has been called. */
  get released(): boolean {
    return this.#buffer === null;
  }

  /**
   * Gives the shared pages back at once and makes `buffer` throw. Buffers and views obtained
   * before stay safe to touch: the range now holds private zero pages (never shared, never
   * written back) until the last of them is collected, and only then is the range unmapped.
   * Idempotent.
   */
  unmap(): void {
    if (this.#buffer === null) return;
    this.#buffer = null;
    const range = this.#range;
    const libc = requireLibc('munmap');
    if (range.heap !== undefined) {
      // Ordinary private pages go back under the buffer; V8 frees them when it collects it.
      evacuateHeap(libc, range.heap);
      range.live.delete(range);
      return;
    }
    const replaced = libc.mmap(range.address, range.length, PROT_READ_WRITE, MAP_PRIVATE_ANON_FIXED, -1, 0);
    if (replaced === null || replaced === MAP_FAILED) {
      // The shared pages may still be mapped: they stay in the owner's live table (so resize
      // cannot cut them under a stale view) until the finalizer unmaps the range.
      throw syscallError('mmap', libc.errnoName(libc.errno()), `replacing ${range.length} released bytes with private pages`);
    }
    range.live.delete(range);
  }

  /**
   * Sleeps while the int32 at `byteOffset` of the mapping holds `expected` (an int32, or a u32
   * taken modulo 2^32), for at most `timeoutMs`: a `FUTEX_WAIT` without the private flag, so a
   * `futexWake` through any mapping of the same object, in any process, wakes it. Blocks the
   * calling thread: use it on worker threads or processes that may block.
   */
  futexWait(byteOffset: number, expected: number, timeoutMs: number): FutexWaitResult {
    this.#checkMapped('futexWait');
    return futexWaitAt(this.#address + checkWordOffset(byteOffset, this.byteLength), expected, timeoutMs);
  }

  /**
   * {@link futexWait} on a libuv pool thread: resolves when woken, at once when the word differs,
   * or at the timeout (look at the word again). Each pending call holds a pool thread.
   */
  futexWaitAsync(byteOffset: number, expected: number, timeoutMs: number): Promise<void> {
    this.#checkMapped('futexWaitAsync');
    return futexWaitAsyncAt(this.#address + checkWordOffset(byteOffset, this.byteLength), expected, timeoutMs);
  }

  /** Wakes up to `count` (default: all) threads in `futexWait` on the word at `byteOffset`, in any process; returns how many. */
  futexWake(byteOffset: number, count: number = ALL_WAITERS): number {
    this.#checkMapped('futexWake');
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > ALL_WAITERS) {
      throw new InvalidArgumentError(`futexWake count must be an integer in [1, ${ALL_WAITERS}], got ${describe(count)}`);
    }
    return futexWakeAt(this.#address + checkWordOffset(byteOffset, this.byteLength), count);
  }

  #checkMapped(operation: string): void {
    // A released range holds private pages: a futex there could never meet the other side.
    if (this.#buffer === null) throw new InvalidArgumentError(`${operation}: mapping of ${this.byteLength} bytes at offset ${this.offset} was unmapped`);
  }
}

import { InvalidArgumentError } from '@simpler/abi';
import { syscallError } from './errors';
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
}

// koffi.view's ArrayBuffer does not own its memory and has no finalizer of its own: munmap while
// a view is reachable would be a use-after-free, so the range is only unmapped once the buffer
// (and with it every typed array over it) has been collected.
const reclaimer = new FinalizationRegistry<MappedRange>((range) => {
  range.live.delete(range);
  requireLibc('munmap').munmap(range.address, range.length);
});

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
  #buffer: ArrayBuffer | null;
  readonly #range: MappedRange;

  /** @internal Built by `SharedMemoryObject.map`, which has checked the mmap result. */
  constructor(range: MappedRange, buffer: ArrayBuffer, offset: number) {
    this.byteLength = range.length;
    this.offset = offset;
    this.#buffer = buffer;
    this.#range = range;
    reclaimer.register(buffer, range);
  }

  /** The mapped memory; the same `ArrayBuffer` on every call. `EINVAL` once released. */
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
    const replaced = libc.mmap(range.address, range.length, PROT_READ_WRITE, MAP_PRIVATE_ANON_FIXED, -1, 0);
    if (replaced === null || replaced === MAP_FAILED) {
      // The shared pages may still be mapped: they stay in the owner's live table (so resize
      // cannot cut them under a stale view) until the finalizer unmaps the range.
      throw syscallError('mmap', libc.errnoName(libc.errno()), `replacing ${range.length} released bytes with private pages`);
    }
    range.live.delete(range);
  }
}

import { markAsUntransferable } from 'node:worker_threads';
import { OutOfMemoryError } from '@simpler/abi';
import { syscallError } from './errors';
import { Libc, MAP_PRIVATE_ANON_FIXED_RESERVED, MAP_SHARED_FIXED, PROT_READ_WRITE } from './native/libc';

/** Where a heap-backed mapping lies: the `ArrayBuffer` V8 allocated and the page-aligned range inside it. */
export interface HeapPlacement {
  /** The buffer whose pages were replaced by the object's pages. */
  readonly buffer: ArrayBuffer;
  /** Offset of the mapped range in `buffer` (the distance to the first page boundary). */
  readonly byteOffset: number;
  /** Page-aligned address of the mapped range. */
  readonly address: bigint;
  /** Length of the mapped range: the mapping's length rounded up to whole pages. */
  readonly span: number;
}

// Buffers whose pages are an object's shared pages. One must not be collected while mapped: its
// allocator would hand shared pages to unrelated code. A failed evacuation keeps it here for good.
const pinned = new Set<ArrayBuffer>();

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Maps `bytes` bytes of `fd` at `offset` over the pages of a fresh `ArrayBuffer` that V8 owns and
 * counts, so its garbage collector sees the memory and frees the address range itself once the
 * buffer is collected after {@link evacuateHeap}. The buffer is pinned until then.
 */
export function mapIntoHeap(libc: Libc, fd: number, bytes: number, offset: number, pageSize: number): HeapPlacement {
  const span = Math.ceil(bytes / pageSize) * pageSize;
  let buffer: ArrayBuffer;
  try {
    // Uninitialised (malloc, not calloc): the pages are about to be replaced, and touching
    // them first would only add page faults and a costlier replacement.
    buffer = Buffer.allocUnsafeSlow(span + pageSize - 1).buffer as ArrayBuffer;
  } catch (error) {
    throw new OutOfMemoryError(`cannot allocate an ArrayBuffer of ${span + pageSize - 1} bytes to map ${bytes} bytes into (${messageOf(error)})`, {
      cause: error,
    });
  }
  const base = libc.address(buffer);
  const byteOffset = (pageSize - Number(base % BigInt(pageSize))) % pageSize;
  const address = base + BigInt(byteOffset);
  pinned.add(buffer);
  // The whole span lies inside the buffer, so MAP_FIXED replaces only pages the buffer owns.
  const mapped = libc.mmap(address, span, PROT_READ_WRITE, MAP_SHARED_FIXED, fd, offset);
  if (mapped !== address) {
    const errno = libc.errnoName(libc.errno());
    // A failed MAP_FIXED may already have removed the buffer's pages: put ordinary ones back.
    if (libc.mmap(address, span, PROT_READ_WRITE, MAP_PRIVATE_ANON_FIXED_RESERVED, -1, 0) === address) pinned.delete(buffer);
    throw syscallError('mmap', errno, `fd ${fd}, length ${span}, offset ${offset}, over a heap buffer`);
  }
  // Transferring it to another thread would move the shared pages out of our control.
  markAsUntransferable(buffer);
  return { buffer, byteOffset, address, span };
}

/**
 * Gives the mapped range back to the buffer's allocator as ordinary zero-filled private pages and
 * unpins the buffer. Views over it stay valid. A buffer that was detached (moved away with
 * `ArrayBuffer.prototype.transfer`) is left alone: its address may belong to someone else by now.
 */
export function evacuateHeap(libc: Libc, placement: HeapPlacement): void {
  const { buffer, address, span } = placement;
  if (buffer.byteLength === 0) {
    pinned.delete(buffer);
    return;
  }
  if (libc.mmap(address, span, PROT_READ_WRITE, MAP_PRIVATE_ANON_FIXED_RESERVED, -1, 0) !== address) {
    throw syscallError('mmap', libc.errnoName(libc.errno()), `replacing ${span} released bytes with private pages`);
  }
  pinned.delete(buffer);
}

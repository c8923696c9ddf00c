import { UnsupportedError } from '@simpler/abi';
import { Libc, loadLibc } from './native/libc';

const loaded = loadLibc();

/** True where memfd_create + mmap are available through koffi (64-bit Linux). */
export const shmSupported: boolean = loaded.libc !== undefined;

/** Why not, when `shmSupported` is false (e.g. `'not Linux (platform darwin)'`); else `undefined`. */
export const shmUnsupportedReason: string | undefined = loaded.reason;

/** The bound libc, or `ENOTSUP` naming the operation and why shared memory is unsupported here. */
export function requireLibc(operation: string): Libc {
  if (loaded.libc) return loaded.libc;
  throw new UnsupportedError(`${operation}: shared memory is not supported here: ${loaded.reason}`);
}

let pageSize = 0;

/** The system page size in bytes; mapping offsets are multiples of it. */
export function systemPageSize(): number {
  if (pageSize === 0) pageSize = requireLibc('systemPageSize').getpagesize();
  return pageSize;
}

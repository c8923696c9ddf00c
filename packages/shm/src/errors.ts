import { BackendError, InvalidArgumentError, OutOfMemoryError, RegionError, UnsupportedError } from '@simpler/abi';

// errno names whose cause is the caller's argument (a bad descriptor, size, offset or access mode).
const ARGUMENT_ERRNOS = new Set(['EINVAL', 'EBADF', 'EACCES', 'EPERM', 'EFBIG', 'ENODEV', 'EOVERFLOW', 'ENXIO']);
// errno names that mean a resource (memory, address space, descriptors) ran out.
const EXHAUSTION_ERRNOS = new Set(['ENOMEM', 'ENOSPC', 'EMFILE', 'ENFILE', 'EAGAIN']);

/**
 * The typed error for a failed system call: `EINVAL` for a bad argument, `ENOMEM` for exhaustion,
 * `ENOTSUP` for a call the kernel lacks, `EIO` otherwise. The message names the call, the errno
 * name and the values it was given.
 */
export function syscallError(call: string, errnoName: string, detail: string): RegionError {
  const message = `${call} failed with ${errnoName} (${detail})`;
  if (ARGUMENT_ERRNOS.has(errnoName)) return new InvalidArgumentError(message);
  if (EXHAUSTION_ERRNOS.has(errnoName)) return new OutOfMemoryError(message);
  if (errnoName === 'ENOSYS') return new UnsupportedError(message);
  return new BackendError(message);
}

/** The typed error for a failed `node:fs` call on a descriptor (its `code` is the errno name). */
export function fsCallError(call: string, error: unknown, detail: string): RegionError {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return syscallError(call, code, detail);
  const message = error instanceof Error ? error.message : String(error);
  return new BackendError(`${call} failed: ${message} (${detail})`, { cause: error });
}

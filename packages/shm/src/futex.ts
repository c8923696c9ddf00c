import { InvalidArgumentError, UnsupportedError, describe } from '@simpler/abi';
import { syscallError } from './errors';
import { FUTEX_WAIT, FUTEX_WAKE, Libc, Timespec } from './native/libc';
import { requireLibc, shmSupported } from './platform';

// SYS_futex per architecture: the generic syscall table (arm64, riscv64, loongarch64) uses 98.
const SYS_FUTEX: Readonly<Record<string, number>> = { x64: 202, arm64: 98, riscv64: 98, loong64: 98, ppc64: 221, s390x: 238 };
const futexNumber: number | undefined = Object.hasOwn(SYS_FUTEX, process.arch) ? SYS_FUTEX[process.arch] : undefined;

/** True where the futex helpers work: shared memory is supported and this CPU's futex call number is known. */
export const futexSupported: boolean = shmSupported && futexNumber !== undefined;

/** How a futex wait ended: woken (possibly spuriously), at its timeout, or at once because the word differed. */
export type FutexWaitResult = 'woken' | 'timed-out' | 'not-equal';

/** Longest single futex wait, in milliseconds (about 24 days: the timeout stays far inside `time_t`). */
export const FUTEX_MAX_TIMEOUT_MS = 0x7fff_ffff;

function futexLibc(operation: string): Libc {
  const libc = requireLibc(operation);
  if (futexNumber === undefined) throw new UnsupportedError(`${operation}: the futex call number of architecture ${process.arch} is not known`);
  return libc;
}

/** Throws `EINVAL` unless `byteOffset` addresses a whole, 4-byte aligned word of a `length`-byte range. */
export function checkWordOffset(byteOffset: unknown, length: number): number {
  if (typeof byteOffset !== 'number' || !Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % 4 !== 0 || byteOffset > length - 4) {
    throw new InvalidArgumentError(`futex word offset must be a multiple of 4 in [0, ${length - 4}], got ${describe(byteOffset)}`);
  }
  return byteOffset;
}

function checkExpected(expected: unknown): number {
  if (typeof expected !== 'number' || !Number.isInteger(expected) || expected < -0x8000_0000 || expected > 0xffff_ffff) {
    throw new InvalidArgumentError(`futex expected value must be an int32 or a u32, got ${describe(expected)}`);
  }
  return expected | 0;
}

function timespecOf(timeoutMs: unknown): Timespec {
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0) || timeoutMs > FUTEX_MAX_TIMEOUT_MS) {
    throw new InvalidArgumentError(`futex timeout must be a number of milliseconds in [0, ${FUTEX_MAX_TIMEOUT_MS}], got ${describe(timeoutMs)}`);
  }
  const seconds = Math.floor(timeoutMs / 1000);
  return { tv_sec: seconds, tv_nsec: Math.min(999_999_999, Math.round((timeoutMs - seconds * 1000) * 1e6)) };
}

/** `FUTEX_WAIT` (shared) on the word at `address` while it holds `expected`, for at most `timeoutMs`. */
export function futexWaitAt(address: number, expected: unknown, timeoutMs: unknown): FutexWaitResult {
  const libc = futexLibc('futexWait');
  const value = checkExpected(expected);
  const timeout = timespecOf(timeoutMs);
  if (libc.futex(futexNumber as number, address, FUTEX_WAIT, value, timeout, null, 0) === 0) return 'woken';
  const errno = libc.errnoName(libc.errno());
  if (errno === 'ETIMEDOUT') return 'timed-out';
  if (errno === 'EAGAIN') return 'not-equal';
  if (errno === 'EINTR') return 'woken';
  throw syscallError('futex', errno, `FUTEX_WAIT, expected ${value}, timeout ${String(timeoutMs)} ms`);
}

/** `FUTEX_WAIT` on a libuv pool thread: resolves when woken, at once if the word differs, or at the timeout. */
export function futexWaitAsyncAt(address: number, expected: unknown, timeoutMs: unknown): Promise<void> {
  const libc = futexLibc('futexWaitAsync');
  const value = checkExpected(expected);
  const timeout = timespecOf(timeoutMs);
  return new Promise<void>((resolve, reject) => {
    libc.futex.async(futexNumber as number, address, FUTEX_WAIT, value, timeout, null, 0, (error) => {
      // errno of a pool thread is out of reach: every ending means "look at the word again".
      if (error) reject(syscallError('futex', 'EIO', `asynchronous FUTEX_WAIT failed: ${String(error)}`));
      else resolve();
    });
  });
}

/** `FUTEX_WAKE` (shared) on the word at `address`: wakes up to `count` waiters, returns how many. */
export function futexWakeAt(address: number, count: number): number {
  const libc = futexLibc('futexWake');
  const woken = libc.futex(futexNumber as number, address, FUTEX_WAKE, count, null, null, 0);
  if (woken < 0) throw syscallError('futex', libc.errnoName(libc.errno()), `FUTEX_WAKE of ${count} waiter(s)`);
  return woken;
}

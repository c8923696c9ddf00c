import { InvalidArgumentError, describe } from '@simpler/abi';

/** Throws `EINVAL` unless `value` is an integer in `[min, Number.MAX_SAFE_INTEGER]`. */
export function checkByteCount(what: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(`${what} must be an integer in [${min}, 2^53 - 1], got ${describe(value)}`);
  }
  return value;
}

/** Throws `EINVAL` unless `value` can be a file descriptor (an integer in `[0, 2^31 - 1]`). */
export function checkFd(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0x7fff_ffff) {
    throw new InvalidArgumentError(`fd must be an integer in [0, 2^31 - 1], got ${describe(value)}`);
  }
  return value;
}

/** Linux caps a memfd name at 249 bytes (it appears as `/memfd:<name>` in `/proc/<pid>/maps`). */
export const MAX_DEBUG_NAME_BYTES = 249;

/** Throws `EINVAL` unless `value` is a usable memfd name. */
export function checkDebugName(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.includes('\0') || Buffer.byteLength(value) > MAX_DEBUG_NAME_BYTES) {
    throw new InvalidArgumentError(`debugName must be a non-empty string of at most ${MAX_DEBUG_NAME_BYTES} bytes without NUL, got ${describe(value)}`);
  }
  return value;
}

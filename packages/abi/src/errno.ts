/** The error codes of spec section 5, as the string `code` carried by every thrown error. */
export type RegionErrorCode = 'EINVAL' | 'EAGAIN' | 'ENOMEM' | 'EIO' | 'ENOTSUP';

/** Negative errno values of spec section 5 (Linux numbering, as the C ABI returns them). */
export const ERRNO = Object.freeze({
  EINVAL: -22,
  EAGAIN: -11,
  ENOMEM: -12,
  EIO: -5,
  ENOTSUP: -95,
} as const satisfies Record<RegionErrorCode, number>);

/** Every error code, in the order of the spec's table. */
export const ERROR_CODES: readonly RegionErrorCode[] = Object.freeze(['EINVAL', 'EAGAIN', 'ENOMEM', 'EIO', 'ENOTSUP']);

/** The code for a negative errno, or `undefined` when the number is not one of ours. */
export function codeForErrno(errno: number): RegionErrorCode | undefined {
  for (const code of ERROR_CODES) if (ERRNO[code] === errno) return code;
  return undefined;
}

/** When each code is used (spec section 5), for generated docs and other toolchains. */
export const ERRNO_DESCRIPTIONS: Readonly<Record<RegionErrorCode, string>> = Object.freeze({
  EINVAL: 'Invalid context, handle, config, range, signal id, value or argument.',
  EAGAIN: 'A probe that misses, or a bounded wait that reaches its deadline.',
  ENOMEM: 'Allocation or bookkeeping failure.',
  EIO: 'The backend failed: mapping, driver call, lost chip child.',
  ENOTSUP: 'The backend or platform does not provide this.',
});

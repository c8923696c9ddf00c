import { ERRNO, RegionErrorCode, codeForErrno } from './errno';

/**
 * Brand on `RegionError.prototype`. `Symbol.for` is process-global, so an error built by a second
 * installed copy of this package carries the same brand, while a Node system error that happens
 * to have `code: 'EINVAL'` and `errno: -22` does not.
 */
const REGION_ERROR_BRAND = Symbol.for('@simpler/abi.RegionError');

/**
 * Base class of every error this project throws. Carries `code` and a negative `errno`,
 * like Node's own system errors.
 *
 * @example
 * try { await worker.mappedRegionWait(region, 1, 5, 1000); }
 * catch (e) { if (isRegionError(e) && e.code === 'EAGAIN') retry(); else throw e; }
 */
export class RegionError extends Error {
  /** The spec's error code. */
  readonly code: RegionErrorCode;
  /** The negative errno matching `code`. */
  readonly errno: number;

  constructor(code: RegionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.errno = ERRNO[code];
    this.name = new.target.name;
  }
}

Object.defineProperty(RegionError.prototype, REGION_ERROR_BRAND, { value: true });

/** `EINVAL`: an invalid context, handle, config, range, signal id, value or argument. */
export class InvalidArgumentError extends RegionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EINVAL', message, options);
  }
}

/** `EAGAIN`: a probe that missed, or a bounded wait that reached its deadline. */
export class WaitTimeoutError extends RegionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EAGAIN', message, options);
  }
}

/** `ENOMEM`: allocation or bookkeeping failure. */
export class OutOfMemoryError extends RegionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ENOMEM', message, options);
  }
}

/** `EIO`: the backend failed (mapping, driver call, lost chip child). */
export class BackendError extends RegionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EIO', message, options);
  }
}

/** `ENOTSUP`: the backend or platform does not provide this operation. */
export class UnsupportedError extends RegionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ENOTSUP', message, options);
  }
}

const CLASS_FOR_CODE = {
  EINVAL: InvalidArgumentError,
  EAGAIN: WaitTimeoutError,
  ENOMEM: OutOfMemoryError,
  EIO: BackendError,
  ENOTSUP: UnsupportedError,
} as const;

/**
 * True for any error of ours, even from a duplicate install of this package: it checks a
 * process-global brand and a consistent `code`/`errno` pair, not `instanceof`.
 */
export function isRegionError(value: unknown): value is RegionError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { code?: unknown; errno?: unknown; [REGION_ERROR_BRAND]?: unknown };
  if (v[REGION_ERROR_BRAND] !== true) return false;
  return typeof v.code === 'string' && Object.hasOwn(ERRNO, v.code) && ERRNO[v.code as RegionErrorCode] === v.errno;
}

/** Builds the right subclass for a code. */
export function regionErrorForCode(code: RegionErrorCode, message: string, options?: { cause?: unknown }): RegionError {
  return new CLASS_FOR_CODE[code](message, options);
}

/** Builds the right subclass for a negative errno; unknown numbers become `EIO`. */
export function regionErrorForErrno(errno: number, message: string): RegionError {
  const code = codeForErrno(errno);
  return code ? regionErrorForCode(code, message) : new BackendError(`${message} (unknown errno ${errno})`);
}

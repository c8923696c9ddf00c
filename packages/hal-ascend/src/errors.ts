import { BackendError, OutOfMemoryError, RegionError } from '@simpler/abi';

/** `DRV_ERROR_NONE`: driver success. */
export const DRV_ERROR_NONE = 0;
/** `ACL_SUCCESS`: runtime success. */
export const ACL_SUCCESS = 0;
/** `ACL_ERROR_REPEAT_INITIALIZE`: aclInit was already called in this process; treated as success. */
export const ACL_ERROR_REPEAT_INITIALIZE = 100002;
/** `ACL_ERROR_BAD_ALLOC`: the runtime could not allocate memory. */
export const ACL_ERROR_BAD_ALLOC = 200000;
/** `ACL_ERROR_RT_MEMORY_ALLOCATION`: the device memory allocation was refused. */
export const ACL_ERROR_RT_MEMORY_ALLOCATION = 207001;

/** aclrtMalloc return codes that mean "not enough memory" and become `ENOMEM`; any other code is `EIO`. */
export const ACL_OUT_OF_MEMORY_CODES: readonly number[] = Object.freeze([ACL_ERROR_BAD_ALLOC, ACL_ERROR_RT_MEMORY_ALLOCATION]);

// Names make messages searchable in the CANN documentation; unknown codes print as numbers.
const ACL_CODE_NAMES: Readonly<Record<number, string>> = {
  100000: 'ACL_ERROR_INVALID_PARAM',
  100001: 'ACL_ERROR_UNINITIALIZE',
  100002: 'ACL_ERROR_REPEAT_INITIALIZE',
  100037: 'ACL_ERROR_REPEAT_FINALIZE',
  107000: 'ACL_ERROR_RT_PARAM_INVALID',
  107001: 'ACL_ERROR_RT_INVALID_DEVICEID',
  107002: 'ACL_ERROR_RT_CONTEXT_NULL',
  200000: 'ACL_ERROR_BAD_ALLOC',
  207001: 'ACL_ERROR_RT_MEMORY_ALLOCATION',
  207002: 'ACL_ERROR_RT_MEMORY_FREE',
};

const DRV_CODE_NAMES: Readonly<Record<number, string>> = {
  1: 'DRV_ERROR_NO_DEVICE',
  2: 'DRV_ERROR_INVALID_DEVICE',
  3: 'DRV_ERROR_INVALID_VALUE',
  4: 'DRV_ERROR_INVALID_HANDLE',
  6: 'DRV_ERROR_OUT_OF_MEMORY',
};

/** Which library a return code came from: the names differ. */
export type CodeSource = 'driver' | 'runtime';

/** Formats a return code with its CANN name when known, e.g. `207001 (ACL_ERROR_RT_MEMORY_ALLOCATION)`. */
export function describeCode(source: CodeSource, code: number): string {
  const name = (source === 'driver' ? DRV_CODE_NAMES : ACL_CODE_NAMES)[code];
  return name ? `${code} (${name})` : String(code);
}

/** `EIO` for a failed driver or runtime call, naming the call and its return code. */
export function callFailed(source: CodeSource, call: string, code: number, context: string): BackendError {
  return new BackendError(`${call} failed with return code ${describeCode(source, code)} ${context}`);
}

/** The error for a failed aclrtMalloc: `ENOMEM` for an allocation refusal, `EIO` otherwise. */
export function mallocFailed(code: number, totalBytes: number, deviceId: number): RegionError {
  const what = `aclrtMalloc of ${totalBytes} bytes on device ${deviceId} failed with return code ${describeCode('runtime', code)}`;
  return ACL_OUT_OF_MEMORY_CODES.includes(code) ? new OutOfMemoryError(what) : new BackendError(what);
}

/** Joins several failures of one operation into one `EIO`, keeping the first as the cause. */
export function combineFailures(operation: string, failures: readonly Error[]): BackendError {
  if (failures.length === 1 && failures[0] instanceof BackendError) return failures[0];
  return new BackendError(`${operation}: ${failures.map((f) => f.message).join('; ')}`, { cause: failures[0] });
}

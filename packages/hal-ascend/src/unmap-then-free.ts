import { ACL_SUCCESS, DRV_ERROR_NONE, callFailed } from './errors';
import { deviceLabel } from './device-ids';
import { DriverApi } from './native/driver-api';
import { RuntimeApi } from './native/runtime-api';

/** The calls and ids that tear down device memory. */
export interface TeardownApi {
  /** The driver functions. */
  readonly driver: DriverApi;
  /** The runtime functions. */
  readonly runtime: RuntimeApi;
  /** The user-visible device id. */
  readonly deviceId: number;
  /** The driver's id of the device (halHostRegister/halHostUnregister). */
  readonly logicalDeviceId: number;
}

/** How far a teardown got: freed, still mapped (nothing freed), or unmapped but not freed. */
export type TeardownStage = 'freed' | 'mapped' | 'unfreed';

/** `(device 0 (logical 3), device pointer 0x…, 4096 bytes)`: the pair a message is about. */
export function pairContext(api: TeardownApi, devicePointer: bigint, byteLength: number): string {
  return `(${deviceLabel(api.deviceId, api.logicalDeviceId)}, device pointer 0x${devicePointer.toString(16)}, ${byteLength} bytes)`;
}

/**
 * halHostUnregister, then aclrtFree only when the unmap succeeded: device memory whose host
 * mapping may still exist is never freed, or a later allocation could be reached through the
 * stale mapping. Failures (`EIO`) are appended to `failures`. `retry` is the last attempt, made
 * when the backend is destroyed.
 */
export function unmapThenFree(api: TeardownApi, devicePointer: bigint, byteLength: number, failures: Error[], retry = false): TeardownStage {
  const context = pairContext(api, devicePointer, byteLength);
  const again = retry ? ' (retry)' : '';
  const urc = api.driver.halHostUnregister(devicePointer, api.logicalDeviceId);
  if (urc !== DRV_ERROR_NONE) {
    const fate = retry
      ? 'the device memory stays allocated and mapped (quarantined) for the life of the process'
      : 'the device memory stays allocated and mapped (quarantined); the unregister, then the free, are retried when the backend is destroyed';
    failures.push(callFailed('driver', `halHostUnregister${again}`, urc, `${context}; ${fate}`));
    return 'mapped';
  }
  return freeDeviceMemory(api, devicePointer, failures, retry ? `${context}` : `${context}; the free is retried when the backend is destroyed`, again)
    ? 'freed'
    : 'unfreed';
}

/** aclrtFree; appends an `EIO` to `failures` and returns false when it fails. */
export function freeDeviceMemory(api: TeardownApi, devicePointer: bigint, failures: Error[], context: string, suffix = ''): boolean {
  const rc = api.runtime.aclrtFree(devicePointer);
  if (rc === ACL_SUCCESS) return true;
  failures.push(callFailed('runtime', `aclrtFree${suffix}`, rc, context));
  return false;
}

import { BackendError, describe } from '@simpler/abi';
import { ACL_SUCCESS, callFailed } from './errors';
import { RuntimeApi } from './native/runtime-api';

/** How the driver's id of a device is obtained from the user-visible id. */
export type DeviceIdConversion = 'aclrtGetLogicDevIdByUserDevId' | 'unchanged';

/** The id the driver knows a device by, and how it was obtained. */
export interface DriverDeviceId {
  /** The logical id, for halHostRegister and halHostUnregister. */
  readonly logicalDeviceId: number;
  /** `unchanged` when the runtime cannot convert, so the user-visible id is passed as it is. */
  readonly conversion: DeviceIdConversion;
}

/** What the capability report says about device ids. */
export interface DeviceIdReport {
  /** The conversion a backend would use; `unknown` when the runtime library did not load. */
  readonly conversion: DeviceIdConversion | 'unknown';
  /** Why, in one sentence. */
  readonly reason: string;
}

const CONVERTED = 'halHostRegister and halHostUnregister get the logical id from aclrtGetLogicDevIdByUserDevId';
const UNCHANGED =
  'the ACL runtime library does not export aclrtGetLogicDevIdByUserDevId, so halHostRegister and halHostUnregister get the ' +
  'user-visible device id unchanged (right only while no ASCEND_RT_VISIBLE_DEVICES remapping applies)';

/**
 * The driver library numbers devices by logical id while the runtime and users number them by
 * the user-visible id (which ASCEND_RT_VISIBLE_DEVICES remaps), so the id is converted the way
 * HCCL does it when the runtime can. Needs aclInit. `EIO` when the runtime refuses.
 */
export function driverDeviceId(runtime: RuntimeApi, userDeviceId: number, runtimePath: string): DriverDeviceId {
  const convert = runtime.aclrtGetLogicDevIdByUserDevId;
  if (convert === undefined) return { logicalDeviceId: userDeviceId, conversion: 'unchanged' };
  const out: [number | null] = [null];
  const rc = convert(userDeviceId, out);
  if (rc !== ACL_SUCCESS) {
    throw callFailed('runtime', `aclrtGetLogicDevIdByUserDevId(${userDeviceId})`, rc, `(runtime library ${runtimePath})`);
  }
  const logical = out[0];
  if (typeof logical !== 'number' || !Number.isInteger(logical) || logical < 0) {
    throw new BackendError(`aclrtGetLogicDevIdByUserDevId(${userDeviceId}) returned success but logical id ${describe(logical)} (runtime library ${runtimePath})`);
  }
  return { logicalDeviceId: logical, conversion: 'aclrtGetLogicDevIdByUserDevId' };
}

/** The device id part of the capability report; `exported` is undefined when the runtime did not load. */
export function deviceIdReport(exported: boolean | undefined): DeviceIdReport {
  if (exported === undefined) {
    return { conversion: 'unknown', reason: 'the ACL runtime library did not load, so whether device ids can be converted is unknown' };
  }
  return exported ? { conversion: 'aclrtGetLogicDevIdByUserDevId', reason: CONVERTED } : { conversion: 'unchanged', reason: UNCHANGED };
}

/** Names a device in messages: the user-visible id, and the logical one when it differs. */
export function deviceLabel(deviceId: number, logicalDeviceId: number): string {
  return logicalDeviceId === deviceId ? `device ${deviceId}` : `device ${deviceId} (logical ${logicalDeviceId})`;
}

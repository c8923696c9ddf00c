export { BACKEND_NAME, AscendBackend, createBackend } from './ascend-backend';
export { AscendAllocation, CacheMaintainedAllocation } from './ascend-allocation';
export type { AscendBackendOptions } from './backend-options';
export { ascendCapabilities } from './ascend-capabilities';
export { ascendQuarantine } from './quarantine';
export type { QuarantineReport } from './quarantine';
export type { DeviceIdConversion, DeviceIdReport } from './device-ids';
export type { AscendCapabilities, AscendCapabilitiesOptions, LibraryReport } from './ascend-capabilities';
export { CACHE_MAINTENANCE_SYMBOLS, hostOrderingSupport } from './host-ordering';
export type { CacheMaintenanceSymbols, HostOrderingSupport } from './host-ordering';
export {
  ACL_SUCCESS,
  DRV_ERROR_NONE,
  ACL_ERROR_REPEAT_INITIALIZE,
  ACL_ERROR_BAD_ALLOC,
  ACL_ERROR_RT_MEMORY_ALLOCATION,
  ACL_OUT_OF_MEMORY_CODES,
  describeCode,
} from './errors';
export { LIBRARY_ENV_VARS, librarySearch } from './native/load-libraries';
export type { LibraryKind, LibrarySearch } from './native/load-libraries';
export type { DriverApi } from './native/driver-api';
export type { RuntimeApi } from './native/runtime-api';

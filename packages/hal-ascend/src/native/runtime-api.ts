/**
 * The slice of the Ascend runtime (`libascendcl.so`, or `libacl_rt.so`) this backend uses, as a
 * structural interface. Pointers are koffi pointers (`bigint`); out-parameters are one-element arrays.
 */
export interface RuntimeApi {
  /** `aclError aclInit(const char *configPath)`; `null` means no configuration file. */
  aclInit(configPath: string | null): number;
  /** `aclError aclrtSetDevice(int32_t deviceId)` */
  aclrtSetDevice(deviceId: number): number;
  /** `aclError aclrtGetDeviceCount(uint32_t *count)` */
  aclrtGetDeviceCount(count: [number | null]): number;
  /** `aclError aclrtMalloc(void **devPtr, size_t size, aclrtMemMallocPolicy policy)` */
  aclrtMalloc(devPtr: [bigint | null], size: number, policy: number): number;
  /** `aclError aclrtFree(void *devPtr)` */
  aclrtFree(devPtr: bigint): number;
  /** `aclError aclrtResetDevice(int32_t deviceId)` */
  aclrtResetDevice(deviceId: number): number;
  /** `aclError aclFinalize(void)` */
  aclFinalize(): number;
  /** `aclError aclrtGetLogicDevIdByUserDevId(const int32_t userDevid, int32_t *const logicDevId)`: the driver's id of a device; optional. */
  aclrtGetLogicDevIdByUserDevId?: (userDevid: number, logicDevId: [number | null]) => number;
  /** `aclError aclrtMemFlush(void *devPtr, size_t size)`: clean + invalidate a device range; optional. */
  aclrtMemFlush?: (devPtr: number | bigint, size: number) => number;
  /** `aclError aclrtMemInvalidate(void *devPtr, size_t size)`: invalidate a device range; optional. */
  aclrtMemInvalidate?: (devPtr: number | bigint, size: number) => number;
}

/** C prototypes koffi binds, by symbol (`aclrtMemMallocPolicy` is an int-sized enum). */
export const RUNTIME_PROTOTYPES = {
  aclInit: 'int aclInit(const char *configPath)',
  aclrtSetDevice: 'int aclrtSetDevice(int32_t deviceId)',
  aclrtGetDeviceCount: 'int aclrtGetDeviceCount(_Out_ uint32_t *count)',
  aclrtMalloc: 'int aclrtMalloc(_Out_ void **devPtr, size_t size, int policy)',
  aclrtFree: 'int aclrtFree(void *devPtr)',
  aclrtResetDevice: 'int aclrtResetDevice(int32_t deviceId)',
  aclFinalize: 'int aclFinalize(void)',
  aclrtGetLogicDevIdByUserDevId: 'int aclrtGetLogicDevIdByUserDevId(int32_t userDevid, _Out_ int32_t *logicDevId)',
  // The address is declared as uintptr_t (passed exactly like void * on LP64) so the cache hooks
  // can hand koffi a plain number on the hot path instead of building a BigInt per call.
  aclrtMemFlush: 'int aclrtMemFlush(uintptr_t devPtr, size_t size)',
  aclrtMemInvalidate: 'int aclrtMemInvalidate(uintptr_t devPtr, size_t size)',
} as const;

/** Runtime symbols the backend cannot work without. */
export const REQUIRED_RUNTIME_SYMBOLS = [
  'aclInit',
  'aclrtSetDevice',
  'aclrtGetDeviceCount',
  'aclrtMalloc',
  'aclrtFree',
  'aclrtResetDevice',
  'aclFinalize',
] as const;

/**
 * Runtime symbols probed once: the device id conversion is used when present (older runtimes
 * lack it), the cache-maintenance pair is needed on aarch64 hosts only.
 */
export const OPTIONAL_RUNTIME_SYMBOLS = ['aclrtGetLogicDevIdByUserDevId', 'aclrtMemFlush', 'aclrtMemInvalidate'] as const;

/** `ACL_MEM_MALLOC_HUGE_FIRST`: huge pages when available, normal pages otherwise. */
export const ACL_MEM_MALLOC_HUGE_FIRST = 0;

/**
 * The slice of the Ascend driver (`libascend_hal.so`) this backend uses, as a structural
 * interface. Pointers are koffi pointers (`bigint`); out-parameters are one-element arrays.
 */
export interface DriverApi {
  /** `drvError_t halHostRegister(void *src, UINT64 size, UINT32 flag, UINT32 devid, void **dst)` */
  halHostRegister(src: bigint, size: number, flag: number, devid: number, dst: [bigint | null]): number;
  /** `drvError_t halHostUnregister(void *src, UINT32 devid)`: `src` is the pointer that was registered. */
  halHostUnregister(src: bigint, devid: number): number;
  /** `drvError_t halHostUnregisterEx(void *src, UINT32 devid, UINT32 flag)`; absent in older drivers. */
  halHostUnregisterEx?: (src: bigint, devid: number, flag: number) => number;
}

/** C prototypes koffi binds, by symbol. Required symbols first. */
export const DRIVER_PROTOTYPES = {
  halHostRegister: 'int halHostRegister(void *src, uint64_t size, uint32_t flag, uint32_t devid, _Out_ void **dst)',
  halHostUnregister: 'int halHostUnregister(void *src, uint32_t devid)',
  halHostUnregisterEx: 'int halHostUnregisterEx(void *src, uint32_t devid, uint32_t flag)',
} as const;

/** Driver symbols the backend cannot work without. */
export const REQUIRED_DRIVER_SYMBOLS = ['halHostRegister', 'halHostUnregister'] as const;

/** Driver symbols that are probed once and used or reported when present. */
export const OPTIONAL_DRIVER_SYMBOLS = ['halHostUnregisterEx'] as const;

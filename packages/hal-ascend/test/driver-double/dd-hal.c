/*
 * Test-double libascend_hal.so: the driver entry points with the CANN signatures.
 * Build with -DOMIT_<NAME> to leave a symbol out (e.g. -DOMIT_HALHOSTREGISTER).
 */
#include "dd-internal.h"

#define DD_EXPORT __attribute__((visibility("default")))

#ifndef OMIT_HALHOSTREGISTER
DD_EXPORT int halHostRegister(void *src, uint64_t size, uint32_t flag, uint32_t devid, void **dst) {
  return ddi_hal_host_register(src, size, flag, devid, dst);
}
#endif

#ifndef OMIT_HALHOSTUNREGISTER
DD_EXPORT int halHostUnregister(void *src, uint32_t devid) {
  return ddi_hal_host_unregister(src, devid);
}
#endif

#ifndef OMIT_HALHOSTUNREGISTEREX
DD_EXPORT int halHostUnregisterEx(void *src, uint32_t devid, uint32_t flag) {
  return ddi_hal_host_unregister_ex(src, devid, flag);
}
#endif

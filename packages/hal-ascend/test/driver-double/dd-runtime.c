/*
 * Test-double runtime library (libascendcl.so or libacl_rt.so): the ACL entry points with the
 * CANN signatures. Build with -DOMIT_<NAME> to leave a symbol out (e.g. -DOMIT_ACLRTMALLOC).
 */
#include "dd-internal.h"

#define DD_EXPORT __attribute__((visibility("default")))

#ifndef OMIT_ACLINIT
DD_EXPORT int aclInit(const char *config_path) { return ddi_acl_init(config_path); }
#endif

#ifndef OMIT_ACLRTSETDEVICE
DD_EXPORT int aclrtSetDevice(int32_t device_id) { return ddi_acl_set_device(device_id); }
#endif

#ifndef OMIT_ACLRTGETDEVICECOUNT
DD_EXPORT int aclrtGetDeviceCount(uint32_t *count) { return ddi_acl_get_device_count(count); }
#endif

#ifndef OMIT_ACLRTGETLOGICDEVIDBYUSERDEVID
DD_EXPORT int aclrtGetLogicDevIdByUserDevId(const int32_t user_dev_id, int32_t *const logic_dev_id) {
  return ddi_acl_get_logic_dev_id(user_dev_id, logic_dev_id);
}
#endif

#ifndef OMIT_ACLRTMALLOC
DD_EXPORT int aclrtMalloc(void **dev_ptr, size_t size, int policy) { return ddi_acl_malloc(dev_ptr, size, policy); }
#endif

#ifndef OMIT_ACLRTFREE
DD_EXPORT int aclrtFree(void *dev_ptr) { return ddi_acl_free(dev_ptr); }
#endif

#ifndef OMIT_ACLRTRESETDEVICE
DD_EXPORT int aclrtResetDevice(int32_t device_id) { return ddi_acl_reset_device(device_id); }
#endif

#ifndef OMIT_ACLFINALIZE
DD_EXPORT int aclFinalize(void) { return ddi_acl_finalize(); }
#endif

#ifndef OMIT_ACLRTMEMFLUSH
DD_EXPORT int aclrtMemFlush(void *dev_ptr, size_t size) { return ddi_acl_mem_flush(dev_ptr, size); }
#endif

#ifndef OMIT_ACLRTMEMINVALIDATE
DD_EXPORT int aclrtMemInvalidate(void *dev_ptr, size_t size) { return ddi_acl_mem_invalidate(dev_ptr, size); }
#endif

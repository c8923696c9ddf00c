/*
 * Test-double Ascend driver: the entry points the thin public libraries forward to.
 * The state (allocations, registrations, call log, injected failures, device thread) lives in
 * one shared core library so the driver library and the runtime library see the same memory,
 * exactly as libascend_hal.so and libascendcl.so share one device on real hardware.
 */
#ifndef DD_INTERNAL_H
#define DD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

int ddi_hal_host_register(void *src, uint64_t size, uint32_t flag, uint32_t devid, void **dst);
int ddi_hal_host_unregister(void *src, uint32_t devid);
int ddi_hal_host_unregister_ex(void *src, uint32_t devid, uint32_t flag);

int ddi_acl_init(const char *config_path);
int ddi_acl_set_device(int32_t device_id);
int ddi_acl_get_device_count(uint32_t *count);
int ddi_acl_malloc(void **dev_ptr, size_t size, int policy);
int ddi_acl_free(void *dev_ptr);
int ddi_acl_reset_device(int32_t device_id);
int ddi_acl_finalize(void);
int ddi_acl_mem_flush(void *dev_ptr, size_t size);
int ddi_acl_mem_invalidate(void *dev_ptr, size_t size);

int ddi_acl_get_logic_dev_id(int32_t user_dev_id, int32_t *logic_dev_id);

/* Remaps a user-visible device id to a logical one; as_loaded also makes it what dd_reset restores. */
int ddi_set_logical_device(int32_t user, int32_t logical, int as_loaded);

/* True when [addr, addr + len) lies inside one live device allocation (device addresses). */
int ddi_inside_device_memory(uint64_t addr, uint64_t len);

#endif

/*
 * A toy owner-process layer holding one region in static memory, with the seven entry points
 * defined by the original design's exact signatures. The generated header is included first, so
 * a header that drifts from those signatures is a conflicting declaration here. It proves the
 * header links from C and C++ and that a handle token survives the pointer-sized handle type;
 * the project's real owner-process layer is the TypeScript device context.
 */
#include <string.h>

#include "simpler/hdmr_abi.h"

#define DATA_CAPACITY 4096u
#define SIGNAL_CAPACITY 8u
/* Bits set in both 32-bit halves and below 2^53, so a handle truncated anywhere would not match. */
#define TOKEN UINT64_C(0x1A2B3C4D5E6F7)

static DeviceContextHandle owner; /* the context holding the open region; NULL when none is open */
static uint64_t data_bytes;
static uint32_t signal_count;
static unsigned char data[DATA_CAPACITY];
static uint32_t signals[SIGNAL_CAPACITY];

static int registered(DeviceContextHandle ctx, HostDeviceMappedRegionHandle region) {
  return ctx != NULL && ctx == owner && (uint64_t)(uintptr_t)region == TOKEN;
}

/* The subtraction form: offset + nbytes is never computed. */
static int in_range(uint64_t offset, size_t nbytes) { return offset <= data_bytes && nbytes <= data_bytes - offset; }

int open_host_device_mapped_region_ctx(DeviceContextHandle ctx, const HostDeviceMappedRegionConfig *cfg,
                                       HostDeviceMappedRegionHandle *out_region) {
  if (ctx == NULL || cfg == NULL || out_region == NULL) return HDMR_EINVAL;
  if (cfg->data_bytes == 0 || cfg->signal_count == 0 || cfg->flags != 0) return HDMR_EINVAL;
  if (owner != NULL || cfg->data_bytes > DATA_CAPACITY || cfg->signal_count > SIGNAL_CAPACITY) return HDMR_ENOMEM;
  owner = ctx;
  data_bytes = cfg->data_bytes;
  signal_count = cfg->signal_count;
  memset(data, 0, sizeof data);
  memset(signals, 0, sizeof signals);
  *out_region = (HostDeviceMappedRegionHandle)(uintptr_t)TOKEN;
  return 0;
}

int close_host_device_mapped_region_ctx(DeviceContextHandle ctx, HostDeviceMappedRegionHandle region) {
  if (!registered(ctx, region)) return HDMR_EINVAL;
  owner = NULL;
  return 0;
}

int host_device_mapped_region_info_ctx(DeviceContextHandle ctx, HostDeviceMappedRegionHandle region,
                                       HostDeviceMappedRegionInfo *info) {
  uint64_t data_offset = HDMR_SIGNAL_OFFSET + (uint64_t)signal_count * HDMR_SIGNAL_SLOT_BYTES;
  if (!registered(ctx, region) || info == NULL) return HDMR_EINVAL;
  memset(info, 0, sizeof *info);
  info->data_bytes = data_bytes;
  info->signal_count = signal_count;
  info->total_bytes = (data_offset + data_bytes + HDMR_REGION_ALIGN - 1) / HDMR_REGION_ALIGN * HDMR_REGION_ALIGN;
  return 0;
}

int host_device_mapped_region_datacopy_h2region_ctx(DeviceContextHandle ctx, HostDeviceMappedRegionHandle region,
                                                    uint64_t offset, const void *src, size_t nbytes) {
  if (!registered(ctx, region) || !in_range(offset, nbytes) || (src == NULL && nbytes != 0)) return HDMR_EINVAL;
  if (nbytes != 0) memcpy(data + offset, src, nbytes);
  return 0;
}

int host_device_mapped_region_datacopy_region2h_ctx(DeviceContextHandle ctx, HostDeviceMappedRegionHandle region,
                                                    uint64_t offset, void *dst, size_t nbytes) {
  if (!registered(ctx, region) || !in_range(offset, nbytes) || (dst == NULL && nbytes != 0)) return HDMR_EINVAL;
  if (nbytes != 0) memcpy(dst, data + offset, nbytes);
  return 0;
}

int host_device_mapped_region_notify_ctx(DeviceContextHandle ctx, HostDeviceMappedRegionHandle region,
                                         uint32_t signal_id, uint32_t value) {
  if (!registered(ctx, region) || signal_id >= signal_count || value < signals[signal_id]) return HDMR_EINVAL;
  signals[signal_id] = value;
  return 0;
}

int host_device_mapped_region_wait_ctx(DeviceContextHandle ctx, HostDeviceMappedRegionHandle region,
                                       uint32_t signal_id, uint32_t target, uint32_t timeout_us) {
  /* Nothing else runs in this toy, so a value that is not there now never arrives: answer as a probe. */
  (void)timeout_us;
  if (!registered(ctx, region) || signal_id >= signal_count) return HDMR_EINVAL;
  return signals[signal_id] >= target ? 0 : HDMR_EAGAIN;
}

/*
 * The C API of the original design, written out by hand: each entry point's exact name and
 * parameter list, one per line (native-toolchains.test.ts reads these lines too). The generated
 * header must declare exactly these; an X-macro lets each test unit expand them as it needs.
 */
#ifndef SIMPLER_HDMR_ORIGINAL_API_H
#define SIMPLER_HDMR_ORIGINAL_API_H

#define HDMR_ORIGINAL_API(X) \
  X(open_host_device_mapped_region_ctx, (DeviceContextHandle ctx, const HostDeviceMappedRegionConfig *cfg, HostDeviceMappedRegionHandle *out_region)) \
  X(close_host_device_mapped_region_ctx, (DeviceContextHandle ctx, HostDeviceMappedRegionHandle region)) \
  X(host_device_mapped_region_info_ctx, (DeviceContextHandle ctx, HostDeviceMappedRegionHandle region, HostDeviceMappedRegionInfo *info)) \
  X(host_device_mapped_region_datacopy_h2region_ctx, (DeviceContextHandle ctx, HostDeviceMappedRegionHandle region, uint64_t offset, const void *src, size_t nbytes)) \
  X(host_device_mapped_region_datacopy_region2h_ctx, (DeviceContextHandle ctx, HostDeviceMappedRegionHandle region, uint64_t offset, void *dst, size_t nbytes)) \
  X(host_device_mapped_region_notify_ctx, (DeviceContextHandle ctx, HostDeviceMappedRegionHandle region, uint32_t signal_id, uint32_t value)) \
  X(host_device_mapped_region_wait_ctx, (DeviceContextHandle ctx, HostDeviceMappedRegionHandle region, uint32_t signal_id, uint32_t target, uint32_t timeout_us))

#endif /* SIMPLER_HDMR_ORIGINAL_API_H */

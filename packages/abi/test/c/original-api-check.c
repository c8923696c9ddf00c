/*
 * Holds the generated header to the original design's C API. Every entry point of the header is
 * assigned to a function pointer whose type is spelled with the original signature, so a renamed
 * function or a changed parameter type stops this file compiling (C with -Werror, C++ always).
 * main() then makes the seven calls through those pointers, against original-api-impl.c which
 * defines them with the original signatures, and prints one "<step> <rc>" line per call.
 * Valid as C11 and as C++17.
 */
#include <stdio.h>
#include <string.h>

#include "simpler/hdmr_abi.h"
#include "original-api.h"

#ifdef __cplusplus
#include <type_traits>
static_assert(std::is_same<DeviceContextHandle, void *>::value, "DeviceContextHandle is void *");
static_assert(std::is_same<HostDeviceMappedRegionHandle, void *>::value, "HostDeviceMappedRegionHandle is void *");
#else
_Static_assert(_Generic((DeviceContextHandle)0, void *: 1, default: 0), "DeviceContextHandle is void *");
_Static_assert(_Generic((HostDeviceMappedRegionHandle)0, void *: 1, default: 0), "HostDeviceMappedRegionHandle is void *");
#endif

#define CHECK_ORIGINAL(name, params) \
  typedef int(*name##_original) params; \
  static name##_original const name##_checked = name;
HDMR_ORIGINAL_API(CHECK_ORIGINAL)

static void report(const char *step, int rc) { printf("%s %d\n", step, rc); }

static int context_storage;

int main(void) {
  DeviceContextHandle ctx = &context_storage;
  HostDeviceMappedRegionHandle region = NULL;
  HostDeviceMappedRegionConfig cfg;
  HostDeviceMappedRegionInfo info;
  char back[6] = {0};
  uint64_t token;

  memset(&cfg, 0, sizeof cfg);
  cfg.data_bytes = 100;
  cfg.signal_count = 2;
  report("open", open_host_device_mapped_region_ctx_checked(ctx, &cfg, &region));

  /* A region handle carries a token, not an address: it crosses the pointer type via uintptr_t. */
  token = (uint64_t)(uintptr_t)region;
  report("token-nonzero-below-2^53", token != 0 && token < (UINT64_C(1) << 53) ? 0 : HDMR_EINVAL);
  report("token-round-trip", (HostDeviceMappedRegionHandle)(uintptr_t)token == region ? 0 : HDMR_EINVAL);

  memset(&info, 0xff, sizeof info);
  report("info", host_device_mapped_region_info_ctx_checked(ctx, region, &info));
  printf("info data_bytes=%llu signal_count=%u total_bytes=%llu host_data_ptr=%llu reserved0=%u reserved1=%u\n",
         (unsigned long long)info.data_bytes, (unsigned)info.signal_count, (unsigned long long)info.total_bytes,
         (unsigned long long)info.host_data_ptr, (unsigned)info.reserved0, (unsigned)info.reserved1);

  report("h2region", host_device_mapped_region_datacopy_h2region_ctx_checked(ctx, region, 95, "hello", 5));
  report("region2h", host_device_mapped_region_datacopy_region2h_ctx_checked(ctx, region, 95, back, 5));
  printf("read %s\n", back);
  report("h2region-past-end", host_device_mapped_region_datacopy_h2region_ctx_checked(ctx, region, 96, "hello", 5));

  report("notify", host_device_mapped_region_notify_ctx_checked(ctx, region, 1, 7));
  report("wait-reached", host_device_mapped_region_wait_ctx_checked(ctx, region, 1, 7, 0));
  report("wait-probe-miss", host_device_mapped_region_wait_ctx_checked(ctx, region, 1, 8, 0));

  report("close-forged", close_host_device_mapped_region_ctx_checked(ctx, (HostDeviceMappedRegionHandle)(uintptr_t)(token ^ 1)));
  report("close", close_host_device_mapped_region_ctx_checked(ctx, region));
  report("close-again", close_host_device_mapped_region_ctx_checked(ctx, region));
  return 0;
}

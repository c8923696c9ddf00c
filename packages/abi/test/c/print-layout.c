/*
 * Prints the layout the C compiler gives the generated header, as JSON:
 * {"<cName>": {"size": N, "align": N, "fields": {"<field>": [offset, size], ...}}, ...}
 * The field list is written by hand so that a field missing from the header fails to compile
 * and a field missing here shows up as a difference in the test.
 */
#include <stdio.h>

#include "simpler/hdmr_abi.h"

static int first_struct = 1;
static int first_field = 1;

static void begin(const char *name, size_t size, size_t align) {
  printf("%s\"%s\":{\"size\":%zu,\"align\":%zu,\"fields\":{", first_struct ? "" : ",", name, size, align);
  first_struct = 0;
  first_field = 1;
}

static void field(const char *name, size_t offset, size_t size) {
  printf("%s\"%s\":[%zu,%zu]", first_field ? "" : ",", name, offset, size);
  first_field = 0;
}

static void end(void) { printf("}}"); }

#define BEGIN(T) begin(#T, sizeof(T), _Alignof(T))
#define F(T, f) field(#f, offsetof(T, f), HDMR_FIELD_SIZE(T, f))

int main(void) {
  printf("{");
  BEGIN(HostDeviceMappedRegionConfig);
  F(HostDeviceMappedRegionConfig, data_bytes);
  F(HostDeviceMappedRegionConfig, signal_count);
  F(HostDeviceMappedRegionConfig, flags);
  end();

  BEGIN(HostDeviceMappedRegionInfo);
  F(HostDeviceMappedRegionInfo, host_data_ptr);
  F(HostDeviceMappedRegionInfo, device_data_ptr);
  F(HostDeviceMappedRegionInfo, data_bytes);
  F(HostDeviceMappedRegionInfo, host_signal_ptr);
  F(HostDeviceMappedRegionInfo, device_signal_ptr);
  F(HostDeviceMappedRegionInfo, signal_count);
  F(HostDeviceMappedRegionInfo, reserved0);
  F(HostDeviceMappedRegionInfo, total_bytes);
  F(HostDeviceMappedRegionInfo, flags);
  F(HostDeviceMappedRegionInfo, reserved1);
  end();

  BEGIN(HostDeviceMappedRegionHeader);
  F(HostDeviceMappedRegionHeader, magic);
  F(HostDeviceMappedRegionHeader, version);
  F(HostDeviceMappedRegionHeader, flags);
  F(HostDeviceMappedRegionHeader, signal_count);
  F(HostDeviceMappedRegionHeader, signal_offset);
  F(HostDeviceMappedRegionHeader, data_offset);
  F(HostDeviceMappedRegionHeader, data_bytes);
  F(HostDeviceMappedRegionHeader, total_bytes);
  F(HostDeviceMappedRegionHeader, reserved);
  end();

  BEGIN(HostDeviceMappedRegionSignal);
  F(HostDeviceMappedRegionSignal, value);
  F(HostDeviceMappedRegionSignal, reserved0);
  F(HostDeviceMappedRegionSignal, reserved);
  end();

  BEGIN(HostDeviceMappedRegionSideband);
  F(HostDeviceMappedRegionSideband, magic);
  F(HostDeviceMappedRegionSideband, version);
  F(HostDeviceMappedRegionSideband, op);
  F(HostDeviceMappedRegionSideband, region);
  F(HostDeviceMappedRegionSideband, offset);
  F(HostDeviceMappedRegionSideband, nbytes);
  F(HostDeviceMappedRegionSideband, status);
  F(HostDeviceMappedRegionSideband, reserved0);
  F(HostDeviceMappedRegionSideband, reserved);
  end();

  BEGIN(HostDeviceMappedRegionMailbox);
  F(HostDeviceMappedRegionMailbox, state);
  F(HostDeviceMappedRegionMailbox, error);
  F(HostDeviceMappedRegionMailbox, command);
  F(HostDeviceMappedRegionMailbox, arg0);
  F(HostDeviceMappedRegionMailbox, arg1);
  F(HostDeviceMappedRegionMailbox, arg2);
  F(HostDeviceMappedRegionMailbox, arg3);
  F(HostDeviceMappedRegionMailbox, result);
  F(HostDeviceMappedRegionMailbox, reserved);
  F(HostDeviceMappedRegionMailbox, name);
  F(HostDeviceMappedRegionMailbox, reserved_body);
  F(HostDeviceMappedRegionMailbox, error_message);
  end();
  printf("}\n");
  return 0;
}

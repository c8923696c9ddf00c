/** One parameter of a C ABI entry point. */
export interface EntryPointParam {
  /** Parameter name. */
  readonly name: string;
  /** C type, e.g. `uint64_t` or `const HostDeviceMappedRegionConfig *`. */
  readonly cType: string;
  /** One-line description. */
  readonly doc: string;
}

/** One C ABI entry point of the original design; every one returns 0 or a negative errno. */
export interface EntryPoint {
  /** C symbol name. */
  readonly name: string;
  /** One-line description. */
  readonly doc: string;
  /** Parameters in order. */
  readonly params: readonly EntryPointParam[];
}

const CTX: EntryPointParam = { name: 'ctx', cType: 'void *', doc: 'Device context that owns the region.' };
const HANDLE: EntryPointParam = { name: 'handle', cType: 'uint64_t', doc: 'Region handle returned by open.' };
const SIGNAL: EntryPointParam = { name: 'signal_id', cType: 'uint32_t', doc: 'Signal slot index, < signal_count.' };

/** The seven C entry points (owner-process layer), in the order of the original design. */
export const ENTRY_POINTS: readonly EntryPoint[] = Object.freeze([
  {
    name: 'open_host_device_mapped_region_ctx',
    doc: 'Opens a region; writes its handle to *out_handle.',
    params: [CTX, { name: 'config', cType: 'const HostDeviceMappedRegionConfig *', doc: 'Requested sizes; flags must be 0.' }, { name: 'out_handle', cType: 'uint64_t *', doc: 'Receives the non-zero handle.' }],
  },
  {
    name: 'close_host_device_mapped_region_ctx',
    doc: 'Releases the host mapping and the device memory; does not wait for the device.',
    params: [CTX, HANDLE],
  },
  {
    name: 'get_host_device_mapped_region_info_ctx',
    doc: 'Fills *out_info; reserved fields are zero.',
    params: [CTX, HANDLE, { name: 'out_info', cType: 'HostDeviceMappedRegionInfo *', doc: 'Receives the info.' }],
  },
  {
    name: 'host_device_mapped_region_datacopy_h2region_ctx',
    doc: 'Copies nbytes from src into data[offset, offset + nbytes).',
    params: [CTX, HANDLE, { name: 'offset', cType: 'uint64_t', doc: 'Data-area offset, <= data_bytes.' }, { name: 'src', cType: 'const void *', doc: 'Host source bytes.' }, { name: 'nbytes', cType: 'uint64_t', doc: 'Bytes to copy, <= data_bytes - offset.' }],
  },
  {
    name: 'host_device_mapped_region_datacopy_region2h_ctx',
    doc: 'Copies data[offset, offset + nbytes) into dst.',
    params: [CTX, HANDLE, { name: 'offset', cType: 'uint64_t', doc: 'Data-area offset, <= data_bytes.' }, { name: 'dst', cType: 'void *', doc: 'Host destination.' }, { name: 'nbytes', cType: 'uint64_t', doc: 'Bytes to copy, <= data_bytes - offset.' }],
  },
  {
    name: 'host_device_mapped_region_notify_ctx',
    doc: 'Publishes value into a signal slot (release); value must not decrease.',
    params: [CTX, HANDLE, SIGNAL, { name: 'value', cType: 'uint32_t', doc: 'New slot value.' }],
  },
  {
    name: 'host_device_mapped_region_wait_ctx',
    doc: 'Waits until the slot value is >= target (acquire); -EAGAIN at the deadline; timeout_us 0 probes.',
    params: [CTX, HANDLE, SIGNAL, { name: 'target', cType: 'uint32_t', doc: 'Value to reach.' }, { name: 'timeout_us', cType: 'uint32_t', doc: 'Bound in microseconds; 0 is a probe.' }],
  },
]);

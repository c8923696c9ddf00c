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

/** A pointer-sized opaque handle type of the C API (`typedef void *Name;`). */
export interface HandleType {
  /** Typedef name. */
  readonly name: string;
  /** The C type it names: always `void *`. */
  readonly cType: string;
  /** One-line description. */
  readonly doc: string;
}

/** Bytes of a host pointer the header requires: a region handle carries a u64 token in one. */
export const POINTER_BYTES = 8;

/** The two handle typedefs of the original design, declared before the entry points. */
export const HANDLE_TYPES: readonly HandleType[] = Object.freeze([
  { name: 'DeviceContextHandle', cType: 'void *', doc: 'Opaque device context of the owner process.' },
  {
    name: 'HostDeviceMappedRegionHandle',
    cType: 'void *',
    doc: 'Opaque region handle: a non-zero u64 token below 2^53 carried in the pointer bits, never a host address.',
  },
]);

const CTX: EntryPointParam = { name: 'ctx', cType: 'DeviceContextHandle', doc: 'Device context that owns the region.' };
const REGION: EntryPointParam = { name: 'region', cType: 'HostDeviceMappedRegionHandle', doc: 'Region handle returned by open.' };
const SIGNAL: EntryPointParam = { name: 'signal_id', cType: 'uint32_t', doc: 'Signal slot index, < signal_count.' };
const OFFSET: EntryPointParam = { name: 'offset', cType: 'uint64_t', doc: 'Data-area offset, <= data_bytes.' };
const NBYTES: EntryPointParam = { name: 'nbytes', cType: 'size_t', doc: 'Bytes to copy, <= data_bytes - offset.' };

/** The seven C entry points (owner-process layer) with the original design's names and parameter types, in its order. */
export const ENTRY_POINTS: readonly EntryPoint[] = Object.freeze([
  {
    name: 'open_host_device_mapped_region_ctx',
    doc: 'Opens a region; writes its handle to *out_region.',
    params: [CTX, { name: 'cfg', cType: 'const HostDeviceMappedRegionConfig *', doc: 'Requested sizes; flags must be 0.' }, { name: 'out_region', cType: 'HostDeviceMappedRegionHandle *', doc: 'Receives the non-zero handle.' }],
  },
  {
    name: 'close_host_device_mapped_region_ctx',
    doc: 'Releases the host mapping and the device memory; does not wait for the device.',
    params: [CTX, REGION],
  },
  {
    name: 'host_device_mapped_region_info_ctx',
    doc: 'Fills *info; host addresses and reserved fields are zero.',
    params: [CTX, REGION, { name: 'info', cType: 'HostDeviceMappedRegionInfo *', doc: 'Receives the info.' }],
  },
  {
    name: 'host_device_mapped_region_datacopy_h2region_ctx',
    doc: 'Copies nbytes from src into data[offset, offset + nbytes).',
    params: [CTX, REGION, OFFSET, { name: 'src', cType: 'const void *', doc: 'Host source bytes.' }, NBYTES],
  },
  {
    name: 'host_device_mapped_region_datacopy_region2h_ctx',
    doc: 'Copies data[offset, offset + nbytes) into dst.',
    params: [CTX, REGION, OFFSET, { name: 'dst', cType: 'void *', doc: 'Host destination.' }, NBYTES],
  },
  {
    name: 'host_device_mapped_region_notify_ctx',
    doc: 'Publishes value into a signal slot (release); value must not decrease.',
    params: [CTX, REGION, SIGNAL, { name: 'value', cType: 'uint32_t', doc: 'New slot value.' }],
  },
  {
    name: 'host_device_mapped_region_wait_ctx',
    doc: 'Waits until the slot value is >= target (acquire); -EAGAIN at the deadline; timeout_us 0 probes.',
    params: [CTX, REGION, SIGNAL, { name: 'target', cType: 'uint32_t', doc: 'Value to reach.' }, { name: 'timeout_us', cType: 'uint32_t', doc: 'Bound in microseconds; 0 is a probe.' }],
  },
]);

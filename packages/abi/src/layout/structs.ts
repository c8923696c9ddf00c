import { FieldSpec, FieldType, StructLayout } from './struct-layout';

type Row = [name: string, offset: number, type: FieldType, doc: string, extra?: { count?: number; size?: number; reserved?: boolean }];

function layout(name: string, cName: string, size: number, align: number, rows: Row[]): StructLayout {
  const fields: FieldSpec[] = rows.map(([fname, offset, type, doc, extra]) => {
    const count = extra?.count;
    const unit = type === 'u16' ? 2 : type === 'u32' || type === 'i32' ? 4 : type === 'u64' ? 8 : 1;
    const fsize = extra?.size ?? unit * (count ?? 1);
    return Object.freeze({ name: fname, offset, size: fsize, type, doc, ...(count ? { count } : {}), ...(extra?.reserved ? { reserved: true } : {}) });
  });
  return Object.freeze({ name, cName, size, align, fields: Object.freeze(fields) });
}

/** `HostDeviceMappedRegionConfig` (spec 3.1), 16 bytes. */
export const CONFIG_LAYOUT = layout('HostDeviceMappedRegionConfig', 'HostDeviceMappedRegionConfig', 16, 8, [
  ['data_bytes', 0, 'u64', 'Bytes of the raw data area (> 0).'],
  ['signal_count', 8, 'u32', 'Number of 64-byte signal slots (> 0).'],
  ['flags', 12, 'u32', 'Reserved; must be 0.'],
]);

/** `HostDeviceMappedRegionInfo` (spec 3.2), 64 bytes, padding explicit. */
export const INFO_LAYOUT = layout('HostDeviceMappedRegionInfo', 'HostDeviceMappedRegionInfo', 64, 8, [
  ['host_data_ptr', 0, 'u64', 'Host address of the data area; 0 outside the owner process.'],
  ['device_data_ptr', 8, 'u64', 'Device address of the data area.'],
  ['data_bytes', 16, 'u64', 'Bytes of the data area.'],
  ['host_signal_ptr', 24, 'u64', 'Host address of signal slot 0; 0 outside the owner process.'],
  ['device_signal_ptr', 32, 'u64', 'Device address of signal slot 0.'],
  ['signal_count', 40, 'u32', 'Number of signal slots.'],
  ['reserved0', 44, 'u32', 'Explicit padding; zero.', { reserved: true }],
  ['total_bytes', 48, 'u64', 'Bytes of the whole region, header to padding.'],
  ['flags', 56, 'u32', 'Region flags (0).'],
  ['reserved1', 60, 'u32', 'Explicit padding; zero.', { reserved: true }],
]);

/** Region header at region offset 0 (spec 3.3), 64 bytes. */
export const REGION_HEADER_LAYOUT = layout('RegionHeader', 'HostDeviceMappedRegionHeader', 64, 64, [
  ['magic', 0, 'u32', 'HDMR_REGION_MAGIC (0x48444D52, "HDMR").'],
  ['version', 4, 'u32', 'Layout version (1).'],
  ['flags', 8, 'u32', 'Region flags (0).'],
  ['signal_count', 12, 'u32', 'Number of signal slots.'],
  ['signal_offset', 16, 'u64', 'Offset of signal slot 0 (64).'],
  ['data_offset', 24, 'u64', 'Offset of the data area.'],
  ['data_bytes', 32, 'u64', 'Bytes of the data area.'],
  ['total_bytes', 40, 'u64', 'Bytes of the whole region.'],
  ['reserved', 48, 'u64', 'Reserved; zero.', { count: 2, reserved: true }],
]);

/** One signal slot (spec 3.4), a 64-byte cache line. */
export const SIGNAL_SLOT_LAYOUT = layout('SignalSlot', 'HostDeviceMappedRegionSignal', 64, 64, [
  ['value', 0, 'u32', 'The doorbell / phase word.'],
  ['reserved0', 4, 'u32', 'Reserved; zero.', { reserved: true }],
  ['reserved', 8, 'u64', 'Reserved; zero.', { count: 7, reserved: true }],
]);

/** Side-band segment header (spec 9.3), 64 bytes; the payload follows. */
export const SIDEBAND_HEADER_LAYOUT = layout('SidebandHeader', 'HostDeviceMappedRegionSideband', 64, 8, [
  ['magic', 0, 'bytes', 'The four bytes "HMRD".', { size: 4 }],
  ['version', 4, 'u16', 'Side-band version (1).'],
  ['op', 6, 'u16', '1 info, 2 h2region, 3 region2h.'],
  ['region', 8, 'u64', 'Region handle.'],
  ['offset', 16, 'u64', 'Data-area offset of the copy.'],
  ['nbytes', 24, 'u64', 'Payload bytes.'],
  ['status', 32, 'i32', 'Written by the child: 0 or a negative errno.'],
  ['reserved0', 36, 'u32', 'Reserved; zero.', { reserved: true }],
  ['reserved', 40, 'bytes', 'Reserved; zero.', { size: 24, reserved: true }],
]);

/** Control-protocol mailbox block (spec 9.2), 4096 bytes. */
export const MAILBOX_LAYOUT = layout('MailboxBlock', 'HostDeviceMappedRegionMailbox', 4096, 8, [
  ['state', 0, 'i32', '0 idle, 1 task ready, 2 task done, 3 shutdown, 4 control request, 5 control done, 6 init done.'],
  ['error', 4, 'i32', '0 or a negative errno.'],
  ['command', 8, 'u64', 'Command (12..18, 32..34).'],
  ['arg0', 16, 'u64', 'ARG0.'],
  ['arg1', 24, 'u64', 'ARG1.'],
  ['arg2', 32, 'u64', 'ARG2.'],
  ['arg3', 40, 'u64', 'ARG3.'],
  ['result', 48, 'u64', 'RESULT.'],
  ['reserved', 56, 'u64', 'Reserved; zero.', { reserved: true }],
  ['name', 64, 'cstring', 'NUL-terminated ASCII: side-band segment or kernel name.', { size: 32 }],
  ['reserved_body', 96, 'bytes', 'Reserved; zero.', { size: 3744, reserved: true }],
  ['error_message', 3840, 'cstring', 'NUL-terminated UTF-8 error message.', { size: 256 }],
]);

/** Every layout, in the order the spec lists them. */
export const ALL_LAYOUTS: readonly StructLayout[] = Object.freeze([
  CONFIG_LAYOUT,
  INFO_LAYOUT,
  REGION_HEADER_LAYOUT,
  SIGNAL_SLOT_LAYOUT,
  SIDEBAND_HEADER_LAYOUT,
  MAILBOX_LAYOUT,
]);

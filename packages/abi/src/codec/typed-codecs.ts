import { CONFIG_LAYOUT, INFO_LAYOUT, MAILBOX_LAYOUT, REGION_HEADER_LAYOUT, SIDEBAND_HEADER_LAYOUT, SIGNAL_SLOT_LAYOUT } from '../layout/structs';
import { StructLayout } from '../layout/struct-layout';
import { decodeStruct, encodeStruct } from './struct-codec';

/** A u64 as accepted by encoders: a safe non-negative number or a bigint. */
export type U64In = number | bigint;

/** `HostDeviceMappedRegionConfig` fields (C names). */
export interface ConfigRecord { data_bytes: U64In; signal_count: number; flags: number }
/** `HostDeviceMappedRegionInfo` fields; reserved0/reserved1 are always written as zero. */
export interface InfoRecord {
  host_data_ptr: U64In; device_data_ptr: U64In; data_bytes: U64In; host_signal_ptr: U64In;
  device_signal_ptr: U64In; signal_count: number; total_bytes: U64In; flags: number;
  reserved0?: number; reserved1?: number;
}
/** Region header fields. */
export interface RegionHeaderRecord {
  magic: number; version: number; flags: number; signal_count: number;
  signal_offset: U64In; data_offset: U64In; data_bytes: U64In; total_bytes: U64In; reserved?: readonly U64In[];
}
/** Signal slot fields. */
export interface SignalSlotRecord { value: number; reserved0?: number; reserved?: readonly U64In[] }
/** Side-band header fields. */
export interface SidebandHeaderRecord {
  magic: Uint8Array | string; version: number; op: number; region: U64In; offset: U64In; nbytes: U64In; status: number;
  reserved0?: number; reserved?: Uint8Array;
}
/** Mailbox block fields. */
export interface MailboxRecord {
  state: number; error: number; command: U64In; arg0: U64In; arg1: U64In; arg2: U64In; arg3: U64In; result: U64In;
  name: string; error_message: string; reserved?: U64In; reserved_body?: Uint8Array;
}

/** How one field decodes: numbers stay numbers, every u64 becomes a bigint, byte fields become bytes. */
export type DecodedField<F> = [F] extends [number]
  ? number
  : [F] extends [U64In]
    ? bigint
    : [F] extends [readonly U64In[]]
      ? bigint[]
      : [F] extends [string]
        ? string
        : Uint8Array;
/** A decoded record: every field present, typed as {@link DecodedField}. */
export type Decoded<T> = { [K in keyof T]-?: DecodedField<NonNullable<T[K]>> };

function pair<T>(layout: StructLayout) {
  return [
    (value: T, target?: Uint8Array, offset = 0): Uint8Array => encodeStruct(layout, value as Record<string, unknown>, target, offset),
    (source: Uint8Array, offset = 0): Decoded<T> => decodeStruct(layout, source, offset) as unknown as Decoded<T>,
  ] as const;
}

/** Encode / decode `HostDeviceMappedRegionConfig` (16 B). */
export const [encodeConfig, decodeConfig] = pair<ConfigRecord>(CONFIG_LAYOUT);
/** Encode / decode `HostDeviceMappedRegionInfo` (64 B). */
export const [encodeInfo, decodeInfo] = pair<InfoRecord>(INFO_LAYOUT);
/** Encode / decode the region header (64 B). */
export const [encodeRegionHeader, decodeRegionHeader] = pair<RegionHeaderRecord>(REGION_HEADER_LAYOUT);
/** Encode / decode one signal slot (64 B). */
export const [encodeSignalSlot, decodeSignalSlot] = pair<SignalSlotRecord>(SIGNAL_SLOT_LAYOUT);
/** Encode / decode the side-band header (64 B). */
export const [encodeSidebandHeader, decodeSidebandHeader] = pair<SidebandHeaderRecord>(SIDEBAND_HEADER_LAYOUT);
/** Encode / decode a mailbox block (4096 B). */
export const [encodeMailbox, decodeMailbox] = pair<MailboxRecord>(MAILBOX_LAYOUT);

import { BackendAllocation, RegionLayout, SIGNAL_SLOT_BYTES } from '@simpler/abi';

/** Region info as the owner process sees it; `publicInfo` reports the host pointers as 0n. */
export interface RegionInfoRecord {
  /** Host address of the data area (owner view only; 0n in public views). */
  readonly hostDataPtr: bigint;
  /** Device address of the data area. */
  readonly deviceDataPtr: bigint;
  /** Host address of signal slot 0 (owner view only; 0n in public views). */
  readonly hostSignalPtr: bigint;
  /** Device address of signal slot 0. */
  readonly deviceSignalPtr: bigint;
  /** Bytes of the data area. */
  readonly dataBytes: number;
  /** Number of signal slots. */
  readonly signalCount: number;
  /** Bytes of the whole region (header, slots, data, padding). */
  readonly totalBytes: number;
  /** Region flags (always 0 in this version). */
  readonly flags: number;
}

/** Int32 elements per signal slot: the slot's u32 value sits at element `id * SLOT_STRIDE`. */
export const SLOT_STRIDE = SIGNAL_SLOT_BYTES / 4;

/**
 * Everything the hot paths need about one open region, computed once at open so datacopy,
 * notify and wait do no BigInt arithmetic and no allocation.
 */
export interface RegionRecord {
  /** The handle token under which the region is registered. */
  readonly token: number;
  /** The backend allocation (owns the memory and the cache hooks). */
  readonly allocation: BackendAllocation;
  /** Whole-region host view. */
  readonly bytes: Uint8Array;
  /** The data area, `bytes[dataOffset, dataOffset + dataBytes)`. */
  readonly data: Uint8Array;
  /** Int32 view over the signal area; slot `i` is element `i * SLOT_STRIDE`. */
  readonly signals: Int32Array;
  /** True when the memory is a SharedArrayBuffer, so Atomics.wait/notify work on it. */
  readonly shared: boolean;
  readonly dataBytes: number;
  readonly signalCount: number;
  readonly signalOffset: number;
  readonly dataOffset: number;
  readonly totalBytes: number;
  readonly flags: number;
  /** Owner view of the info (real host pointers). */
  readonly ownerInfo: RegionInfoRecord;
  /** Public view of the info (host pointers 0n). */
  readonly publicInfo: RegionInfoRecord;
  /** Number of waits currently suspended on this region (lets close wake them early). */
  waiters: number;
}

/** True when `buffer` is a SharedArrayBuffer, also across realms (Jest, vm contexts). */
export function isSharedBuffer(buffer: ArrayBufferLike): boolean {
  return Object.prototype.toString.call(buffer) === '[object SharedArrayBuffer]';
}

/** Builds the record of a freshly allocated region; the caller has validated the allocation. */
export function createRegionRecord(token: number, allocation: BackendAllocation, layout: RegionLayout, flags: number): RegionRecord {
  const bytes = allocation.bytes;
  const { dataBytes, signalCount, signalOffset, dataOffset, totalBytes } = layout;
  const hostBase = allocation.hostBase;
  const deviceBase = allocation.deviceBase;
  const ownerInfo: RegionInfoRecord = Object.freeze({
    // A backend that cannot tell its host address reports 0n; keep the pointers 0n then.
    hostDataPtr: hostBase === 0n ? 0n : hostBase + BigInt(dataOffset),
    deviceDataPtr: deviceBase + BigInt(dataOffset),
    hostSignalPtr: hostBase === 0n ? 0n : hostBase + BigInt(signalOffset),
    deviceSignalPtr: deviceBase + BigInt(signalOffset),
    dataBytes,
    signalCount,
    totalBytes,
    flags,
  });
  const publicInfo: RegionInfoRecord = Object.freeze({ ...ownerInfo, hostDataPtr: 0n, hostSignalPtr: 0n });
  return {
    token,
    allocation,
    bytes,
    data: bytes.subarray(dataOffset, dataOffset + dataBytes),
    signals: new Int32Array(bytes.buffer, bytes.byteOffset + signalOffset, signalCount * SLOT_STRIDE),
    shared: isSharedBuffer(bytes.buffer),
    dataBytes,
    signalCount,
    signalOffset,
    dataOffset,
    totalBytes,
    flags,
    ownerInfo,
    publicInfo,
    waiters: 0,
  };
}

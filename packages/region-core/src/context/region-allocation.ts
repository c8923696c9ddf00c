import {
  BackendAllocation,
  BackendError,
  REGION_MAGIC,
  REGION_VERSION,
  RegionBackend,
  RegionLayout,
  describe,
  encodeRegionHeader,
} from '@simpler/abi';
import { backendFailure } from '../backend/backend-failure';

/** Why an allocation cannot be used, or undefined when it is fine. */
export function allocationProblem(allocation: unknown, totalBytes: number): string | undefined {
  if (typeof allocation !== 'object' || allocation === null) return `expected an object, got ${describe(allocation)}`;
  const a = allocation as Partial<Record<keyof BackendAllocation, unknown>>;
  if (typeof a.release !== 'function') return 'release is not a function';
  if (!(a.bytes instanceof Uint8Array) && !(ArrayBuffer.isView(a.bytes) && Object.prototype.toString.call(a.bytes) === '[object Uint8Array]')) {
    return `bytes must be a Uint8Array, got ${describe(a.bytes)}`;
  }
  const bytes = a.bytes as Uint8Array;
  if (bytes.byteLength !== totalBytes) return `bytes has ${bytes.byteLength} bytes, expected ${totalBytes}`;
  if (bytes.byteOffset % 4 !== 0) return `bytes must be 4-byte aligned for atomic signal access (byteOffset ${bytes.byteOffset})`;
  if (typeof a.hostBase !== 'bigint' || typeof a.deviceBase !== 'bigint') return 'hostBase and deviceBase must be bigints';
  for (const hook of ['flush', 'invalidate', 'wakeSignal', 'sleepSignal', 'sleepSignalAsync', 'share'] as const) {
    if (a[hook] !== undefined && typeof a[hook] !== 'function') return `${hook} must be a function when present`;
  }
  // Someone must wake a sleeper: for host publishers that is the core, through wakeSignal.
  if ((a.sleepSignal !== undefined || a.sleepSignalAsync !== undefined) && a.wakeSignal === undefined) {
    return 'sleepSignal/sleepSignalAsync need a wakeSignal hook to wake them';
  }
  return undefined;
}

/** Calls backend.allocate and checks what comes back; typed errors pass through, others become `EIO`. */
export function allocateChecked(backend: RegionBackend, totalBytes: number): BackendAllocation {
  let allocation: BackendAllocation;
  try {
    allocation = backend.allocate(totalBytes);
  } catch (error) {
    throw backendFailure(backend.name, `allocate(${totalBytes})`, error);
  }
  const problem = allocationProblem(allocation, totalBytes);
  if (problem) {
    releaseQuietly(allocation);
    throw new BackendError(`${backend.name}: allocate(${totalBytes}) returned an invalid allocation: ${problem}`);
  }
  return allocation;
}

/** Writes the 64-byte header of a region of `layout` (flags 0) at `at` of `bytes`. */
export function writeRegionHeader(layout: RegionLayout, bytes: Uint8Array, at = 0): void {
  encodeRegionHeader(
    {
      magic: REGION_MAGIC,
      version: REGION_VERSION,
      flags: 0,
      signal_count: layout.signalCount,
      signal_offset: layout.signalOffset,
      data_offset: layout.dataOffset,
      data_bytes: layout.dataBytes,
      total_bytes: layout.totalBytes,
    },
    bytes,
    at,
  );
}

/** Zeroes the whole region, writes its header, and flushes it all to the device. */
export function initialiseRegion(allocation: BackendAllocation, layout: RegionLayout): void {
  const bytes = allocation.bytes;
  // Backends promise zero-filled memory; zeroing is cheap insurance against a stale mapping.
  bytes.fill(0);
  writeRegionHeader(layout, bytes);
  const flush = allocation.flush;
  if (flush !== undefined) flush.call(allocation, 0, layout.totalBytes);
}

/** Releases an allocation while another failure is already being reported. */
export function releaseQuietly(allocation: BackendAllocation | undefined): void {
  try {
    if (allocation && typeof allocation.release === 'function') allocation.release();
  } catch {
    // The original failure is what the caller needs to see.
  }
}

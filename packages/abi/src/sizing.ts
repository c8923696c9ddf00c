import { InvalidArgumentError } from './errors';
import { REGION_ALIGN, SIGNAL_OFFSET, SIGNAL_SLOT_BYTES, U32_MAX, U64_MAX } from './constants';
import { describe } from './codec/scalars';

/** Offsets and sizes of one region (spec 3.5). All are exact JavaScript numbers. */
export interface RegionLayout {
  /** Bytes of the data area. */
  readonly dataBytes: number;
  /** Number of signal slots. */
  readonly signalCount: number;
  /** Offset of signal slot 0 (always 64). */
  readonly signalOffset: number;
  /** Offset of the data area: align64(64 + 64 * signalCount). */
  readonly dataOffset: number;
  /** Whole region: align64(dataOffset + dataBytes). */
  readonly totalBytes: number;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Largest multiple of 64 that is still an exact JavaScript integer: the cap on total_bytes. */
const MAX_TOTAL = 2 ** 53 - REGION_ALIGN;

/**
 * Validates a u64 argument and returns it as a number. Accepts a non-negative safe integer or
 * a bigint; a u64 beyond 2^53 - 1 cannot be used as a JavaScript size and is `EINVAL` too.
 */
export function requireU64(value: unknown, what: string): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value;
  } else if (typeof value === 'bigint') {
    if (value >= 0n && value <= BigInt(MAX_SAFE)) return Number(value);
    if (value >= 0n && value <= U64_MAX) throw new InvalidArgumentError(`${what} ${value}n exceeds 2^53-1, the largest exact JavaScript size`);
  }
  throw new InvalidArgumentError(`${what} must be an integer in 0..2^64-1 (number or bigint), got ${describe(value)}`);
}

/** Validates a u32 argument (number or bigint) and returns it as a number. */
export function requireU32(value: unknown, what: string): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= U32_MAX) return value;
  } else if (typeof value === 'bigint') {
    if (value >= 0n && value <= BigInt(U32_MAX)) return Number(value);
  }
  throw new InvalidArgumentError(`${what} must be an integer in 0..2^32-1, got ${describe(value)}`);
}

/** Rounds up to a multiple of 64; the caller guarantees the result stays exact. */
function align64(n: number): number {
  return Math.ceil(n / REGION_ALIGN) * REGION_ALIGN;
}

/**
 * Computes a region's layout from (data_bytes, signal_count), spec 3.5. Rejects zero,
 * non-integral, out-of-range and overflowing requests with `EINVAL`. The arithmetic is exact:
 * total_bytes is capped at 2^53 - 64 (the largest exact multiple of 64), far below 2^64.
 */
export function computeRegionLayout(dataBytes: unknown, signalCount: unknown): RegionLayout {
  const db = requireU64(dataBytes, 'data_bytes');
  const sc = requireU32(signalCount, 'signal_count');
  if (db === 0) throw new InvalidArgumentError('data_bytes must be > 0, got 0');
  if (sc === 0) throw new InvalidArgumentError('signal_count must be > 0, got 0');
  const dataOffset = align64(SIGNAL_OFFSET + sc * SIGNAL_SLOT_BYTES); // <= 64 + 2^38: exact
  if (db > MAX_TOTAL - dataOffset) {
    throw new InvalidArgumentError(`region too large: data_bytes ${db} with ${sc} signals overflows the exact size range (total_bytes > 2^53-64)`);
  }
  const totalBytes = align64(dataOffset + db);
  return Object.freeze({ dataBytes: db, signalCount: sc, signalOffset: SIGNAL_OFFSET, dataOffset, totalBytes });
}

/**
 * Checks a datacopy range in the subtraction form of spec section 4:
 * `offset <= dataBytes && nbytes <= dataBytes - offset`. Never computes `offset + nbytes`.
 */
export function isValidCopyRange(dataBytes: number, offset: number, nbytes: number): boolean {
  return offset <= dataBytes && nbytes <= dataBytes - offset;
}

/** Validates a datacopy range (offset and nbytes as u64s) and returns them as numbers; `EINVAL` otherwise. */
export function requireCopyRange(dataBytes: number, offset: unknown, nbytes: unknown): { offset: number; nbytes: number } {
  const off = requireU64(offset, 'offset');
  const n = requireU64(nbytes, 'nbytes');
  if (!isValidCopyRange(dataBytes, off, n)) {
    throw new InvalidArgumentError(`datacopy range offset=${off} nbytes=${n} is outside the data area of ${dataBytes} bytes`);
  }
  return { offset: off, nbytes: n };
}

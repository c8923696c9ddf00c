import { InvalidArgumentError } from '../errors';
import { U64_MAX } from '../constants';

const TWO_32 = 0x1_0000_0000;

/**
 * Reads a little-endian u64 as a number without BigInt. Values above 2^53 - 1 come back
 * inexact and therefore fail `Number.isSafeInteger`, which is how callers reject them.
 */
export function readU64(view: DataView, offset: number): number {
  return view.getUint32(offset + 4, true) * TWO_32 + view.getUint32(offset, true);
}

/** Writes a safe non-negative integer as a little-endian u64 without BigInt. */
export function writeU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value >>> 0, true);
  view.setUint32(offset + 4, Math.floor(value / TWO_32) >>> 0, true);
}

/** Writes a u64 given as a number or bigint (validated by {@link toU64BigInt}). */
export function writeU64Any(view: DataView, offset: number, value: number | bigint, what: string): void {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) writeU64(view, offset, value);
  else view.setBigUint64(offset, toU64BigInt(value, what), true);
}

/** Validates a u64 given as a number or bigint and returns it as a bigint. */
export function toU64BigInt(value: unknown, what: string): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n || value > U64_MAX) throw new InvalidArgumentError(`${what} must be in 0..2^64-1, got ${value}`);
    return value;
  }
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  throw new InvalidArgumentError(`${what} must be a non-negative integer (number or bigint), got ${describe(value)}`);
}

/** A short, safe description of any value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${value.byteLength})`;
  if (value instanceof ArrayBuffer) return `ArrayBuffer(${value.byteLength})`;
  if (typeof value === 'function') return 'a function';
  const kind = Object.prototype.toString.call(value).slice(8, -1);
  return `${/^[AEIOU]/.test(kind) ? 'an' : 'a'} ${kind}`;
}

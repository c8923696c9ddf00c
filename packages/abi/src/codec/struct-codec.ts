import { InvalidArgumentError } from '../errors';
import { FieldSpec, StructLayout, elementSize } from '../layout/struct-layout';
import { describe, writeU64Any } from './scalars';

/** A decoded field value: numbers for 16/32-bit fields, bigints for u64, arrays for counted fields. */
export type FieldValue = number | bigint | string | Uint8Array | readonly (number | bigint)[];
/** A decoded struct: one entry per field name. */
export type StructRecord = Record<string, FieldValue>;

function viewOf(target: Uint8Array): DataView {
  return new DataView(target.buffer, target.byteOffset, target.byteLength);
}

function checkTarget(layout: StructLayout, target: Uint8Array, offset: number): void {
  if (!(target instanceof Uint8Array)) throw new InvalidArgumentError(`${layout.name}: target must be a Uint8Array, got ${describe(target)}`);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > target.byteLength || target.byteLength - offset < layout.size) {
    throw new InvalidArgumentError(`${layout.name}: needs ${layout.size} bytes at offset ${offset}, target has ${target.byteLength}`);
  }
}

function writeScalar(dv: DataView, at: number, f: FieldSpec, v: unknown): void {
  const what = `${f.name}`;
  if (f.type === 'u64') return writeU64Any(dv, at, v as number | bigint, what);
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new InvalidArgumentError(`${what} must be an integer, got ${describe(v)}`);
  if (f.type === 'i32') {
    if (n < -0x8000_0000 || n > 0x7fff_ffff) throw new InvalidArgumentError(`${what} out of i32 range: ${n}`);
    dv.setInt32(at, n, true);
  } else if (f.type === 'u32') {
    if (n < 0 || n > 0xffff_ffff) throw new InvalidArgumentError(`${what} out of u32 range: ${n}`);
    dv.setUint32(at, n, true);
  } else {
    if (n < 0 || n > 0xffff) throw new InvalidArgumentError(`${what} out of u16 range: ${n}`);
    dv.setUint16(at, n, true);
  }
}

function readScalar(dv: DataView, at: number, f: FieldSpec): number | bigint {
  switch (f.type) {
    case 'u64': return dv.getBigUint64(at, true);
    case 'i32': return dv.getInt32(at, true);
    case 'u32': return dv.getUint32(at, true);
    default: return dv.getUint16(at, true);
  }
}

/** Encodes a C string field: ASCII/UTF-8, NUL-terminated, truncated to fit (at a character boundary). */
export function encodeCString(target: Uint8Array, at: number, capacity: number, text: string): void {
  target.fill(0, at, at + capacity);
  const bytes = Buffer.from(text, 'utf8');
  let n = Math.min(bytes.length, capacity - 1);
  while (n > 0 && n < bytes.length && (bytes[n] & 0xc0) === 0x80) n--; // never split a UTF-8 sequence
  target.set(bytes.subarray(0, n), at);
}

/** Decodes a NUL-terminated string field (the whole field when no NUL is present). */
export function decodeCString(source: Uint8Array, at: number, capacity: number): string {
  let end = at;
  const limit = at + capacity;
  while (end < limit && source[end] !== 0) end++;
  return Buffer.from(source.buffer, source.byteOffset + at, end - at).toString('utf8');
}

/**
 * Encodes `value` into `target` at `offset` following `layout`. Missing fields and every
 * reserved field are written as zero, so padding never carries stale bytes.
 */
export function encodeStruct(layout: StructLayout, value: Readonly<Record<string, unknown>>, target?: Uint8Array, offset = 0): Uint8Array {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidArgumentError(`${layout.name}: value must be an object of fields, got ${describe(value)}`);
  }
  const out = target ?? new Uint8Array(layout.size);
  checkTarget(layout, out, offset);
  out.fill(0, offset, offset + layout.size);
  const dv = viewOf(out);
  for (const f of layout.fields) {
    const at = offset + f.offset;
    const v = value[f.name];
    if (f.reserved || v === undefined) continue;
    if (f.type === 'cstring') {
      if (typeof v !== 'string') throw new InvalidArgumentError(`${f.name} must be a string, got ${describe(v)}`);
      encodeCString(out, at, f.size, v);
    } else if (f.type === 'bytes') {
      const bytes = typeof v === 'string' ? Buffer.from(v, 'latin1') : v;
      if (!(bytes instanceof Uint8Array) || bytes.byteLength > f.size) throw new InvalidArgumentError(`${f.name} must be at most ${f.size} bytes, got ${describe(v)}`);
      out.set(bytes, at);
    } else if (f.count) {
      if (!Array.isArray(v) || v.length !== f.count) throw new InvalidArgumentError(`${f.name} must be an array of ${f.count}`);
      const step = elementSize(f.type);
      v.forEach((item, i) => writeScalar(dv, at + i * step, f, item));
    } else {
      writeScalar(dv, at, f, v);
    }
  }
  return out;
}

/** Decodes a struct; reserved fields are included so callers can insist they are zero. */
export function decodeStruct(layout: StructLayout, source: Uint8Array, offset = 0): StructRecord {
  checkTarget(layout, source, offset);
  const dv = viewOf(source);
  const out: StructRecord = {};
  for (const f of layout.fields) {
    const at = offset + f.offset;
    if (f.type === 'cstring') out[f.name] = decodeCString(source, at, f.size);
    else if (f.type === 'bytes') out[f.name] = source.slice(at, at + f.size);
    else if (f.count) {
      const step = elementSize(f.type);
      out[f.name] = Array.from({ length: f.count }, (_, i) => readScalar(dv, at + i * step, f));
    } else out[f.name] = readScalar(dv, at, f);
  }
  return out;
}

/** True when every reserved field of the struct at `offset` is zero. */
export function reservedAreZero(layout: StructLayout, source: Uint8Array, offset = 0): boolean {
  for (const f of layout.fields) {
    if (!f.reserved) continue;
    for (let i = offset + f.offset, end = i + f.size; i < end; i++) if (source[i] !== 0) return false;
  }
  return true;
}

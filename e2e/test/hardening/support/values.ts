import fc from 'fast-check';

/**
 * Raw argument values for the property tests, and the spec's rules for them (section 4),
 * written independently of the implementation so the two can disagree.
 */

/** Non-integers, out-of-range numbers and wrong types: never a valid u32 or u64. */
export const JUNK: readonly unknown[] = [
  -1,
  -0.5,
  0.5,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  2 ** 64,
  -(2 ** 31),
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  -1n,
  2n ** 64n,
  2n ** 100n,
  -(2n ** 64n),
  '1',
  '',
  'abc',
  null,
  undefined,
  {},
  [],
  [1],
  true,
  { valueOf: () => 1 },
];

/** Valid u64s that are not exact JavaScript numbers: the API rejects them (EINVAL) too. */
export const HUGE_U64: readonly unknown[] = [2 ** 53, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];

const U32_MAX = 0xffffffff;
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

/** The spec's u64 rule as the API applies it: a non-negative exact integer (number or bigint), else undefined. */
export function asU64(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v + 0 : undefined;
  if (typeof v === 'bigint') return v >= 0n && v <= MAX_SAFE_BIG ? Number(v) : undefined;
  return undefined;
}

/** The spec's u32 rule: an integer in 0..2^32-1 (number or bigint), else undefined. */
export function asU32(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= U32_MAX ? v + 0 : undefined;
  if (typeof v === 'bigint') return v >= 0n && v <= BigInt(U32_MAX) ? Number(v) : undefined;
  return undefined;
}

/** A value computed from the region at run time, or a raw value. */
export type Rel =
  | { readonly t: 'frac'; readonly f: number; readonly big: boolean } // floor(f * (limit + 1))
  | { readonly t: 'at'; readonly d: number; readonly big: boolean } // limit + d (d may be < 0)
  | { readonly t: 'raw'; readonly v: unknown };

const big = fc.boolean();

/** An offset/size relative to a limit: mostly in range, sometimes just past it, sometimes junk. */
export const relArb: fc.Arbitrary<Rel> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('frac' as const), f: fc.double({ min: 0, max: 1, noNaN: true }), big }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('at' as const), d: fc.integer({ min: -2, max: 2 }), big }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('raw' as const), v: fc.constantFrom(...JUNK, ...HUGE_U64) }) },
);

/** Resolves a relative value against `limit`. */
export function resolveRel(r: Rel, limit: number): unknown {
  if (r.t === 'raw') return r.v;
  const n = r.t === 'frac' ? Math.min(limit, Math.floor(r.f * (limit + 1))) : limit + r.d;
  return r.big && n >= 0 ? BigInt(n) : n;
}

/** How a datacopy source is built. */
export type SrcKind =
  | 'u8'
  | 'buffer'
  | 'u8-sub'
  | 'dataview'
  | 'u16'
  | 'f64'
  | 'arraybuffer'
  | 'shared'
  | 'detached-view'
  | 'detached-buffer'
  | 'string'
  | 'number'
  | 'null'
  | 'array'
  // Issue 11: views whose accessors lie, Proxies, and resizable buffers.
  | 'lying-length'
  | 'lying-subclass'
  | 'resizable'
  | 'proxy-view'
  | 'proxy-buffer'
  | 'detached-dataview'
  | 'shrunk-view';

/** A datacopy source: kind, intended length relative to the room left, and a content seed. */
export interface SrcSpec {
  readonly kind: SrcKind;
  readonly len: Rel;
  readonly seed: number;
}

export const srcArb: fc.Arbitrary<SrcSpec> = fc.record({
  kind: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom<SrcKind>('u8', 'buffer', 'u8-sub', 'dataview', 'u16', 'f64', 'arraybuffer', 'shared') },
    { weight: 2, arbitrary: fc.constantFrom<SrcKind>('lying-length', 'lying-subclass', 'resizable') },
    { weight: 2, arbitrary: fc.constantFrom<SrcKind>('detached-view', 'detached-buffer', 'string', 'number', 'null', 'array') },
    { weight: 1, arbitrary: fc.constantFrom<SrcKind>('proxy-view', 'proxy-buffer', 'detached-dataview', 'shrunk-view') },
  ),
  len: fc.oneof(
    { weight: 5, arbitrary: fc.record({ t: fc.constant('frac' as const), f: fc.double({ min: 0, max: 1, noNaN: true }), big: fc.constant(false) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('at' as const), d: fc.integer({ min: 0, max: 2 }), big: fc.constant(false) }) },
  ),
  seed: fc.integer({ min: 0, max: 255 }),
});

function fill(bytes: Uint8Array, seed: number): void {
  for (let i = 0; i < bytes.length; i++) bytes[i] = (seed + i * 31) & 0xff;
}

function detach(buffer: ArrayBuffer): void {
  structuredClone(buffer, { transfer: [buffer] });
}

/** A Uint8Array subclass whose accessors claim a window it does not have. */
class LyingView extends Uint8Array {
  override get byteLength(): number {
    return 1;
  }
  override get byteOffset(): number {
    return 99;
  }
}

type Resizable = ArrayBuffer & { resize(n: number): void };
function resizable(n: number, max: number): Resizable {
  return new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => Resizable)(n, { maxByteLength: max });
}

/** Builds the source value and the bytes it stands for (undefined when the API must reject it). */
export function buildSource(spec: SrcSpec, room: number): { value: unknown; bytes: Uint8Array | undefined } {
  const asked = resolveRel(spec.len, room) as number;
  const n = Math.max(0, Math.min(asked, 1 << 16));
  const raw = new Uint8Array(n);
  fill(raw, spec.seed);
  switch (spec.kind) {
    case 'u8':
      return { value: raw, bytes: raw };
    case 'buffer':
      return { value: Buffer.from(raw), bytes: raw };
    case 'u8-sub': {
      // A window into a bigger buffer: only the window may be copied.
      const outer = new Uint8Array(n + 16).fill(0xee);
      outer.set(raw, 7);
      return { value: outer.subarray(7, 7 + n), bytes: raw };
    }
    case 'dataview': {
      const outer = new Uint8Array(n + 10).fill(0xdd);
      outer.set(raw, 3);
      return { value: new DataView(outer.buffer, 3, n), bytes: raw };
    }
    case 'u16': {
      const words = Math.floor(n / 2);
      const outer = new ArrayBuffer(words * 2 + 6);
      const view = new Uint16Array(outer, 2, words);
      const bytes = new Uint8Array(outer, 2, words * 2);
      fill(bytes, spec.seed);
      return { value: view, bytes: bytes.slice() };
    }
    case 'f64': {
      const words = Math.floor(n / 8);
      const view = new Float64Array(words);
      const bytes = new Uint8Array(view.buffer);
      fill(bytes, spec.seed);
      return { value: view, bytes: bytes.slice() };
    }
    case 'arraybuffer':
      return { value: raw.slice().buffer, bytes: raw };
    case 'shared': {
      const sab = new SharedArrayBuffer(n);
      new Uint8Array(sab).set(raw);
      return { value: sab, bytes: raw };
    }
    case 'detached-view': {
      const view = new Uint8Array(Math.max(n, 1));
      detach(view.buffer as ArrayBuffer);
      return { value: view, bytes: undefined };
    }
    case 'detached-buffer': {
      const buffer = new ArrayBuffer(Math.max(n, 1));
      detach(buffer);
      return { value: buffer, bytes: undefined };
    }
    case 'string':
      return { value: 'x'.repeat(n), bytes: undefined };
    case 'number':
      return { value: n, bytes: undefined };
    case 'null':
      return { value: null, bytes: undefined };
    case 'array':
      return { value: Array.from(raw), bytes: undefined };
    case 'lying-length': {
      // The real bytes are copied, whatever the own getter claims (more, or fewer).
      const claimed = spec.seed % 2 === 0 ? n + 4096 : Math.floor(n / 2);
      Object.defineProperty(raw, 'byteLength', { get: () => claimed });
      return { value: raw, bytes: raw.slice() };
    }
    case 'lying-subclass':
      return { value: LyingView.from(raw), bytes: raw };
    case 'resizable': {
      const rab = resizable(n, n + 64);
      const tracking = new Uint8Array(rab);
      tracking.set(raw);
      return { value: tracking, bytes: raw };
    }
    case 'proxy-view':
      return { value: new Proxy(raw, {}), bytes: undefined };
    case 'proxy-buffer':
      return { value: new Proxy(raw.buffer, {}), bytes: undefined };
    case 'detached-dataview': {
      const view = new DataView(new ArrayBuffer(Math.max(n, 1)));
      detach(view.buffer as ArrayBuffer);
      return { value: view, bytes: undefined };
    }
    case 'shrunk-view': {
      // A fixed window the buffer has since shrunk below: EINVAL, never zero bytes or stale ones.
      const rab = resizable(n + 16, n + 16);
      const view = new Uint8Array(rab, 16, n);
      rab.resize(8);
      return { value: view, bytes: undefined };
    }
  }
}

/** A signal value relative to the slot's current value, or an absolute/raw one. */
export type SigVal =
  | { readonly t: 'cur'; readonly d: number; readonly big: boolean }
  | { readonly t: 'max' }
  | { readonly t: 'raw'; readonly v: unknown };

export const sigValArb: fc.Arbitrary<SigVal> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ t: fc.constant('cur' as const), d: fc.integer({ min: -1, max: 3 }), big }) },
  { weight: 1, arbitrary: fc.constant({ t: 'max' as const }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('raw' as const), v: fc.constantFrom(...JUNK, 2 ** 32, 2n ** 32n) }) },
);

/** Resolves a signal value against the slot's current value. */
export function resolveSig(s: SigVal, current: number): unknown {
  if (s.t === 'raw') return s.v;
  if (s.t === 'max') return U32_MAX;
  const v = current + s.d;
  return s.big && v >= 0 ? BigInt(v) : v;
}

/** Wait timeouts: probes, short bounded waits, and junk. */
export const timeoutArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.constantFrom(1, 200, 1000, 1n) },
  { weight: 2, arbitrary: fc.constantFrom(-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 32, '0', null, 2n ** 32n) },
);

import { types } from 'node:util';
import { InvalidArgumentError, OutOfMemoryError, describe } from '@simpler/abi';

// A view's window is read through the engine's own accessors, captured when this module loads,
// never through `byteLength`/`byteOffset`/`buffer` properties: a caller can redefine those (own
// getters, subclass getters, Proxies), and Node's fs and Buffer code trusts them up to an abort.
// The accessors throw a TypeError on anything that is not the real thing; that becomes EINVAL.

type Accessor<R> = (self: unknown) => R;
const uncurryThis = Function.prototype.bind.bind(Function.prototype.call) as <R>(fn: (this: never) => R) => Accessor<R>;

function accessor<R>(prototype: object, key: PropertyKey): Accessor<R> {
  const get = Object.getOwnPropertyDescriptor(prototype, key)?.get;
  if (typeof get !== 'function') throw new Error(`this runtime lacks the ${String(key)} accessor`);
  return uncurryThis(get as (this: never) => R);
}

const TYPED_ARRAY_PROTOTYPE = Object.getPrototypeOf(Uint8Array.prototype) as object;
const taBuffer = accessor<ArrayBufferLike>(TYPED_ARRAY_PROTOTYPE, 'buffer');
const taByteOffset = accessor<number>(TYPED_ARRAY_PROTOTYPE, 'byteOffset');
// `at` validates its receiver: it throws on a detached or out-of-bounds view, which the length
// accessor reports as an ordinary 0.
const taValidate = uncurryThis((TYPED_ARRAY_PROTOTYPE as { at: (this: never, i: number) => unknown }).at as (this: never) => unknown) as (
  self: unknown,
  index: number,
) => unknown;
const taSet = uncurryThis((TYPED_ARRAY_PROTOTYPE as { set: (this: never) => void }).set) as (self: unknown, source: Uint8Array, offset?: number) => void;
const dvBuffer = accessor<ArrayBufferLike>(DataView.prototype, 'buffer');
const dvByteOffset = accessor<number>(DataView.prototype, 'byteOffset');
const dvByteLength = accessor<number>(DataView.prototype, 'byteLength');
const abByteLength = accessor<number>(ArrayBuffer.prototype, 'byteLength');
const sabByteLength = accessor<number>(SharedArrayBuffer.prototype, 'byteLength');
// Node 20 has no `detached` accessor; Node 22+ does.
const abDetached: Accessor<boolean> | undefined = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'detached')?.get
  ? accessor<boolean>(ArrayBuffer.prototype, 'detached')
  : undefined;
const U8 = Uint8Array;
const { isArrayBuffer, isSharedArrayBuffer, isDataView, isProxy } = types;

/** The element type of a real typed array (`'Uint8Array'`, `'Float64Array'`, ...); `undefined` for anything else, a Proxy of one included. */
export const typedArrayKind: (value: unknown) => string | undefined = accessor<string | undefined>(TYPED_ARRAY_PROTOTYPE, Symbol.toStringTag);

/** A real typed array's byte length as the engine knows it (0 when detached or out of bounds). */
export const typedArrayByteLength: (view: unknown) => number = accessor<number>(TYPED_ARRAY_PROTOTYPE, 'byteLength');

/** Copies `source` into the real typed array `target` at `offset`, running no code of the caller (the engine's own `set`). */
export const copyIntoTypedArray: (target: unknown, source: Uint8Array, offset?: number) => void = taSet;

function isDetached(buffer: ArrayBufferLike): boolean {
  if (!isArrayBuffer(buffer)) return false;
  if (abDetached) return abDetached(buffer);
  if (abByteLength(buffer) !== 0) return false;
  try {
    new U8(buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

function unusableView(buffer: ArrayBufferLike, what: string): InvalidArgumentError {
  return new InvalidArgumentError(
    isDetached(buffer)
      ? `${what} is a view over a detached ArrayBuffer`
      : `${what} is a view outside its resizable ArrayBuffer (the buffer shrank below the view)`,
  );
}

/** A typed array's or DataView's window as a new engine-built Uint8Array; undefined for anything else. */
function viewWindow(value: object, what: string): Uint8Array | undefined {
  if (typedArrayKind(value) !== undefined) {
    const buffer = taBuffer(value);
    const n = typedArrayByteLength(value);
    if (n === 0) {
      try {
        taValidate(value, 0);
      } catch {
        throw unusableView(buffer, what);
      }
    }
    return new U8(buffer, taByteOffset(value), n);
  }
  if (isDataView(value)) {
    const buffer = dvBuffer(value);
    let offset: number;
    let n: number;
    try {
      n = dvByteLength(value);
      offset = dvByteOffset(value);
    } catch {
      throw unusableView(buffer, what);
    }
    return new U8(buffer, offset, n);
  }
  return undefined;
}

/** What a rejected value was, without trusting it: a Proxy's traps and a view's getters are never run. */
function described(value: unknown): string {
  if (isProxy(value)) return 'a Proxy (pass the view or buffer itself)';
  const kind = typedArrayKind(value);
  if (kind !== undefined) return `a ${kind}`;
  if (typeof value === 'object' && value !== null) return isDataView(value) ? 'a DataView' : 'an object';
  return describe(value);
}

/**
 * The bytes of a datacopy source as a new Uint8Array over the caller's memory (no copy), built
 * by the engine from the source's real window: the rest of the system may trust its properties.
 * Accepts Uint8Array/Buffer, any other ArrayBufferView (its byteOffset/byteLength window),
 * ArrayBuffer and SharedArrayBuffer (their current length, also when resizable). Strings,
 * detached or out-of-bounds buffers, Proxies and anything else are `EINVAL`.
 */
export function bytesOfSource(src: unknown, what = 'source'): Uint8Array {
  if (typeof src === 'object' && src !== null) {
    const window = viewWindow(src, what);
    if (window !== undefined) return window;
    if (isArrayBuffer(src)) {
      if (isDetached(src)) throw new InvalidArgumentError(`${what} is a detached ArrayBuffer`);
      return new U8(src, 0, abByteLength(src));
    }
    if (isSharedArrayBuffer(src)) return new U8(src, 0, sabByteLength(src));
  }
  if (typeof src === 'string') {
    throw new InvalidArgumentError(`${what} must be bytes, got a string ${describe(src)}: encode text first (e.g. Buffer.from(text, 'utf8'))`);
  }
  throw new InvalidArgumentError(`${what} must be a Uint8Array, Buffer, ArrayBufferView, ArrayBuffer or SharedArrayBuffer, got ${described(src)}`);
}

/**
 * The bytes of a destination view (for copy-into) as a new engine-built Uint8Array over its real
 * window; non-views, Proxies and detached or out-of-bounds views are `EINVAL`.
 */
export function bytesOfDestination(dst: unknown): Uint8Array {
  const window = typeof dst === 'object' && dst !== null ? viewWindow(dst, 'destination') : undefined;
  if (window === undefined) {
    throw new InvalidArgumentError(`destination must be an ArrayBufferView (Uint8Array, Buffer, DataView, ...), got ${described(dst)}`);
  }
  return window;
}

/**
 * A new uninitialised Buffer of `n` bytes for a region2h result, owning its memory: never a
 * slice of Node's shared pool, so `out.buffer` holds these bytes and nothing else. An allocation
 * failure is `ENOMEM`.
 */
export function allocateOutput(n: number): Buffer {
  try {
    return Buffer.allocUnsafeSlow(n);
  } catch (error) {
    throw new OutOfMemoryError(`cannot allocate ${n} bytes for the datacopy result: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

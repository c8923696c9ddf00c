import { InvalidArgumentError, OutOfMemoryError, describe } from '@simpler/abi';

function tagOf(value: object): string {
  return Object.prototype.toString.call(value);
}

/** True for an ArrayBuffer or SharedArrayBuffer, also from another realm. */
function isRawBuffer(value: object): value is ArrayBufferLike {
  const tag = tagOf(value);
  return tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]';
}

/**
 * A detached buffer reports byteLength 0, like a genuinely empty one; only constructing a view
 * over it tells them apart (the `detached` accessor is missing on Node 20).
 */
function isDetached(buffer: ArrayBufferLike): boolean {
  if (buffer.byteLength !== 0) return false;
  const flag = (buffer as { detached?: unknown }).detached;
  if (typeof flag === 'boolean') return flag;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/**
 * The bytes of a datacopy source, as a Uint8Array over the caller's memory (no copy).
 * Accepts Uint8Array/Buffer, any other ArrayBufferView (its byteOffset/byteLength window),
 * ArrayBuffer and SharedArrayBuffer. Strings, detached buffers and anything else are `EINVAL`.
 */
export function bytesOfSource(src: unknown, what = 'source'): Uint8Array {
  if (src instanceof Uint8Array && src.byteLength !== 0) return src;
  if (typeof src === 'object' && src !== null) {
    if (ArrayBuffer.isView(src)) {
      if (src.byteLength === 0 && isDetached(src.buffer)) {
        throw new InvalidArgumentError(`${what} is a view over a detached ArrayBuffer`);
      }
      return src instanceof Uint8Array ? src : new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
    }
    if (isRawBuffer(src)) {
      if (isDetached(src)) throw new InvalidArgumentError(`${what} is a detached ArrayBuffer`);
      return new Uint8Array(src);
    }
  }
  if (typeof src === 'string') {
    throw new InvalidArgumentError(`${what} must be bytes, got a string ${describe(src)}: encode text first (e.g. Buffer.from(text, 'utf8'))`);
  }
  throw new InvalidArgumentError(`${what} must be a Uint8Array, Buffer, ArrayBufferView, ArrayBuffer or SharedArrayBuffer, got ${describe(src)}`);
}

/** The bytes of a destination view (for copy-into), rejecting non-views and detached buffers with `EINVAL`. */
export function bytesOfDestination(dst: unknown): Uint8Array {
  if (typeof dst !== 'object' || dst === null || !ArrayBuffer.isView(dst)) {
    throw new InvalidArgumentError(`destination must be an ArrayBufferView (Uint8Array, Buffer, DataView, ...), got ${describe(dst)}`);
  }
  if (dst.byteLength === 0 && isDetached(dst.buffer)) {
    throw new InvalidArgumentError('destination is a view over a detached ArrayBuffer');
  }
  return dst instanceof Uint8Array ? dst : new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength);
}

/** A new uninitialised Buffer of `n` bytes for a region2h result; an allocation failure is `ENOMEM`. */
export function allocateOutput(n: number): Buffer {
  try {
    return Buffer.allocUnsafe(n);
  } catch (error) {
    throw new OutOfMemoryError(`cannot allocate ${n} bytes for the datacopy result: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

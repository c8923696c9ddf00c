import { DeviceContext, InvalidArgumentError } from '../src';
import { allocateOutput, bytesOfDestination, bytesOfSource } from '../src/context/byte-source';
import { createTestBackend } from './support/recording-backend';

// Resizable ArrayBuffers exist in Node 20 but not in the ES2022 lib typings this package uses.
type Resizable = ArrayBuffer & { resize(n: number): void };
function resizable(n: number, max: number): Resizable {
  return new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => Resizable)(n, { maxByteLength: max });
}

function detach(buffer: ArrayBufferLike): void {
  structuredClone(buffer, { transfer: [buffer as ArrayBuffer] });
}

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function counting(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => i + 1);
}

/** A Uint8Array whose own accessors lie about its window. */
function lyingView(real: Uint8Array, lies: { byteLength?: number; byteOffset?: number; buffer?: ArrayBufferLike; length?: number }): Uint8Array {
  for (const [key, value] of Object.entries(lies)) Object.defineProperty(real, key, { get: () => value });
  return real;
}

class LyingSubclass extends Uint8Array {
  override get byteLength(): number {
    return 4096;
  }
  override get byteOffset(): number {
    return 3;
  }
  override get buffer(): ArrayBuffer {
    return new ArrayBuffer(8192);
  }
}

describe('bytesOfSource / bytesOfDestination read the window from the engine', () => {
  it.each<[string, () => Uint8Array]>([
    ['an own byteLength getter claiming more', () => lyingView(counting(16), { byteLength: 4096 })],
    ['an own byteLength getter claiming less', () => lyingView(counting(16), { byteLength: 4 })],
    ['own byteOffset/buffer/length getters', () => lyingView(counting(16), { byteOffset: 100, buffer: new ArrayBuffer(4), length: 1 })],
    ['a subclass overriding the getters', () => LyingSubclass.from(counting(16)) as Uint8Array],
  ])('%s: a new Uint8Array over the real 16 bytes', (_label, make) => {
    for (const take of [(v: unknown) => bytesOfSource(v), bytesOfDestination]) {
      const view = make();
      const bytes = take(view);
      expect(bytes).not.toBe(view);
      expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
      expect(bytes.byteLength).toBe(16);
      expect([...bytes]).toEqual([...counting(16)]);
      bytes[0] = 99; // the same memory, not a copy
      expect(Uint8Array.prototype.at.call(view, 0)).toBe(99);
    }
  });

  it('honours the real window of views of other element types', () => {
    const outer = counting(24);
    const f32 = new Float32Array(outer.buffer, 4, 4);
    Object.defineProperty(f32, 'byteOffset', { get: () => 0 });
    expect([...bytesOfSource(f32)]).toEqual([...outer.subarray(4, 20)]);
    const dv = new DataView(outer.buffer, 2, 5);
    Object.defineProperty(dv, 'byteLength', { get: () => 24 });
    expect([...bytesOfDestination(dv)]).toEqual([3, 4, 5, 6, 7]);
  });

  it.each<[string, () => unknown]>([
    ['a Proxy of a Uint8Array', () => new Proxy(new Uint8Array(4), {})],
    ['a Proxy of an ArrayBuffer', () => new Proxy(new ArrayBuffer(4), {})],
    ['a Proxy of a DataView', () => new Proxy(new DataView(new ArrayBuffer(4)), {})],
    ['a revoked Proxy', () => Proxy.revocable(new Uint8Array(4), {}).proxy],
    ['an object posing as a view', () => ({ buffer: new ArrayBuffer(4), byteOffset: 0, byteLength: 4 })],
  ])('%s is EINVAL, as a source and as a destination', (_label, make) => {
    const revocable = Proxy.revocable(new Uint8Array(4), {});
    revocable.revoke();
    for (const value of [make(), revocable.proxy]) {
      for (const take of [(v: unknown) => bytesOfSource(v), bytesOfDestination]) {
        const error = thrown(() => take(value));
        expect(error).toBeInstanceOf(InvalidArgumentError);
      }
    }
    expect((thrown(() => bytesOfSource(new Proxy(new Uint8Array(4), {}))) as Error).message).toMatch(/got a Proxy/);
  });

  it('a DataView or typed array over a detached buffer is EINVAL, as a source and as a destination', () => {
    for (const make of [(b: ArrayBuffer) => new DataView(b), (b: ArrayBuffer) => new Uint8Array(b), (b: ArrayBuffer) => new Float64Array(b)]) {
      const buffer = new ArrayBuffer(16);
      const view = make(buffer);
      detach(buffer);
      for (const take of [(v: unknown) => bytesOfSource(v), bytesOfDestination]) {
        const error = thrown(() => take(view));
        expect(error).toBeInstanceOf(InvalidArgumentError);
        expect((error as Error).message).toMatch(/detached/);
      }
    }
    const buffer = new ArrayBuffer(8);
    detach(buffer);
    expect(thrown(() => bytesOfSource(buffer))).toBeInstanceOf(InvalidArgumentError);
  });

  it('takes resizable buffers at their current length; a view the buffer shrank below is EINVAL', () => {
    const rab = resizable(8, 64);
    new Uint8Array(rab).set(counting(8));
    const whole = bytesOfSource(rab);
    const tracking = bytesOfSource(new Uint8Array(rab, 2));
    rab.resize(32);
    // Fixed windows: what the buffer held when the call was made.
    expect(whole.byteLength).toBe(8);
    expect(tracking.byteLength).toBe(6);
    const fixed = new Uint8Array(rab, 16, 8);
    const dv = new DataView(rab, 16, 8);
    const lengthTracking = new Uint16Array(rab, 16);
    rab.resize(4);
    for (const view of [fixed, dv, lengthTracking]) {
      for (const take of [(v: unknown) => bytesOfSource(v), bytesOfDestination]) {
        const error = thrown(() => take(view));
        expect(error).toBeInstanceOf(InvalidArgumentError);
        expect((error as Error).message).toMatch(/shrank/);
      }
    }
    // A view starting at the end of the buffer is empty, not out of bounds.
    expect(bytesOfSource(new Uint8Array(rab, 4)).byteLength).toBe(0);
  });

  it('SharedArrayBuffers and empty views are fine; strings and numbers are EINVAL', () => {
    expect(bytesOfSource(new SharedArrayBuffer(12)).byteLength).toBe(12);
    expect(bytesOfSource(new Uint8Array(0)).byteLength).toBe(0);
    expect(bytesOfDestination(new Uint8Array(0)).byteLength).toBe(0);
    expect((thrown(() => bytesOfSource('abc')) as Error).message).toMatch(/encode text first/);
    expect(thrown(() => bytesOfDestination(new ArrayBuffer(4)))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => bytesOfSource(7))).toBeInstanceOf(InvalidArgumentError);
  });
});

describe('allocateOutput', () => {
  it.each([0, 1, 16, 100, 4095, 65536])('a %i-byte result owns its memory (never a slice of the Buffer pool)', (n) => {
    const out = allocateOutput(n);
    expect(out.byteLength).toBe(n);
    expect(out.byteOffset).toBe(0);
    expect(out.buffer.byteLength).toBe(n);
  });
});

describe('DeviceContext datacopy with lying views', () => {
  let ctx: DeviceContext;
  let h: number;
  beforeEach(() => {
    ctx = new DeviceContext(createTestBackend().backend);
    h = ctx.open(64, 1);
  });
  afterEach(() => ctx.destroy());

  it('copies the real bytes of a view whose byteLength lies, or refuses the range with EINVAL', () => {
    ctx.datacopyH2Region(h, 0, lyingView(counting(16), { byteLength: 4096 }));
    expect([...ctx.datacopyRegion2H(h, 0, 17)]).toEqual([...counting(16), 0]);
    // Claims 4 bytes, holds 16: 16 bytes at 56 do not fit (this was a raw RangeError).
    const error = thrown(() => ctx.datacopyH2Region(h, 56, lyingView(counting(16), { byteLength: 4 })));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(/offset=56 nbytes=16/);
    expect(thrown(() => ctx.datacopyRegion2HInto(h, 56, lyingView(new Uint8Array(16), { byteLength: 4 })))).toBeInstanceOf(InvalidArgumentError);
  });

  it('fills a lying destination through its real window only', () => {
    ctx.datacopyH2Region(h, 0, counting(64));
    const backing = new Uint8Array(32).fill(0xee);
    const dst = lyingView(backing.subarray(8, 16), { byteLength: 32, byteOffset: 0 });
    ctx.datacopyRegion2HInto(h, 10, dst);
    expect([...backing]).toEqual([...new Uint8Array(8).fill(0xee), ...counting(64).subarray(10, 18), ...new Uint8Array(16).fill(0xee)]);
  });

  it('never hands region memory to a destination subclass method', () => {
    let leaked: unknown;
    class Grabby extends Uint8Array {
      override set(source: ArrayLike<number>, offset?: number): void {
        leaked = source;
        super.set(source, offset);
      }
    }
    ctx.datacopyH2Region(h, 0, counting(8));
    const dst = new Grabby(8);
    ctx.datacopyRegion2HInto(h, 0, dst);
    expect(leaked).toBeUndefined();
    expect([...dst]).toEqual([...counting(8)]);
  });

  it('DataView and Proxy arguments are EINVAL, never a TypeError', () => {
    const buffer = new ArrayBuffer(8);
    const dv = new DataView(buffer);
    detach(buffer);
    expect(thrown(() => ctx.datacopyH2Region(h, 0, dv))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => ctx.datacopyRegion2HInto(h, 0, dv))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => ctx.datacopyH2Region(h, 0, new Proxy(new Uint8Array(4), {})))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => ctx.datacopyH2Region(h, 0, new Proxy(new ArrayBuffer(4), {})))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => ctx.datacopyRegion2HInto(h, 0, new Proxy(new Uint8Array(4), {})))).toBeInstanceOf(InvalidArgumentError);
  });

  it('a region2h result owns its memory', () => {
    ctx.datacopyH2Region(h, 0, counting(16));
    const out = ctx.datacopyRegion2H(h, 0, 16);
    expect(out.byteOffset).toBe(0);
    expect(out.buffer.byteLength).toBe(16);
    expect([...new Uint8Array(out.buffer)]).toEqual([...counting(16)]);
  });
});

import { REGION_MAGIC, decodeRegionHeader } from '@simpler/abi';
import { DeviceContext, InvalidArgumentError } from '../src';
import { createTestBackend, dataOffsetOf } from './support/recording-backend';

function expectEinval(fn: () => unknown): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(InvalidArgumentError);
  expect(thrown).toMatchObject({ code: 'EINVAL', errno: -22 });
}

const BAD_INTEGERS: unknown[] = [NaN, -1, 1.5, Infinity, -Infinity, 2 ** 53, 2n ** 64n, -1n, '8', null, undefined, {}, [], true];

describe('DeviceContext.open validation (spec 4)', () => {
  const t = createTestBackend();
  const ctx = new DeviceContext(t.backend);
  afterAll(() => ctx.destroy());

  it.each(BAD_INTEGERS.filter((v) => v !== undefined))('rejects data_bytes %p', (value) => {
    expectEinval(() => ctx.open(value, 1));
  });

  it.each([...BAD_INTEGERS, 2 ** 32, 2n ** 32n])('rejects signal_count %p', (value) => {
    expectEinval(() => ctx.open(64, value));
  });

  it('rejects zero data_bytes and zero signal_count', () => {
    expectEinval(() => ctx.open(0, 1));
    expectEinval(() => ctx.open(64, 0));
    expectEinval(() => ctx.open(0n, 1n));
  });

  it.each([1, 0x8000_0000, 2 ** 32, -1, 0.5, NaN, '0'])('rejects flags %p', (flags) => {
    expectEinval(() => ctx.open(64, 1, flags));
  });

  it('rejects a request that overflows the exact size range', () => {
    expectEinval(() => ctx.open(2 ** 53 - 1, 1));
    expectEinval(() => ctx.open(2n ** 63n, 1));
    expectEinval(() => ctx.open(Number.MAX_SAFE_INTEGER - 64, 0xffff_ffff));
  });

  it('never calls allocate for an invalid request', () => {
    const before = t.calls.filter((c) => c.op === 'allocate').length;
    expectEinval(() => ctx.open(-5, 1));
    expectEinval(() => ctx.open(64, 1, 3));
    expect(t.calls.filter((c) => c.op === 'allocate').length).toBe(before);
  });

  it('accepts bigint and number sizes and computes the layout of spec 3.5', () => {
    const h = ctx.open(100n, 3n, 0n);
    const info = ctx.info(h);
    expect(info).toMatchObject({ dataBytes: 100, signalCount: 3, totalBytes: 256 + 128, flags: 0 });
    expect(t.calls.filter((c) => c.op === 'allocate').at(-1)?.totalBytes).toBe(384);
    ctx.close(h);
  });
});

describe('a freshly opened region', () => {
  it.each([true, false])('is zero except the header (dirty backend memory, shared=%p)', (shared) => {
    const t = createTestBackend({ dirty: true, shared });
    const ctx = new DeviceContext(t.backend);
    const h = ctx.open(1000, 5);
    const bytes = t.allocations[0].bytes;
    const header = decodeRegionHeader(bytes, 0);
    expect(header).toMatchObject({
      magic: REGION_MAGIC,
      version: 1,
      flags: 0,
      signal_count: 5,
      signal_offset: 64n,
      data_offset: BigInt(dataOffsetOf(5)),
      data_bytes: 1000n,
      total_bytes: BigInt(Math.ceil((dataOffsetOf(5) + 1000) / 64) * 64),
    });
    expect(header.reserved).toEqual([0n, 0n]);
    expect(bytes.subarray(64).every((b) => b === 0)).toBe(true);
    expect(bytes.byteLength).toBe(Number(header.total_bytes));
    void ctx.destroy();
  });
});

describe('datacopy validation', () => {
  const t = createTestBackend();
  const ctx = new DeviceContext(t.backend);
  const h = ctx.open(16, 1);
  afterAll(() => ctx.destroy());

  it('accepts a zero-length copy at offset == data_bytes, rejects one past', () => {
    expect(() => ctx.datacopyH2Region(h, 16, new Uint8Array(0))).not.toThrow();
    expect(ctx.datacopyRegion2H(h, 16, 0).byteLength).toBe(0);
    expectEinval(() => ctx.datacopyH2Region(h, 17, new Uint8Array(0)));
    expectEinval(() => ctx.datacopyRegion2H(h, 17, 0));
  });

  it('uses the subtraction form: huge offsets and lengths are EINVAL, not wrapped', () => {
    expectEinval(() => ctx.datacopyH2Region(h, 15, new Uint8Array(2)));
    expectEinval(() => ctx.datacopyRegion2H(h, 1, 16));
    expectEinval(() => ctx.datacopyRegion2H(h, 2 ** 53 - 1, 1));
    expectEinval(() => ctx.datacopyRegion2H(h, 0, 2 ** 53 - 1));
    expectEinval(() => ctx.datacopyRegion2H(h, 0, 2n ** 64n - 1n));
    expectEinval(() => ctx.datacopyRegion2H(h, 2n ** 64n, 0));
  });

  it.each(BAD_INTEGERS)('rejects offset %p', (offset) => {
    expectEinval(() => ctx.datacopyH2Region(h, offset, new Uint8Array(1)));
    expectEinval(() => ctx.datacopyRegion2H(h, offset, 1));
  });

  it.each(BAD_INTEGERS)('rejects nbytes %p', (nbytes) => {
    expectEinval(() => ctx.datacopyRegion2H(h, 0, nbytes));
  });

  it.each(['abc', '', 42, null, undefined, [1, 2], { length: 2 }, Symbol('x')])('rejects source %p', (src) => {
    expectEinval(() => ctx.datacopyH2Region(h, 0, src));
  });

  it('rejects detached buffers and views over them', () => {
    const buffer = new ArrayBuffer(8);
    const view = new Uint8Array(buffer, 2, 4);
    structuredClone(buffer, { transfer: [buffer] });
    expectEinval(() => ctx.datacopyH2Region(h, 0, buffer));
    expectEinval(() => ctx.datacopyH2Region(h, 0, view));
    expectEinval(() => ctx.datacopyRegion2HInto(h, 0, view));
    expect(() => ctx.datacopyH2Region(h, 0, new ArrayBuffer(0))).not.toThrow();
  });

  it('accepts Buffer, other views (honouring byteOffset/byteLength), ArrayBuffer and SharedArrayBuffer', () => {
    ctx.datacopyH2Region(h, 0, Buffer.from([1, 2, 3, 4]));
    const words = new Uint16Array([0xffff, 0x0605, 0x0807, 0xffff]);
    ctx.datacopyH2Region(h, 4, new Uint16Array(words.buffer, 2, 2));
    ctx.datacopyH2Region(h, 8, new DataView(new Uint8Array([0, 9, 10, 0]).buffer, 1, 2));
    ctx.datacopyH2Region(h, 10, new Uint8Array([11, 12]).buffer);
    const sab = new SharedArrayBuffer(2);
    new Uint8Array(sab).set([13, 14]);
    ctx.datacopyH2Region(h, 12, sab);
    ctx.datacopyH2Region(h, 14, new Uint8Array([0, 15, 16, 0]).subarray(1, 3));
    expect([...ctx.datacopyRegion2H(h, 0, 16)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    const out = new Uint16Array(3);
    ctx.datacopyRegion2HInto(h, 2, new Uint8Array(out.buffer, 1, 4));
    expect([...new Uint8Array(out.buffer)]).toEqual([0, 3, 4, 5, 6, 0]);
  });

  it('returns a Buffer copy, not a view of the region', () => {
    ctx.datacopyH2Region(h, 0, new Uint8Array([7]));
    const out = ctx.datacopyRegion2H(h, 0, 1);
    expect(Buffer.isBuffer(out)).toBe(true);
    out[0] = 99;
    expect(ctx.datacopyRegion2H(h, 0, 1)[0]).toBe(7);
  });

  it('rejects a non-view destination', () => {
    expectEinval(() => ctx.datacopyRegion2HInto(h, 0, new ArrayBuffer(2)));
    expectEinval(() => ctx.datacopyRegion2HInto(h, 0, 'xx'));
    expectEinval(() => ctx.datacopyRegion2HInto(h, 10, new Uint8Array(7)));
  });

  it('h2regionWith / region2hWith give exactly the requested window', () => {
    ctx.h2regionWith(h, 3, 4, (dst) => {
      expect(dst.byteLength).toBe(4);
      dst.set([40, 41, 42, 43]);
    });
    let seen: number[] = [];
    ctx.region2hWith(h, 2, 6, (src) => {
      seen = [...src];
    });
    expect(seen.slice(1, 5)).toEqual([40, 41, 42, 43]);
    expectEinval(() => ctx.h2regionWith(h, 16, 1, () => undefined));
    expectEinval(() => ctx.region2hWith(h, 0, 17, () => undefined));
    expectEinval(() => ctx.h2regionWith(h, 0, 1, 'nope' as never));
  });

  it('reports a failing writer callback as a typed error', () => {
    expect(() =>
      ctx.h2regionWith(h, 0, 1, () => {
        throw new Error('disk gone');
      }),
    ).toThrow(expect.objectContaining({ code: 'EIO', message: expect.stringContaining('disk gone') }));
  });
});

describe('signal validation', () => {
  const t = createTestBackend();
  const ctx = new DeviceContext(t.backend);
  const h = ctx.open(64, 2);
  afterAll(() => ctx.destroy());

  it('rejects signal ids >= signal_count and non-u32 ids', () => {
    for (const id of [2, 3, 2 ** 32, -1, 1.5, NaN, '0', 1n << 40n]) {
      expectEinval(() => ctx.notify(h, id, 1));
      expectEinval(() => ctx.probe(h, id, 0));
      expectEinval(() => ctx.waitSync(h, id, 0, 0));
    }
  });

  it.each([-1, 2 ** 32, 1.5, NaN, Infinity, '1', 2n ** 32n, null])('rejects value/target/timeout %p', async (v) => {
    expectEinval(() => ctx.notify(h, 0, v));
    expectEinval(() => ctx.probe(h, 0, v));
    expectEinval(() => ctx.waitSync(h, 0, v, 0));
    expectEinval(() => ctx.waitSync(h, 0, 0, v));
    await expect(ctx.waitAsync(h, 0, v, 0)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(ctx.waitAsync(h, 0, 0, v)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('accepts the full u32 range, as numbers and bigints', () => {
    ctx.notify(h, 1, 0xffff_ffff);
    expect(ctx.probe(h, 1, 0xffff_ffff)).toBe(true);
    expect(ctx.probe(h, 1n, 0xffff_ffffn)).toBe(true);
    expect(() => ctx.waitSync(h, 1, 0xffff_ffff, 0xffff_ffff)).not.toThrow();
  });
});

import { REGION_MAGIC } from '@simpler/abi';
import { BackendError, DeviceContext } from '../src';
import { RecordedCall, createTestBackend, dataOffsetOf, slotOffset } from './support/recording-backend';

const u32At = (bytes: Uint8Array, offset: number): number => new DataView(bytes.buffer, bytes.byteOffset).getUint32(offset, true);

/** Calls recorded while `fn` runs. */
function during(calls: RecordedCall[], fn: () => void): RecordedCall[] {
  const from = calls.length;
  fn();
  return calls.slice(from);
}

const hookView = (c: RecordedCall) => [c.op, c.offset, c.length];

describe('cache hooks at the release and acquire points (spec 7)', () => {
  const DATA = 256;
  const SIGNALS = 2;
  const DOFF = dataOffsetOf(SIGNALS);

  function setup() {
    const t = createTestBackend({ snapshots: true });
    const ctx = new DeviceContext(t.backend);
    const h = ctx.open(DATA, SIGNALS);
    return { t, ctx, h };
  }

  it('open: allocate, then one flush of the whole region after the header is written', () => {
    const t = createTestBackend({ snapshots: true, dirty: true });
    const ctx = new DeviceContext(t.backend);
    ctx.open(DATA, SIGNALS);
    const total = DOFF + DATA;
    expect(t.calls.map(hookView)).toEqual([
      ['allocate', undefined, undefined],
      ['flush', 0, total],
    ]);
    const snap = t.calls[1].snapshot!;
    expect(u32At(snap, 0)).toBe(REGION_MAGIC);
    expect(snap.subarray(64).every((b) => b === 0)).toBe(true);
    void ctx.destroy();
  });

  it('h2region: flush of exactly the written range, after the bytes are in place; no invalidate', () => {
    const { t, ctx, h } = setup();
    const calls = during(t.calls, () => ctx.datacopyH2Region(h, 10, new Uint8Array([1, 2, 3])));
    expect(calls.map(hookView)).toEqual([['flush', DOFF + 10, 3]]);
    expect([...calls[0].snapshot!.subarray(DOFF + 10, DOFF + 13)]).toEqual([1, 2, 3]);
    expect(during(t.calls, () => ctx.datacopyH2Region(h, 0, new Uint8Array(0)))).toEqual([]);
    void ctx.destroy();
  });

  it('h2regionWith: flush after the writer ran', () => {
    const { t, ctx, h } = setup();
    const calls = during(t.calls, () => ctx.h2regionWith(h, 4, 2, (dst) => dst.set([8, 9])));
    expect(calls.map(hookView)).toEqual([['flush', DOFF + 4, 2]]);
    expect([...calls[0].snapshot!.subarray(DOFF + 4, DOFF + 6)]).toEqual([8, 9]);
    void ctx.destroy();
  });

  it('region2h / region2hInto / region2hWith: invalidate of the range before the read', () => {
    const { t, ctx, h } = setup();
    expect(during(t.calls, () => ctx.datacopyRegion2H(h, 5, 7)).map(hookView)).toEqual([['invalidate', DOFF + 5, 7]]);
    expect(during(t.calls, () => ctx.datacopyRegion2HInto(h, 6, new Uint8Array(3))).map(hookView)).toEqual([['invalidate', DOFF + 6, 3]]);
    let lastBeforeRead: RecordedCall | undefined;
    ctx.region2hWith(h, 1, 2, () => {
      lastBeforeRead = t.calls.at(-1);
    });
    expect(hookView(lastBeforeRead!)).toEqual(['invalidate', DOFF + 1, 2]);
    void ctx.destroy();
  });

  it('notify: flush of the data area before the store, then the store, then flush of the slot line', () => {
    const { t, ctx, h } = setup();
    ctx.notify(h, 1, 3);
    const calls = during(t.calls, () => ctx.notify(h, 1, 4));
    expect(calls.map(hookView)).toEqual([
      ['flush', DOFF, DATA],
      ['flush', slotOffset(1), 64],
    ]);
    expect(u32At(calls[0].snapshot!, slotOffset(1))).toBe(3);
    expect(u32At(calls[1].snapshot!, slotOffset(1))).toBe(4);
    void ctx.destroy();
  });

  it('notify with a wakeSignal hook: flush, store, flush of the slot, then wake with the slot offset and the new value', () => {
    const t = createTestBackend({ wake: true });
    const ctx = new DeviceContext(t.backend);
    const h = ctx.open(DATA, SIGNALS);
    const calls = during(t.calls, () => ctx.notify(h, 1, 7));
    expect(calls.map(hookView)).toEqual([
      ['flush', DOFF, DATA],
      ['flush', slotOffset(1), 64],
      ['wake', slotOffset(1), 7],
    ]);
    void ctx.destroy();
  });

  it('a failing wakeSignal hook is EIO and the value stays published', () => {
    const t = createTestBackend({ wake: true });
    const ctx = new DeviceContext(t.backend);
    const h = ctx.open(DATA, SIGNALS);
    t.allocations[0].wakeSignal = () => {
      throw new Error('injected wake failure');
    };
    expect(() => ctx.notify(h, 0, 2)).toThrow(BackendError);
    expect(ctx.probe(h, 0, 2)).toBe(true);
    void ctx.destroy();
  });

  it('probe: invalidate of the slot line before observing it', () => {
    const { t, ctx, h } = setup();
    expect(during(t.calls, () => ctx.probe(h, 1, 0)).map(hookView)).toEqual([['invalidate', slotOffset(1), 64]]);
    void ctx.destroy();
  });

  it('successful waits: invalidate of the slot, then of the data area (acquire)', async () => {
    const { t, ctx, h } = setup();
    ctx.notify(h, 0, 2);
    const expected = [
      ['invalidate', slotOffset(0), 64],
      ['invalidate', DOFF, DATA],
    ];
    expect(during(t.calls, () => ctx.waitSync(h, 0, 2, 1000)).map(hookView)).toEqual(expected);
    const from = t.calls.length;
    await ctx.waitAsync(h, 0, 1, 1000);
    expect(t.calls.slice(from).map(hookView)).toEqual(expected);
    void ctx.destroy();
  });

  it('a missed probe-wait invalidates the slot but performs no acquire', () => {
    const { t, ctx, h } = setup();
    const calls = during(t.calls, () => expect(() => ctx.waitSync(h, 0, 1, 0)).toThrow());
    expect(calls.map(hookView)).toEqual([['invalidate', slotOffset(0), 64]]);
    void ctx.destroy();
  });
});

describe('a non-coherent backend (device sees flushed lines, host sees invalidated lines)', () => {
  it.each([true, false])('round trip through the cache model works only because of the hooks (shared=%p)', async (shared) => {
    const t = createTestBackend({ nonCoherent: true, shared, dirty: true });
    const ctx = new DeviceContext(t.backend);
    const h = ctx.open(8, 2);
    const a = t.allocations[0];
    const device = a.device!;
    const doff = dataOffsetOf(2);
    // The flush at open reached the device: header, zeroed slots and data.
    expect(u32At(device, 0)).toBe(REGION_MAGIC);
    expect(device.subarray(64).every((b) => b === 0)).toBe(true);

    ctx.datacopyH2Region(h, 0, new Uint8Array([1, 2, 3, 4]));
    ctx.notify(h, 0, 1);
    expect([...device.subarray(doff, doff + 4)]).toEqual([1, 2, 3, 4]);
    expect(u32At(device, slotOffset(0))).toBe(1);

    // The "device" answers into its own memory; the host view stays stale until invalidated.
    device.set([9, 8, 7, 6], doff + 4);
    new DataView(device.buffer).setUint32(slotOffset(1), 1, true);
    expect(u32At(a.bytes, slotOffset(1))).toBe(0);
    await ctx.waitAsync(h, 1, 1, 1_000_000);
    expect([...a.bytes.subarray(doff + 4, doff + 8)]).toEqual([9, 8, 7, 6]);
    expect([...ctx.datacopyRegion2H(h, 4, 4)]).toEqual([9, 8, 7, 6]);
    await ctx.destroy();
  });
});

describe('failing hooks', () => {
  it('a failing flush at open is EIO and the allocation is released', () => {
    const t = createTestBackend({ failFlushAt: 1 });
    const ctx = new DeviceContext(t.backend);
    let error: unknown;
    try {
      ctx.open(64, 1);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: 'EIO', errno: -5, message: expect.stringContaining('injected flush failure') });
    expect(t.allocations[0].released).toBe(1);
    expect(ctx.openRegionCount).toBe(0);
    expect(t.calls.map((c) => c.op)).toEqual(['allocate', 'flush', 'release']);
  });

  it('a failing flush during notify is EIO (the region stays usable)', () => {
    const t = createTestBackend({ failFlushAt: 2 });
    const ctx = new DeviceContext(t.backend);
    const h = ctx.open(64, 1);
    expect(() => ctx.notify(h, 0, 1)).toThrow(BackendError);
    expect(ctx.openRegionCount).toBe(1);
    ctx.notify(h, 0, 1);
    void ctx.destroy();
  });
});

import { BACKEND_ABI_VERSION, RegionBackend } from '@simpler/abi';
import {
  BackendError,
  DeviceContext,
  InvalidArgumentError,
  OutOfMemoryError,
  UnsupportedError,
} from '../src';
import { createTestBackend, dataOffsetOf } from './support/recording-backend';

const MAX_TOKEN = Number.MAX_SAFE_INTEGER;

/** Every handle operation, for the "unregistered handle" rules. */
function handleOps(ctx: DeviceContext): Array<[string, (h: unknown) => unknown]> {
  return [
    ['close', (h) => ctx.close(h)],
    ['info', (h) => ctx.info(h)],
    ['publicInfo', (h) => ctx.publicInfo(h)],
    ['datacopyH2Region', (h) => ctx.datacopyH2Region(h, 0, new Uint8Array(1))],
    ['datacopyRegion2H', (h) => ctx.datacopyRegion2H(h, 0, 1)],
    ['datacopyRegion2HInto', (h) => ctx.datacopyRegion2HInto(h, 0, new Uint8Array(1))],
    ['h2regionWith', (h) => ctx.h2regionWith(h, 0, 1, () => undefined)],
    ['region2hWith', (h) => ctx.region2hWith(h, 0, 1, () => undefined)],
    ['notify', (h) => ctx.notify(h, 0, 1)],
    ['probe', (h) => ctx.probe(h, 0, 0)],
    ['waitSync', (h) => ctx.waitSync(h, 0, 0, 0)],
  ];
}

async function expectAllEinval(ctx: DeviceContext, handle: unknown): Promise<void> {
  for (const [name, op] of handleOps(ctx)) {
    let error: unknown;
    try {
      op(handle);
    } catch (e) {
      error = e;
    }
    expect([name, error]).toEqual([name, expect.any(InvalidArgumentError)]);
  }
  await expect(ctx.waitAsync(handle, 0, 0, 0)).rejects.toBeInstanceOf(InvalidArgumentError);
}

describe('handles', () => {
  it('are random non-zero safe integers, distinct per context and never reused while open', () => {
    const a = new DeviceContext(createTestBackend().backend);
    const b = new DeviceContext(createTestBackend().backend);
    const ha = Array.from({ length: 64 }, () => a.open(64, 1));
    const hb = Array.from({ length: 64 }, () => b.open(64, 1));
    for (const h of [...ha, ...hb]) {
      expect(Number.isSafeInteger(h)).toBe(true);
      expect(h).toBeGreaterThanOrEqual(1);
      expect(h).toBeLessThanOrEqual(MAX_TOKEN);
    }
    expect(new Set([...ha, ...hb]).size).toBe(128);
    // Not a counter: consecutive handles are not one apart, and they spread over the range.
    const steps = ha.slice(1).map((h, i) => Math.abs(h - ha[i]));
    expect(steps.filter((s) => s === 1).length).toBe(0);
    expect(Math.max(...ha)).toBeGreaterThan(2 ** 40);
    void a.destroy();
    void b.destroy();
  });

  it('are not handed out again after close', () => {
    const ctx = new DeviceContext(createTestBackend().backend);
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const h = ctx.open(64, 1);
      expect(seen.has(h)).toBe(false);
      seen.add(h);
      ctx.close(h);
    }
    void ctx.destroy();
  });

  it('a handle used just before close or destroy is rejected right after', async () => {
    const ctx = new DeviceContext(createTestBackend().backend);
    const a = ctx.open(64, 1);
    const b = ctx.open(64, 1);
    ctx.notify(a, 0, 1);
    ctx.close(a);
    expect(() => ctx.notify(a, 0, 2)).toThrow(InvalidArgumentError);
    expect(() => ctx.probe(BigInt(a), 0, 0)).toThrow(InvalidArgumentError);
    ctx.notify(b, 0, 1);
    await ctx.destroy();
    expect(() => ctx.notify(b, 0, 2)).toThrow('device context destroyed');
  });

  it('do not reveal host or device addresses', () => {
    const t = createTestBackend();
    const ctx = new DeviceContext(t.backend);
    const h = ctx.open(64, 1);
    const a = t.allocations[0];
    const info = ctx.info(h);
    const addresses = [a.hostBase, a.deviceBase, info.hostDataPtr, info.deviceDataPtr, info.hostSignalPtr, info.deviceSignalPtr];
    expect(addresses).not.toContain(BigInt(h));
    void ctx.destroy();
  });

  it('are accepted as number or bigint', () => {
    const ctx = new DeviceContext(createTestBackend().backend);
    const h = ctx.open(64, 1);
    expect(ctx.info(BigInt(h))).toBe(ctx.info(h));
    ctx.close(BigInt(h));
    void ctx.destroy();
  });

  it('forged, stale, foreign and double-closed handles are EINVAL for every operation', async () => {
    const ctx = new DeviceContext(createTestBackend().backend);
    const other = new DeviceContext(createTestBackend().backend);
    const live = ctx.open(64, 1);
    const foreign = other.open(64, 1);
    const stale = ctx.open(64, 1);
    ctx.close(stale);
    for (const forged of [0, -1, 1.5, NaN, 2 ** 53, 2n ** 64n, 0n, 'abc', null, undefined, {}, live + 1, BigInt(live) + (1n << 60n)]) {
      await expectAllEinval(ctx, forged);
    }
    await expectAllEinval(ctx, foreign);
    await expectAllEinval(ctx, stale);
    expect(() => ctx.close(stale)).toThrow(/not an open region of this device context/);
    // The live handle still works after all that, and the foreign one in its own context.
    expect(ctx.info(live).dataBytes).toBe(64);
    expect(other.info(foreign).dataBytes).toBe(64);
    await ctx.destroy();
    await other.destroy();
  });
});

describe('info', () => {
  it('owner view has real host pointers; public view has 0n host pointers', () => {
    const t = createTestBackend({ deviceBase: 0x4000_0000n });
    const ctx = new DeviceContext(t.backend);
    const h = ctx.open(100, 2);
    const a = t.allocations[0];
    const doff = BigInt(dataOffsetOf(2));
    expect(ctx.info(h)).toEqual({
      hostDataPtr: a.hostBase + doff,
      deviceDataPtr: 0x4000_0000n + doff,
      hostSignalPtr: a.hostBase + 64n,
      deviceSignalPtr: 0x4000_0000n + 64n,
      dataBytes: 100,
      signalCount: 2,
      totalBytes: 192 + 128,
      flags: 0,
    });
    expect(ctx.publicInfo(h)).toEqual({ ...ctx.info(h), hostDataPtr: 0n, hostSignalPtr: 0n });
    expect(Object.isFrozen(ctx.publicInfo(h))).toBe(true);
    void ctx.destroy();
  });
});

describe('destroy', () => {
  it('releases every open region, then the backend, once; later calls are EINVAL', async () => {
    const t = createTestBackend();
    const ctx = new DeviceContext(t.backend);
    const handles = [ctx.open(64, 1), ctx.open(128, 2), ctx.open(1, 1)];
    ctx.close(handles[1]);
    const first = ctx.destroy();
    expect(ctx.destroy()).toBe(first);
    await first;
    await ctx.destroy();
    expect(t.allocations.map((a) => a.released)).toEqual([1, 1, 1]);
    expect(t.destroyed).toBe(1);
    const ops = t.calls.map((c) => c.op).filter((op) => op === 'release' || op === 'destroy');
    expect(ops.at(-1)).toBe('destroy');
    expect(() => ctx.open(64, 1)).toThrow('device context destroyed');
    expect(() => ctx.info(handles[0])).toThrow('device context destroyed');
    expect(() => ctx.launch('k', [])).toThrow(InvalidArgumentError);
    await expect(ctx.synchronize()).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(ctx.isDestroyed).toBe(true);
  });

  it('still destroys the backend when a release fails, and reports it as EIO', async () => {
    const t = createTestBackend();
    const ctx = new DeviceContext(t.backend);
    ctx.open(64, 1);
    t.allocations[0].release = () => {
      throw new Error('unmap failed');
    };
    await expect(ctx.destroy()).rejects.toThrow(BackendError);
    expect(t.destroyed).toBe(1);
  });
});

describe('backend checks and failures', () => {
  it('rejects a backend with the wrong ABI version or shape', () => {
    const good = createTestBackend().backend;
    expect(() => new DeviceContext({ ...good, abiVersion: BACKEND_ABI_VERSION + 1 })).toThrow(BackendError);
    expect(() => new DeviceContext({ ...good, abiVersion: BACKEND_ABI_VERSION + 1 })).toThrow(/ABI version 2/);
    expect(() => new DeviceContext({ ...good, name: 42 })).toThrow(InvalidArgumentError);
    expect(() => new DeviceContext({ ...good, platform: undefined })).toThrow(InvalidArgumentError);
    expect(() => new DeviceContext({ ...good, allocate: undefined })).toThrow(InvalidArgumentError);
    expect(() => new DeviceContext(null)).toThrow(InvalidArgumentError);
    expect(() => new DeviceContext('backend')).toThrow(InvalidArgumentError);
  });

  it.each([
    ['ENOMEM', new OutOfMemoryError('no memory'), OutOfMemoryError],
    ['EIO', new BackendError('mapping failed'), BackendError],
    ['ENOTSUP', new UnsupportedError('no mapping path'), UnsupportedError],
    ['plain Error → EIO', new Error('driver exploded'), BackendError],
    ['a thrown string → EIO', 'weird', BackendError],
  ])('allocation failure %s is passed through typed', (_label, thrown, type) => {
    const ctx = new DeviceContext(createTestBackend({ allocateError: thrown }).backend);
    expect(() => ctx.open(64, 1)).toThrow(type);
    expect(ctx.openRegionCount).toBe(0);
  });

  it('rejects a malformed allocation as EIO and releases it', () => {
    let released = 0;
    const backend: RegionBackend = {
      ...createTestBackend().backend,
      allocate: (total: number) => ({ bytes: new Uint8Array(total - 64), hostBase: 0n, deviceBase: 0n, release: () => void released++ }),
    };
    const ctx = new DeviceContext(backend);
    expect(() => ctx.open(64, 1)).toThrow(/returned an invalid allocation/);
    expect(released).toBe(1);
  });

  it('reports host pointers as 0n when the backend cannot tell its host address', () => {
    const inner = createTestBackend().backend;
    const backend: RegionBackend = { ...inner, allocate: (n: number) => ({ ...inner.allocate(n), hostBase: 0n, release: () => undefined }) };
    const ctx = new DeviceContext(backend);
    const info = ctx.info(ctx.open(64, 1));
    expect(info.hostDataPtr).toBe(0n);
    expect(info.hostSignalPtr).toBe(0n);
  });
});

describe('launch and synchronize', () => {
  it('pass through to the backend with u64 args as bigints', async () => {
    const t = createTestBackend({ withKernels: true });
    const ctx = new DeviceContext(t.backend);
    ctx.launch('round-trip', [1, 2n, 0xffff_ffff_ffff_ffffn, Number.MAX_SAFE_INTEGER]);
    await ctx.synchronize();
    expect(t.calls.slice(-2)).toEqual([
      { op: 'launch', kernel: 'round-trip', args: [1n, 2n, 0xffff_ffff_ffff_ffffn, BigInt(Number.MAX_SAFE_INTEGER)] },
      { op: 'synchronize' },
    ]);
    expect(() => ctx.launch('k', [-1])).toThrow(InvalidArgumentError);
    expect(() => ctx.launch('k', [1.5])).toThrow(InvalidArgumentError);
    expect(() => ctx.launch('k', [2n ** 64n])).toThrow(InvalidArgumentError);
    expect(() => ctx.launch('k', 'args')).toThrow(InvalidArgumentError);
    expect(() => ctx.launch('', [])).toThrow(InvalidArgumentError);
    expect(() => ctx.launch(7, [])).toThrow(InvalidArgumentError);
    await ctx.destroy();
  });

  it('are ENOTSUP when the backend has no kernels', async () => {
    const ctx = new DeviceContext(createTestBackend().backend);
    expect(() => ctx.launch('round-trip', [])).toThrow(UnsupportedError);
    await expect(ctx.synchronize()).rejects.toBeInstanceOf(UnsupportedError);
    await ctx.destroy();
  });

  it('wrap untyped backend failures as EIO', async () => {
    const t = createTestBackend({ withKernels: true });
    const backend = {
      ...t.backend,
      launch: () => {
        throw new TypeError('bad kernel');
      },
      synchronize: async () => {
        throw new Error('kernel fault at 0x10');
      },
    };
    const ctx = new DeviceContext(backend);
    expect(() => ctx.launch('k', [])).toThrow(BackendError);
    await expect(ctx.synchronize()).rejects.toThrow(/kernel fault at 0x10/);
    await ctx.destroy();
  });
});

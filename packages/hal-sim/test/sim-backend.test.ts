import { Worker } from 'node:worker_threads';
import { BACKEND_ABI_VERSION, isRegionError } from '@simpler/abi';
import { BACKEND_NAME, DEVICE_ADDRESS_BASE, DEVICE_ALLOCATION_ALIGN, SimBackend, createBackend } from '../src';
import { MEMORIES, SIGNAL0, hostNotify } from './support/host-side';

describe('SimBackend creation', () => {
  it.each(['a2a3sim', 'a5sim'])('platform %s: name, abiVersion, platform, deviceId', async (platform) => {
    const b = await createBackend({ deviceId: 3, platform });
    try {
      expect(b).toBeInstanceOf(SimBackend);
      expect(b.name).toBe(BACKEND_NAME);
      expect(BACKEND_NAME).toBe('@simpler/hal-sim');
      expect(b.abiVersion).toBe(BACKEND_ABI_VERSION);
      expect(b.platform).toBe(platform);
      expect(b.deviceId).toBe(3);
      expect(b.kernels()).toEqual(['round-trip']);
    } finally {
      await b.destroy();
    }
  });

  it('defaults to a2a3sim', async () => {
    const b = await createBackend({ deviceId: 0 });
    expect(b.platform).toBe('a2a3sim');
    await b.destroy();
  });

  it.each([['a5'], ['a2a3'], [''], [42]])('unknown platform %p is EINVAL', async (platform) => {
    const err = await createBackend({ deviceId: 0, platform: platform as string }).catch((e: unknown) => e);
    expect(isRegionError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'EINVAL', errno: -22 });
    expect((err as Error).message).toContain(`unknown platform '${String(platform)}'`);
  });

  it.each([[-1], [1.5], [Number.NaN], ['0']])('deviceId %p is EINVAL', async (deviceId) => {
    await expect(createBackend({ deviceId: deviceId as number })).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('bad kernels option is EINVAL', async () => {
    await expect(createBackend({ deviceId: 0, kernels: 'x' as never })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(createBackend({ deviceId: 0, kernels: { k: '/no/such/kernel.js' } })).rejects.toMatchObject({
      code: 'EINVAL',
      message: expect.stringContaining('/no/such/kernel.js'),
    });
  });
});

describe('SimBackend creation failures', () => {
  it.each([['guardbytes'], ['kernel'], ['platfrom'], ['transport']])('an unknown option %p is EINVAL naming it and the known ones', async (key) => {
    await expect(createBackend({ deviceId: 0, [key]: 1 })).rejects.toMatchObject({
      code: 'EINVAL',
      message: `@simpler/hal-sim backendOptions: unknown option "${key}"; known options: deviceId, platform, kernels, guardBytes, memory, deviceSpinUs`,
    });
  });

  it.each([[-1], [1.5], [1_000_001], ['100'], [Number.NaN]])('deviceSpinUs %p is EINVAL naming the range', async (deviceSpinUs) => {
    await expect(createBackend({ deviceId: 0, deviceSpinUs } as never)).rejects.toMatchObject({
      code: 'EINVAL',
      message: expect.stringContaining('deviceSpinUs must be an integer number of µs in [0, 1000000]'),
    });
  });

  it('a rejected kernels option stops the device thread it had started', async () => {
    const terminate = jest.spyOn(Worker.prototype, 'terminate');
    try {
      await expect(createBackend({ deviceId: 0, kernels: { k: '/no/such/kernel.js' } })).rejects.toMatchObject({ code: 'EINVAL' });
      expect(terminate).toHaveBeenCalledTimes(1);
    } finally {
      terminate.mockRestore();
    }
  });
});

describe.each(MEMORIES)('SimBackend allocations, %s memory', (memory) => {
  let b: SimBackend;
  beforeAll(async () => {
    b = await createBackend({ deviceId: 0, memory });
  });
  afterAll(() => b.destroy());

  it('gives zeroed shared memory of exactly the size, at a simulated device address', () => {
    for (const size of [1, 63, 64, 4096, 100_000]) {
      const a = b.allocate(size);
      expect(a.bytes.length).toBe(size);
      expect(Object.prototype.toString.call(a.bytes.buffer)).toBe(memory === 'sab' ? '[object SharedArrayBuffer]' : '[object ArrayBuffer]');
      expect(a.share === undefined).toBe(memory === 'sab');
      expect(a.bytes.every((x) => x === 0)).toBe(true);
      expect(a.hostBase).toBe(0n);
      expect(a.deviceBase).toBeGreaterThanOrEqual(BigInt(DEVICE_ADDRESS_BASE));
      expect(a.deviceBase % BigInt(DEVICE_ALLOCATION_ALIGN)).toBe(0n);
      expect(a.deviceBase).toBeLessThan(BigInt(Number.MAX_SAFE_INTEGER));
      expect(a.flush).toBeUndefined();
      expect(a.invalidate).toBeUndefined();
      a.release();
    }
  });

  it('distinct allocations get distinct, non-overlapping device ranges with a gap, never reused', () => {
    const first = b.allocate(100_000);
    const second = b.allocate(10);
    expect(second.deviceBase).toBeGreaterThanOrEqual(first.deviceBase + 100_000n + BigInt(DEVICE_ALLOCATION_ALIGN));
    first.release();
    second.release();
    const third = b.allocate(100_000);
    expect(third.deviceBase).toBeGreaterThan(second.deviceBase);
    third.release();
  });

  it('release is idempotent', () => {
    const a = b.allocate(64);
    a.release();
    expect(() => a.release()).not.toThrow();
  });

  it.each([[0], [-64], [1.5], [Number.NaN], [Number.POSITIVE_INFINITY], ['64'], [2 ** 53]])('size %p is EINVAL', (size) => {
    expect(() => b.allocate(size as number)).toThrow(expect.objectContaining({ code: 'EINVAL', errno: -22 }));
  });

  it('a size the machine cannot hold is ENOMEM', () => {
    expect(() => b.allocate(2 ** 50)).toThrow(expect.objectContaining({ code: 'ENOMEM', errno: -12 }));
  });

  it('an allocation of 2 GiB and more works, and its signal wake-ups reach the whole range', () => {
    const size = 2 ** 31 + 64;
    const a = b.allocate(size);
    try {
      expect(a.bytes.length).toBe(size);
      expect(() => a.wakeSignal?.(size - 64)).not.toThrow();
    } finally {
      a.release();
    }
  });

  it('a size beyond what a typed array can view is ENOMEM, never a raw RangeError', () => {
    let err: unknown;
    try {
      const a = b.allocate(2 ** 32 + 192);
      // Runtimes whose typed arrays reach past 4 GiB may satisfy it: then it must be usable.
      expect(a.bytes.length).toBe(2 ** 32 + 192);
      a.release();
    } catch (e) {
      err = e;
    }
    if (err !== undefined) expect(err).toMatchObject({ code: 'ENOMEM', errno: -12 });
  });

  it('launch validates names and arguments before queueing (EINVAL)', () => {
    expect(() => b.launch('no-such-kernel', [])).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining("'no-such-kernel'") }));
    expect(() => b.launch('round-trip', [1 as unknown as bigint])).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => b.launch('round-trip', [-1n])).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => b.launch('round-trip', [1n << 64n])).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => b.launch('round-trip', 'x' as never)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('synchronize with nothing queued resolves', async () => {
    await expect(b.synchronize()).resolves.toBeUndefined();
  });
});

describe('SimBackend destroy', () => {
  it('is idempotent, and later calls are EINVAL', async () => {
    const b = await createBackend({ deviceId: 0 });
    const a = b.allocate(256);
    a.release();
    await b.destroy();
    await b.destroy();
    expect(() => b.allocate(64)).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('destroyed') }));
    expect(() => b.launch('round-trip', [])).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    await expect(b.synchronize()).rejects.toMatchObject({ code: 'EINVAL' });
    expect(() => a.release()).not.toThrow();
  });

  it('rejects a pending synchronize with EIO when destroyed while a kernel runs', async () => {
    const b = await createBackend({ deviceId: 0 });
    const a = b.allocate(1024);
    b.launch('round-trip', [a.deviceBase + 192n, a.deviceBase + 64n, 1n, 8n]);
    const pending = b.synchronize().then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 20));
    await b.destroy();
    expect(await pending).toMatchObject({ code: 'EIO', message: expect.stringContaining('destroyed') });
    // Memory stays valid on the host after the device is gone.
    hostNotify(a, SIGNAL0, 1);
    expect(a.bytes[SIGNAL0]).toBe(1);
    a.release();
  });
});

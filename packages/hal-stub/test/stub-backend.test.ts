import { BACKEND_ABI_VERSION, RegionError, UnsupportedError, isRegionError } from '@simpler/abi';
import { BACKEND_NAME, STUB_PLATFORM, StubBackend, createBackend } from '../src';

function thrown(fn: () => unknown): RegionError {
  try {
    fn();
  } catch (e) {
    if (isRegionError(e)) return e;
    throw e;
  }
  throw new Error('expected a throw');
}

describe('hal-stub', () => {
  it('creates a backend for platform a5 with every contract entry present', async () => {
    const b = await createBackend({ deviceId: 2 });
    expect(b).toBeInstanceOf(StubBackend);
    expect(BACKEND_NAME).toBe('@simpler/hal-stub');
    expect(b.name).toBe(BACKEND_NAME);
    expect(b.abiVersion).toBe(BACKEND_ABI_VERSION);
    expect(b.platform).toBe(STUB_PLATFORM);
    expect(b.platform).toBe('a5');
    expect(b.deviceId).toBe(2);
    for (const op of ['allocate', 'launch', 'synchronize', 'destroy'] as const) expect(typeof b[op]).toBe('function');
  });

  it('allocate is ENOTSUP naming the operation and the platform', () => {
    const e = thrown(() => createBackend({ deviceId: 0 }).allocate(4096));
    expect(e).toBeInstanceOf(UnsupportedError);
    expect(e).toMatchObject({ code: 'ENOTSUP', errno: -95 });
    expect(e.message).toMatch(/^allocate: platform a5 has no host-device mapping path/);
  });

  it('launch is ENOTSUP naming the operation and the platform', () => {
    const e = thrown(() => createBackend({ deviceId: 0 }).launch('round-trip', [1n]));
    expect(e).toMatchObject({ code: 'ENOTSUP', errno: -95 });
    expect(e.message).toMatch(/^launch: platform a5 /);
  });

  it('synchronize rejects with ENOTSUP naming the operation and the platform', async () => {
    await expect(createBackend({ deviceId: 0 }).synchronize()).rejects.toMatchObject({
      code: 'ENOTSUP',
      errno: -95,
      message: expect.stringMatching(/^synchronize: platform a5 /),
    });
  });

  it('destroy succeeds, twice', () => {
    const b = createBackend({ deviceId: 0 });
    expect(() => b.destroy()).not.toThrow();
    expect(() => b.destroy()).not.toThrow();
  });

  it('rejects other platforms and bad device ids with EINVAL', () => {
    expect(thrown(() => createBackend({ deviceId: 0, platform: 'a2a3' }))).toMatchObject({ code: 'EINVAL' });
    expect(thrown(() => createBackend({ deviceId: -1 }))).toMatchObject({ code: 'EINVAL' });
    expect(createBackend({ deviceId: 0, platform: 'a5' }).platform).toBe('a5');
  });
});

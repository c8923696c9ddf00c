import { BackendAllocation, computeRegionLayout } from '@simpler/abi';
import { AscendBackend, ascendCapabilities, createBackend, hostOrderingSupport } from '../src';
import { DoubleFixture, buildFixture, callNames, describeWithDouble, expectNothingHeld, thrown } from './fixture';

describe('host ordering decision', () => {
  it('x64 needs no hooks; arm64 needs both cache-maintenance symbols; other hosts are refused', () => {
    expect(hostOrderingSupport('x64')).toMatchObject({ supported: true, cacheMaintenance: false });
    expect(hostOrderingSupport('arm64', { aclrtMemFlush: true, aclrtMemInvalidate: true })).toMatchObject({ supported: true, cacheMaintenance: true });
    const noInvalidate = hostOrderingSupport('arm64', { aclrtMemFlush: true, aclrtMemInvalidate: false });
    expect(noInvalidate).toMatchObject({ supported: false, cacheMaintenance: false });
    expect(noInvalidate.reason).toContain('does not export aclrtMemInvalidate');
    expect(noInvalidate.reason).not.toContain('aclrtMemFlush and');
    expect(hostOrderingSupport('arm64').supported).toBe(false);
    expect(hostOrderingSupport('ia32')).toMatchObject({ supported: false, cacheMaintenance: false });
  });
});

describeWithDouble('cache maintenance on an aarch64 host (arch: arm64 injected)', () => {
  let fx: DoubleFixture;
  let backend: AscendBackend;

  beforeAll(() => {
    fx = buildFixture();
    backend = createBackend({ deviceId: 0, arch: 'arm64', ...fx.libs });
  });

  beforeEach(() => fx.dd.reset());

  afterAll(() => {
    backend?.destroy();
    if (fx) expectNothingHeld(fx.dd);
  });

  it('the backend reports cache maintenance and its allocations carry flush and invalidate', () => {
    expect(backend.ordering).toMatchObject({ supported: true, cacheMaintenance: true });
    const mem: BackendAllocation = backend.allocate(4096);
    try {
      expect(typeof mem.flush).toBe('function');
      expect(typeof mem.invalidate).toBe('function');
    } finally {
      mem.release();
    }
  });

  it('flush/invalidate call aclrtMemFlush/aclrtMemInvalidate with deviceBase + offset and the length', () => {
    const mem: BackendAllocation = backend.allocate(8192);
    try {
      fx.dd.reset();
      mem.flush!(64, 128);
      mem.invalidate!(4096, 4096);
      mem.flush!(0, 8192);
      expect(fx.dd.calls()).toEqual([
        { call: 'aclrtMemFlush', args: [String(mem.deviceBase + 64n), '128'], ret: 0 },
        { call: 'aclrtMemInvalidate', args: [String(mem.deviceBase + 4096n), '4096'], ret: 0 },
        { call: 'aclrtMemFlush', args: [String(mem.deviceBase), '8192'], ret: 0 },
      ]);
      // The host address is a different mapping: the double rejects it, so a mix-up would fail.
      expect(mem.hostBase).not.toBe(mem.deviceBase);
    } finally {
      mem.release();
    }
  });

  it('a zero length is a no-op and a range outside the region is EINVAL, with no runtime call', () => {
    const mem: BackendAllocation = backend.allocate(256);
    try {
      fx.dd.reset();
      mem.flush!(256, 0);
      expect(thrown(() => mem.invalidate!(200, 57))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('offset=200') });
      expect(thrown(() => mem.flush!(-1, 4))).toMatchObject({ code: 'EINVAL' });
      expect(callNames(fx.dd)).toEqual([]);
    } finally {
      mem.release();
    }
    expect(thrown(() => mem.flush!(0, 4))).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('released') });
  });

  it.each([
    ['flush', 'aclrtMemFlush'],
    ['invalidate', 'aclrtMemInvalidate'],
  ] as const)('an injected %s failure → EIO naming %s, the region offset and the code', (hook, call) => {
    const mem: BackendAllocation = backend.allocate(4096);
    try {
      fx.dd.failNext(call, 107000);
      const e = thrown(() => mem[hook]!(128, 64));
      expect(e).toMatchObject({ name: 'BackendError', code: 'EIO' });
      expect(e.message).toBe(`${call} failed with return code 107000 (ACL_ERROR_RT_PARAM_INVALID) (region offset 128, 64 bytes, device 0)`);
      expect(e.message).not.toContain(String(mem.hostBase));
      mem[hook]!(128, 64); // the failure was one-shot
    } finally {
      mem.release();
    }
  });

  it('region-core style use: the header flush at open and the hooks around a datacopy reach the device range', () => {
    const layout = computeRegionLayout(1024, 2);
    const mem: BackendAllocation = backend.allocate(layout.totalBytes);
    try {
      fx.dd.reset();
      mem.flush!(0, layout.totalBytes);
      mem.bytes.set([1, 2, 3], layout.dataOffset);
      mem.flush!(layout.dataOffset, 3);
      mem.invalidate!(layout.signalOffset, 64);
      const calls = fx.dd.calls();
      expect(calls.map((c) => c.ret)).toEqual([0, 0, 0]);
      expect(calls[1].args).toEqual([String(mem.deviceBase + BigInt(layout.dataOffset)), '3']);
    } finally {
      mem.release();
    }
  });

  it('the capability report says cache maintenance is available', () => {
    const caps = ascendCapabilities({ ...fx.libs, arch: 'arm64' });
    expect(caps.symbols).toMatchObject({ aclrtMemFlush: true, aclrtMemInvalidate: true });
    expect(caps.ordering).toMatchObject({ supported: true, cacheMaintenance: true });
    expect(caps.errors).toEqual([]);
  });
});

describeWithDouble('aarch64 without the cache-maintenance symbols', () => {
  it.each([
    [['aclrtMemFlush'] as const, 'aclrtMemFlush'],
    [['aclrtMemInvalidate'] as const, 'aclrtMemInvalidate'],
    [['aclrtMemFlush', 'aclrtMemInvalidate'] as const, 'aclrtMemFlush and aclrtMemInvalidate'],
  ])('a runtime built without %p → ENOTSUP at createBackend naming it; nothing called', (omit, named) => {
    const variant = buildFixture({ omit });
    const e = thrown(() => createBackend({ deviceId: 0, arch: 'arm64', ...variant.libs }));
    expect(e).toMatchObject({ name: 'UnsupportedError', code: 'ENOTSUP' });
    expect(e.message).toContain(`does not export ${named},`);
    expect(e.message).toMatch(/aarch64.*cache clean\/invalidate/);
    expect(e.message).toContain(variant.runtimePath);
    expect(variant.dd.calls()).toEqual([]);
    const caps = ascendCapabilities({ ...variant.libs, arch: 'arm64' });
    expect(caps.ordering.supported).toBe(false);
    expect(caps.errors).toContain(caps.ordering.reason);
    // x64 does not need them: the same libraries work there, with no hooks.
    const x64 = createBackend({ deviceId: 0, arch: 'x64', ...variant.libs });
    const mem: BackendAllocation = x64.allocate(4096);
    expect(mem.flush).toBeUndefined();
    expect(mem.invalidate).toBeUndefined();
    mem.release();
    x64.destroy();
    expectNothingHeld(variant.dd);
  });

  it('x64 with the full runtime: allocations have no hooks and no maintenance call is made', () => {
    const fx = buildFixture();
    const backend = createBackend({ deviceId: 0, arch: 'x64', ...fx.libs });
    expect(backend.ordering.cacheMaintenance).toBe(false);
    const mem: BackendAllocation = backend.allocate(4096);
    expect('flush' in mem).toBe(false);
    expect('invalidate' in mem).toBe(false);
    mem.release();
    backend.destroy();
    expect(callNames(fx.dd).filter((c) => c.startsWith('aclrtMem'))).toEqual([]);
    expectNothingHeld(fx.dd);
  });
});

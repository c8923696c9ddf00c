import { BACKEND_ABI_VERSION, DEV_SVM_MAP_HOST, computeRegionLayout } from '@simpler/abi';
import type * as KoffiModule from 'koffi' with { 'resolution-mode': 'import' };
import { BACKEND_NAME, createBackend } from '../src';
import { DoubleFixture, buildFixture, callNames, describeWithDouble, expectNothingHeld } from './fixture';

const koffi = require('koffi') as typeof KoffiModule;

describeWithDouble('hal-ascend against the test-double driver', () => {
  let fx: DoubleFixture;

  beforeAll(() => {
    fx = buildFixture();
  });

  beforeEach(() => fx.dd.reset());

  afterEach(() => {
    expectNothingHeld(fx.dd);
    expect(fx.dd.orderViolations()).toBe(0);
    expect(fx.dd.aclInitialized()).toBe(0);
  });

  it('describes itself as the contract asks', () => {
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    try {
      expect(backend.name).toBe(BACKEND_NAME);
      expect(BACKEND_NAME).toBe('@simpler/hal-ascend');
      expect(backend.abiVersion).toBe(BACKEND_ABI_VERSION);
      expect(backend.deviceId).toBe(0);
      expect(backend.platform).toBe('a2a3');
      expect(backend.halPath).toBe(fx.halPath);
      expect(backend.runtimePath).toBe(fx.runtimePath);
      expect('launch' in backend).toBe(false);
      expect('synchronize' in backend).toBe(false);
    } finally {
      backend.destroy();
    }
  });

  it('initialises the runtime and binds the device, and undoes both on destroy', () => {
    const backend = createBackend({ deviceId: 1, ...fx.libs });
    expect(fx.dd.aclInitialized()).toBe(1);
    expect(fx.dd.deviceRefs(1)).toBe(1);
    backend.destroy();
    backend.destroy(); // idempotent
    expect(fx.dd.deviceRefs(1)).toBe(0);
    const calls = fx.dd.calls();
    expect(calls.map((c) => c.call)).toEqual(['aclInit', 'aclrtSetDevice', 'aclrtGetLogicDevIdByUserDevId', 'aclrtResetDevice', 'aclFinalize']);
    expect(calls[0].args).toEqual(['0']); // aclInit(NULL)
    expect(calls[1].args).toEqual(['1']);
    expect(calls[2]).toMatchObject({ args: ['1'], out: '1' }); // the double's identity map
    expect(calls[3].args).toEqual(['1']);
  });

  it('allocates with flag DEV_SVM_MAP_HOST, the right sizes and distinct device and host addresses', () => {
    const backend = createBackend({ deviceId: 1, ...fx.libs });
    try {
      const total = computeRegionLayout(1000, 3).totalBytes;
      const mem = backend.allocate(total);
      expect(mem.bytes.byteLength).toBe(total);
      const calls = fx.dd.calls();
      const malloc = calls.find((c) => c.call === 'aclrtMalloc')!;
      const register = calls.find((c) => c.call === 'halHostRegister')!;
      expect(malloc.args).toEqual([String(total), '0']); // size, ACL_MEM_MALLOC_HUGE_FIRST
      expect(register.args).toEqual([malloc.out, String(total), String(DEV_SVM_MAP_HOST), '1']);
      expect(DEV_SVM_MAP_HOST).toBe(2);
      expect(mem.deviceBase).toBe(BigInt(malloc.out!));
      expect(mem.hostBase).toBe(BigInt(register.out!));
      expect(mem.hostBase).not.toBe(mem.deviceBase);
      expect(mem.hostBase).not.toBe(0n);
      expect(fx.dd.liveAllocations()).toBe(1);
      expect(fx.dd.liveRegistrations()).toBe(1);
      mem.release();
    } finally {
      backend.destroy();
    }
  });

  it('zeroes the host view although the device memory starts as garbage', () => {
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    try {
      const mem = backend.allocate(8192);
      // The double fills fresh device memory with 0xA5; every byte must read 0 through the host view.
      expect(mem.bytes.every((b) => b === 0)).toBe(true);
      mem.release();
    } finally {
      backend.destroy();
    }
  });

  it('shares bytes between the host view and the device mapping', () => {
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    try {
      const layout = computeRegionLayout(64, 2);
      const mem = backend.allocate(layout.totalBytes);
      // A one-iteration device run proves host writes reach the device address and back.
      const n = 32;
      const data = mem.bytes.subarray(layout.dataOffset);
      for (let i = 0; i < n; i++) data[i] = i;
      const signals = new Int32Array(mem.bytes.buffer, mem.bytes.byteOffset + layout.signalOffset, 32);
      Atomics.store(signals, 0, 1);
      expect(fx.dd.startRoundTrip(mem.deviceBase + BigInt(layout.dataOffset), mem.deviceBase + BigInt(layout.signalOffset), 1, n, 10_000)).toBe(0);
      expect(fx.dd.joinDevice()).toBe(0);
      expect(Atomics.load(signals, 16)).toBe(1);
      for (let i = 0; i < n; i++) expect(data[n + i]).toBe(i ^ ((1 + i * 3) & 0xff));
      mem.release();
    } finally {
      backend.destroy();
    }
  });

  it('rejects a device run given host addresses (the double catches pointer mix-ups)', () => {
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    try {
      const layout = computeRegionLayout(64, 2);
      const mem = backend.allocate(layout.totalBytes);
      expect(fx.dd.startRoundTrip(mem.hostBase + BigInt(layout.dataOffset), mem.hostBase + BigInt(layout.signalOffset), 1, 32, 100)).toBe(-22);
      mem.release();
    } finally {
      backend.destroy();
    }
  });

  it('releases by unregistering the registered device pointer before freeing it, once', () => {
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    try {
      const mem = backend.allocate(4096);
      fx.dd.reset();
      mem.release();
      mem.release(); // idempotent
      const calls = fx.dd.calls();
      expect(calls.map((c) => c.call)).toEqual(['halHostUnregister', 'aclrtFree']);
      expect(calls[0].args).toEqual([String(mem.deviceBase), '0']);
      expect(calls[1].args).toEqual([String(mem.deviceBase)]);
      expect(calls.every((c) => c.ret === 0)).toBe(true);
      expectNothingHeld(fx.dd);
    } finally {
      backend.destroy();
    }
  });

  it('keeps several allocations apart and releases leftovers at destroy', () => {
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    const a = backend.allocate(4096);
    const b = backend.allocate(128);
    a.bytes[0] = 1;
    b.bytes[0] = 2;
    expect(a.bytes[0]).toBe(1);
    expect(a.deviceBase).not.toBe(b.deviceBase);
    expect(fx.dd.liveAllocations()).toBe(2);
    a.release();
    backend.destroy(); // releases b as a fallback
    expect(callNames(fx.dd).slice(-4)).toEqual(['halHostUnregister', 'aclrtFree', 'aclrtResetDevice', 'aclFinalize']);
  });

  it('shares one aclInit between backends and finalizes with the last', () => {
    const b0 = createBackend({ deviceId: 0, ...fx.libs });
    const b1 = createBackend({ deviceId: 1, ...fx.libs });
    expect(callNames(fx.dd).filter((c) => c === 'aclInit')).toHaveLength(1);
    b0.destroy();
    expect(fx.dd.aclInitialized()).toBe(1);
    expect(callNames(fx.dd)).not.toContain('aclFinalize');
    b1.destroy();
    expect(callNames(fx.dd).filter((c) => c === 'aclFinalize')).toHaveLength(1);
  });

  it('treats "repeat initialize" from aclInit as success and leaves that runtime to its owner', () => {
    // Another component of the process initialised ACL first.
    const other = koffi.load(fx.runtimePath);
    const aclInit = other.func('int aclInit(const char *path)');
    const aclFinalize = other.func('int aclFinalize(void)');
    expect(aclInit(null)).toBe(0);
    fx.dd.reset();
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    backend.destroy();
    expect(fx.dd.calls().map((c) => [c.call, c.ret])).toEqual([
      ['aclInit', 100002],
      ['aclrtSetDevice', 0],
      ['aclrtGetLogicDevIdByUserDevId', 0],
      ['aclrtResetDevice', 0],
    ]);
    expect(fx.dd.aclInitialized()).toBe(1);
    expect(aclFinalize()).toBe(0);
  });

  it('rejects malformed sizes and use after destroy with EINVAL', () => {
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    for (const bad of [0, -1, 1.5, NaN, Number.MAX_SAFE_INTEGER + 1, '64' as unknown as number]) {
      expect(() => backend.allocate(bad)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    }
    backend.destroy();
    expect(() => backend.allocate(64)).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('destroyed') }));
    expect(callNames(fx.dd)).not.toContain('aclrtMalloc');
  });
});

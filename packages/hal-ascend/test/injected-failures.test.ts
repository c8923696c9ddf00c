import { createBackend } from '../src';
import { DoubleFixture, buildFixture, callNames, describeWithDouble, expectNothingHeld, thrown } from './fixture';

describeWithDouble('injected driver and runtime failures', () => {
  let fx: DoubleFixture;

  beforeAll(() => {
    fx = buildFixture();
  });

  beforeEach(() => fx.dd.reset());

  afterEach(() => {
    expectNothingHeld(fx.dd);
    expect(fx.dd.aclInitialized()).toBe(0);
    fx.dd.forceCleanup();
  });

  it('aclInit failure → EIO naming aclInit, the code and the library; nothing initialised', () => {
    fx.dd.failNext('aclInit', 100000);
    const e = thrown(() => createBackend({ deviceId: 0, ...fx.libs }));
    expect(e).toMatchObject({ name: 'BackendError', code: 'EIO', errno: -5 });
    expect(e.message).toContain('aclInit');
    expect(e.message).toContain('100000');
    expect(e.message).toContain(fx.runtimePath);
    expect(callNames(fx.dd)).toEqual(['aclInit']);
  });

  it('aclrtSetDevice failure → EIO naming the call and device; the runtime is finalized again', () => {
    fx.dd.failNext('aclrtSetDevice', 107001);
    const e = thrown(() => createBackend({ deviceId: 0, ...fx.libs }));
    expect(e).toMatchObject({ code: 'EIO' });
    expect(e.message).toMatch(/aclrtSetDevice\(0\) failed with return code 107001 \(ACL_ERROR_RT_INVALID_DEVICEID\)/);
    expect(callNames(fx.dd)).toEqual(['aclInit', 'aclrtSetDevice', 'aclFinalize']);
    // And a later backend initialises afresh.
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    backend.destroy();
  });

  it('a device id the runtime does not know → EIO from aclrtSetDevice', () => {
    const e = thrown(() => createBackend({ deviceId: 7, ...fx.libs }));
    expect(e).toMatchObject({ code: 'EIO', message: expect.stringContaining('aclrtSetDevice(7)') });
  });

  it.each([
    [207001, 'ACL_ERROR_RT_MEMORY_ALLOCATION'],
    [200000, 'ACL_ERROR_BAD_ALLOC'],
  ])('aclrtMalloc refusal %i → ENOMEM naming the size and code', (code, name) => {
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    try {
      fx.dd.failNext('aclrtMalloc', code);
      const e = thrown(() => backend.allocate(4096));
      expect(e).toMatchObject({ name: 'OutOfMemoryError', code: 'ENOMEM', errno: -12 });
      expect(e.message).toContain('aclrtMalloc of 4096 bytes');
      expect(e.message).toContain(`${code} (${name})`);
      expect(callNames(fx.dd)).not.toContain('halHostRegister');
      // The backend stays usable.
      backend.allocate(64).release();
    } finally {
      backend.destroy();
    }
  });

  it('aclrtMalloc failing for another reason → EIO', () => {
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    try {
      fx.dd.failNext('aclrtMalloc', 107000);
      const e = thrown(() => backend.allocate(4096));
      expect(e).toMatchObject({ code: 'EIO', message: expect.stringContaining('107000 (ACL_ERROR_RT_PARAM_INVALID)') });
    } finally {
      backend.destroy();
    }
  });

  it('halHostRegister failure → EIO naming the call and code; the device memory is freed', () => {
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    try {
      fx.dd.reset();
      fx.dd.failNext('halHostRegister', 3);
      const e = thrown(() => backend.allocate(4096));
      expect(e).toMatchObject({ code: 'EIO' });
      expect(e.message).toContain('halHostRegister');
      expect(e.message).toContain('3 (DRV_ERROR_INVALID_VALUE)');
      const calls = fx.dd.calls();
      expect(calls.map((c) => c.call)).toEqual(['aclrtMalloc', 'halHostRegister', 'aclrtFree']);
      expect(calls[2].args).toEqual([calls[0].out]);
      expectNothingHeld(fx.dd);
    } finally {
      backend.destroy();
    }
  });

  it('halHostRegister returning success with a null host pointer → EIO, never a view of null', () => {
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    try {
      fx.dd.reset();
      fx.dd.failNext('halHostRegister.nullHost', 0);
      const e = thrown(() => backend.allocate(4096));
      expect(e).toMatchObject({ code: 'EIO', message: expect.stringContaining('null host pointer') });
      expect(callNames(fx.dd)).toEqual(['aclrtMalloc', 'halHostRegister', 'halHostUnregister', 'aclrtFree']);
      expectNothingHeld(fx.dd);
    } finally {
      backend.destroy();
    }
  });

  it('aclrtFree failure on release → EIO naming it; destroy retries the free so nothing leaks', () => {
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    const mem = backend.allocate(4096);
    fx.dd.reset();
    fx.dd.failNext('aclrtFree', 207002);
    const e = thrown(() => mem.release());
    expect(e).toMatchObject({ code: 'EIO', message: expect.stringContaining('aclrtFree failed with return code 207002 (ACL_ERROR_RT_MEMORY_FREE)') });
    expect(fx.dd.liveRegistrations()).toBe(0);
    expect(fx.dd.liveAllocations()).toBe(1);
    backend.destroy();
    expect(callNames(fx.dd)).toEqual(['halHostUnregister', 'aclrtFree', 'aclrtFree', 'aclrtResetDevice', 'aclFinalize']);
  });

  it('aclrtResetDevice failure on destroy → EIO naming it; the runtime is still finalized', () => {
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    backend.allocate(128).release();
    fx.dd.reset();
    fx.dd.failNext('aclrtResetDevice', 107001);
    const e = thrown(() => backend.destroy());
    expect(e).toMatchObject({ code: 'EIO', message: expect.stringContaining('aclrtResetDevice(0) failed with return code 107001') });
    expect(callNames(fx.dd)).toEqual(['aclrtResetDevice', 'aclFinalize']);
    expect(() => backend.destroy()).not.toThrow();
  });

  it('aclFinalize failure on destroy → EIO naming it', () => {
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    fx.dd.failNext('aclFinalize', 100000);
    const e = thrown(() => backend.destroy());
    expect(e).toMatchObject({ code: 'EIO', message: expect.stringContaining('aclFinalize() failed with return code 100000') });
    fx.dd.forceCleanup(); // the injected failure left the double initialised
  });

  it('several failures in one destroy are all reported, and everything else is still released', () => {
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    backend.allocate(4096);
    fx.dd.failNext('halHostUnregister', 3);
    fx.dd.failNext('aclrtResetDevice', 107001);
    const e = thrown(() => backend.destroy());
    expect(e).toMatchObject({ code: 'EIO' });
    expect(e.message).toContain('halHostUnregister');
    expect(e.message).toContain('aclrtResetDevice');
    // The unmap was retried in the same destroy, so the memory was freed only once unmapped.
    expect(fx.dd.orderViolations()).toBe(0);
  });
});

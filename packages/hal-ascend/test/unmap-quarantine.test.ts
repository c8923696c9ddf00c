import { ascendCapabilities, ascendQuarantine, createBackend } from '../src';
import { DoubleFixture, buildFixture, callNames, describeWithDouble, expectNothingHeld, thrown } from './fixture';

// Device memory whose host mapping could not be removed must never be freed: a later allocation
// could reuse it and be reachable through the stale mapping. The double keeps the mapping when
// halHostUnregister fails and counts every free of still-mapped memory as an order violation.
describeWithDouble('a failed unmap: the pair is quarantined, never freed while mapped', () => {
  let fx: DoubleFixture;

  beforeAll(() => {
    fx = buildFixture();
  });

  beforeEach(() => {
    fx.dd.reset();
    fx.dd.setLogicalDeviceId(0, 3);
  });

  afterEach(() => {
    expect(fx.dd.orderViolations()).toBe(0);
    fx.dd.forceCleanup();
    fx.dd.reset();
  });

  it('release → EIO saying so; no aclrtFree; destroy retries the unregister, then frees', () => {
    const before = ascendQuarantine();
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    const mem = backend.allocate(4096);
    const dev = String(mem.deviceBase);
    fx.dd.reset();
    fx.dd.setLogicalDeviceId(0, 3);
    fx.dd.failNext('halHostUnregister', 4);
    const e = thrown(() => mem.release());
    expect(e).toMatchObject({ name: 'BackendError', code: 'EIO' });
    expect(e.message).toContain('halHostUnregister failed with return code 4 (DRV_ERROR_INVALID_HANDLE)');
    expect(e.message).toContain('quarantined');
    expect(callNames(fx.dd)).toEqual(['halHostUnregister']);
    // Still allocated and still mapped: nothing was freed under the mapping.
    expect({ allocations: fx.dd.liveAllocations(), registrations: fx.dd.liveRegistrations() }).toEqual({ allocations: 1, registrations: 1 });
    expect(backend.quarantine).toEqual({ count: 1, bytes: 4096 });
    expect(ascendQuarantine()).toEqual({ count: before.count + 1, bytes: before.bytes + 4096 });
    expect(ascendCapabilities(fx.libs).quarantine).toEqual(ascendQuarantine());
    expect(() => mem.release()).not.toThrow(); // idempotent: the retry belongs to destroy
    expect(callNames(fx.dd)).toHaveLength(2); // + the capability report's aclrtGetDeviceCount

    backend.destroy();
    const calls = fx.dd.calls().filter((c) => c.call !== 'aclrtGetDeviceCount');
    expect(calls.map((c) => [c.call, ...c.args, c.ret])).toEqual([
      ['halHostUnregister', dev, '3', 4],
      ['halHostUnregister', dev, '3', 0],
      ['aclrtFree', dev, 0],
      ['aclrtResetDevice', '0', 0],
      ['aclFinalize', 0],
    ]);
    expectNothingHeld(fx.dd);
    expect(backend.quarantine).toEqual({ count: 0, bytes: 0 });
    expect(ascendQuarantine()).toEqual(before);
  });

  it('an unregister that fails again at destroy → EIO; the pair stays mapped, allocated and counted', () => {
    const before = ascendQuarantine();
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    const mem = backend.allocate(8192);
    fx.dd.failNext('halHostUnregister', 4);
    fx.dd.failNext('halHostUnregister', 4);
    expect(thrown(() => mem.release())).toMatchObject({ code: 'EIO' });
    const e = thrown(() => backend.destroy());
    expect(e).toMatchObject({ code: 'EIO' });
    expect(e.message).toContain('halHostUnregister (retry) failed with return code 4');
    expect(e.message).toContain('8192 bytes');
    expect(callNames(fx.dd)).not.toContain('aclrtFree');
    expect(callNames(fx.dd).slice(-2)).toEqual(['aclrtResetDevice', 'aclFinalize']);
    expect({ allocations: fx.dd.liveAllocations(), registrations: fx.dd.liveRegistrations() }).toEqual({ allocations: 1, registrations: 1 });
    // Left for the life of the process, and visible to anyone who asks.
    expect(backend.quarantine).toEqual({ count: 1, bytes: 8192 });
    expect(ascendQuarantine()).toEqual({ count: before.count + 1, bytes: before.bytes + 8192 });
    expect(ascendCapabilities(fx.libs).quarantine).toEqual({ count: before.count + 1, bytes: before.bytes + 8192 });
    expect(() => backend.destroy()).not.toThrow();
  });

  it('an allocation still open at destroy whose unmap fails is retried in the same destroy', () => {
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    backend.allocate(4096);
    fx.dd.reset();
    fx.dd.setLogicalDeviceId(0, 3);
    fx.dd.failNext('halHostUnregister', 3);
    const e = thrown(() => backend.destroy());
    expect(e).toMatchObject({ code: 'EIO', message: expect.stringContaining('halHostUnregister failed with return code 3') });
    expect(fx.dd.calls().map((c) => [c.call, c.ret])).toEqual([
      ['halHostUnregister', 3],
      ['halHostUnregister', 0],
      ['aclrtFree', 0],
      ['aclrtResetDevice', 0],
      ['aclFinalize', 0],
    ]);
    expectNothingHeld(fx.dd);
  });

  it('a failed free after a good unmap is not quarantined (nothing maps it) and is retried at destroy', () => {
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    const mem = backend.allocate(4096);
    fx.dd.failNext('aclrtFree', 207002);
    expect(thrown(() => mem.release())).toMatchObject({ code: 'EIO' });
    expect(backend.quarantine).toEqual({ count: 0, bytes: 0 });
    expect(fx.dd.liveRegistrations()).toBe(0);
    backend.destroy();
    expectNothingHeld(fx.dd);
  });
});

import { DEV_SVM_MAP_HOST } from '@simpler/abi';
import { ascendCapabilities, createBackend } from '../src';
import { DoubleFixture, buildFixture, callNames, describeWithDouble, expectNothingHeld, thrown } from './fixture';

// The driver numbers devices by logical id; the runtime and users by the user-visible id
// (remapped by ASCEND_RT_VISIBLE_DEVICES). The double remaps here, so a backend that hands the
// driver the user id gets DRV_ERROR_INVALID_DEVICE from halHostRegister.
describeWithDouble('device ids: user-visible for the runtime, logical for the driver', () => {
  let fx: DoubleFixture;

  beforeAll(() => {
    fx = buildFixture();
  });

  beforeEach(() => {
    fx.dd.reset();
    fx.dd.setLogicalDeviceId(0, 3);
    fx.dd.setLogicalDeviceId(1, 0);
  });

  afterEach(() => {
    expectNothingHeld(fx.dd);
    expect(fx.dd.orderViolations()).toBe(0);
    expect(fx.dd.aclInitialized()).toBe(0);
    fx.dd.reset();
  });

  it('converts once at creation and registers and unregisters with the logical id', () => {
    const backend = createBackend({ deviceId: 0, ...fx.libs });
    expect(backend.deviceId).toBe(0);
    expect(backend.logicalDeviceId).toBe(3);
    expect(backend.deviceIdConversion).toBe('aclrtGetLogicDevIdByUserDevId');
    const a = backend.allocate(4096);
    const b = backend.allocate(128);
    a.release();
    b.release();
    backend.destroy();
    const calls = fx.dd.calls();
    expect(calls.map((c) => c.call)).toEqual([
      'aclInit',
      'aclrtSetDevice',
      'aclrtGetLogicDevIdByUserDevId',
      'aclrtMalloc',
      'halHostRegister',
      'aclrtMalloc',
      'halHostRegister',
      'halHostUnregister',
      'aclrtFree',
      'halHostUnregister',
      'aclrtFree',
      'aclrtResetDevice',
      'aclFinalize',
    ]);
    expect(calls[1].args).toEqual(['0']); // aclrtSetDevice: the user id
    expect(calls[2]).toMatchObject({ args: ['0'], ret: 0, out: '3' });
    expect(calls[4].args).toEqual([calls[3].out, '4096', String(DEV_SVM_MAP_HOST), '3']);
    expect(calls[6].args).toEqual([calls[5].out, '128', String(DEV_SVM_MAP_HOST), '3']);
    expect(calls[7].args).toEqual([calls[3].out, '3']);
    expect(calls[9].args).toEqual([calls[5].out, '3']);
    expect(calls.every((c) => c.ret === 0)).toBe(true);
    expect(calls[11].args).toEqual(['0']); // aclrtResetDevice: the user id
  });

  it('keeps two remapped devices apart (user 1 is logical 0, user 0 is logical 3)', () => {
    const b0 = createBackend({ deviceId: 0, ...fx.libs });
    const b1 = createBackend({ deviceId: 1, ...fx.libs });
    try {
      expect([b0.logicalDeviceId, b1.logicalDeviceId]).toEqual([3, 0]);
      fx.dd.reset();
      fx.dd.setLogicalDeviceId(0, 3);
      fx.dd.setLogicalDeviceId(1, 0);
      // aclrtMalloc uses the calling thread's current device: the last aclrtSetDevice (user 1).
      const m1 = b1.allocate(64);
      const register = fx.dd.calls().find((c) => c.call === 'halHostRegister')!;
      expect(register).toMatchObject({ ret: 0 });
      expect(register.args[3]).toBe('0');
      m1.release();
      expect(fx.dd.calls().find((c) => c.call === 'halHostUnregister')!.args[1]).toBe('0');
    } finally {
      b1.destroy();
      b0.destroy();
    }
    expect(callNames(fx.dd).filter((c) => c === 'aclrtGetLogicDevIdByUserDevId')).toHaveLength(0); // converted at creation only
  });

  it('a failed conversion → EIO naming the call, the id and the code; the device and runtime are released', () => {
    fx.dd.failNext('aclrtGetLogicDevIdByUserDevId', 107001);
    const e = thrown(() => createBackend({ deviceId: 0, ...fx.libs }));
    expect(e).toMatchObject({ name: 'BackendError', code: 'EIO' });
    expect(e.message).toContain('aclrtGetLogicDevIdByUserDevId(0) failed with return code 107001 (ACL_ERROR_RT_INVALID_DEVICEID)');
    expect(callNames(fx.dd)).toEqual(['aclInit', 'aclrtSetDevice', 'aclrtGetLogicDevIdByUserDevId', 'aclrtResetDevice', 'aclFinalize']);
    expect(fx.dd.deviceRefs(0)).toBe(0);
  });

  it('the capability report says the ids are converted', () => {
    const caps = ascendCapabilities(fx.libs);
    expect(caps.symbols.aclrtGetLogicDevIdByUserDevId).toBe(true);
    expect(caps.deviceIds).toEqual({
      conversion: 'aclrtGetLogicDevIdByUserDevId',
      reason: expect.stringContaining('halHostRegister and halHostUnregister get the logical id from aclrtGetLogicDevIdByUserDevId'),
    });
  });

  describe('a runtime without aclrtGetLogicDevIdByUserDevId', () => {
    let old: DoubleFixture;

    beforeAll(() => {
      old = buildFixture({ omit: ['aclrtGetLogicDevIdByUserDevId'] });
    });

    afterEach(() => {
      expectNothingHeld(old.dd);
      old.dd.reset();
    });

    it('keeps the user id for the driver, and says so in the backend and the capability report', () => {
      const backend = createBackend({ deviceId: 1, ...old.libs });
      expect(backend.logicalDeviceId).toBe(1);
      expect(backend.deviceIdConversion).toBe('unchanged');
      backend.allocate(64).release();
      backend.destroy();
      const calls = old.dd.calls();
      expect(calls.map((c) => c.call)).not.toContain('aclrtGetLogicDevIdByUserDevId');
      expect(calls.find((c) => c.call === 'halHostRegister')!.args[3]).toBe('1');
      expect(calls.find((c) => c.call === 'halHostUnregister')!.args[1]).toBe('1');
      const caps = ascendCapabilities(old.libs);
      expect(caps.symbols.aclrtGetLogicDevIdByUserDevId).toBe(false);
      expect(caps.deviceIds).toEqual({
        conversion: 'unchanged',
        reason: expect.stringContaining('does not export aclrtGetLogicDevIdByUserDevId'),
      });
    });

    it('so a remapped device is refused by the driver: EIO naming DRV_ERROR_INVALID_DEVICE, nothing held', () => {
      old.dd.setLogicalDeviceId(0, 3);
      const backend = createBackend({ deviceId: 0, ...old.libs });
      try {
        const e = thrown(() => backend.allocate(64));
        expect(e).toMatchObject({ code: 'EIO', message: expect.stringContaining('2 (DRV_ERROR_INVALID_DEVICE)') });
        expect(old.dd.calls().find((c) => c.call === 'halHostRegister')!.args[3]).toBe('0');
      } finally {
        backend.destroy();
      }
    });
  });
});

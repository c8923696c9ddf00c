import { DeviceContext, InvalidArgumentError, OutOfMemoryError, WaitTimeoutError, createWorker } from '../src';
import { createTestBackend } from './support/recording-backend';

// Limits of the owner-process context: option validation and allocation failure.

describe('wait tuning is validated (a zero slice starved the event loop)', () => {
  it.each([{ maxSliceMs: 0 }, { maxSliceMs: -1 }, { maxSliceMs: NaN }, { syncSpinUs: '5' }, { asyncSpinUs: -1 }, { asyncSpinUs: Infinity }])(
    'rejects %p with EINVAL',
    (waitTuning) => {
      expect(() => new DeviceContext(createTestBackend().backend, { waitTuning: waitTuning as never })).toThrow(InvalidArgumentError);
    },
  );

  // Issue 11 item 7: 1e-7 and 1e-300 were accepted, and a 600 ms async wait then blocked the
  // event loop for 600 ms (V8 rounds such a timeout to zero and answers synchronously).
  it.each([
    [{ maxSliceMs: 1e-7 }, /maxSliceMs must be .*0\.05.*1000.*got 1e-7/],
    [{ maxSliceMs: 1e-300 }, /got 1e-300/],
    [{ maxSliceMs: 0.01 }, /got 0\.01/],
    [{ maxSliceMs: 1001 }, /got 1001/],
    [{ asyncSpinUs: 600_000 }, /asyncSpinUs must be .*0.*1000.*got 600000/],
  ])('refuses %p, which would stall the event loop, with EINVAL naming the value', (waitTuning, message) => {
    expect(() => new DeviceContext(createTestBackend().backend, { waitTuning })).toThrow(message);
    expect(() => new DeviceContext(createTestBackend().backend, { waitTuning })).toThrow(InvalidArgumentError);
  });

  it.each([{ maxSliceMs: 0.05 }, { maxSliceMs: 1000 }, { asyncSpinUs: 1000 }, { syncSpinUs: 1e6 }])('accepts the boundary value %p', (waitTuning) => {
    expect(() => new DeviceContext(createTestBackend().backend, { waitTuning })).not.toThrow();
  });

  it('createWorker rejects a bad waitTuning with EINVAL and destroys the backend it created', async () => {
    const t = createTestBackend();
    await expect(createWorker({ level: 2, backend: t.backend, waitTuning: { maxSliceMs: 0 } })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(t.destroyed).toBe(1);
  });

  it('accepts valid overrides, and a pending async wait lets timers run', async () => {
    const ctx = new DeviceContext(createTestBackend().backend, { waitTuning: { maxSliceMs: 0.5, asyncSpinUs: 0 } });
    const h = ctx.open(64, 1);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await expect(ctx.waitAsync(h, 0, 1, 200_000)).rejects.toBeInstanceOf(WaitTimeoutError);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
    await ctx.destroy();
  });
});

describe('datacopyRegion2H reports an allocation failure as ENOMEM', () => {
  afterEach(() => jest.restoreAllMocks());

  it('a failing output allocation is OutOfMemoryError, not a RangeError', () => {
    const ctx = new DeviceContext(createTestBackend().backend);
    const h = ctx.open(4096, 1);
    jest.spyOn(Buffer, 'allocUnsafeSlow').mockImplementation(() => {
      throw new RangeError('Array buffer allocation failed');
    });
    expect(() => ctx.datacopyRegion2H(h, 0, 4096)).toThrow(OutOfMemoryError);
    jest.restoreAllMocks();
    expect(ctx.datacopyRegion2H(h, 0, 4)).toEqual(Buffer.alloc(4));
    void ctx.destroy();
  });
});

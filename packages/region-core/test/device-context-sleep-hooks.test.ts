// Waits on memory that is not a SharedArrayBuffer (e.g. the simulator's memfd regions): the core
// cannot Atomics.wait there, so it sleeps through the allocation's sleepSignal hooks, which the
// publishers (the device, or the core's own notify through wakeSignal) wake.
import { BACKEND_ABI_VERSION, BackendAllocation, RegionBackend } from '@simpler/abi';
import { DeviceContext, isRegionError } from '../src';

interface SleepCall {
  readonly kind: 'sync' | 'async';
  readonly offset: number;
  readonly observed: number;
  readonly ms: number;
}

interface HookBackend {
  readonly backend: RegionBackend;
  readonly sleeps: SleepCall[];
  /** Offsets passed to wakeSignal, in order. */
  readonly wakes: number[];
  /** Releases so far. */
  releases: number;
}

/**
 * A backend over plain ArrayBuffers whose allocations sleep on a JavaScript doorbell: an async
 * sleep settles when wakeSignal or release rings it. A sync sleep cannot be woken by another
 * thread here, so `onSyncSleep` plays the device and publishes from inside it.
 */
function hookBackend(options: { onSyncSleep?: (bytes: Uint8Array, call: SleepCall) => void; failSleep?: boolean; noWake?: boolean } = {}): HookBackend {
  const state: HookBackend = { backend: undefined as unknown as RegionBackend, sleeps: [], wakes: [], releases: 0 };
  let base = 0x1000_0000n;
  const backend: RegionBackend = {
    name: 'test-sleep-hooks',
    abiVersion: BACKEND_ABI_VERSION,
    platform: 'test-foreign',
    deviceId: 0,
    allocate(totalBytes: number): BackendAllocation {
      const bytes = new Uint8Array(new ArrayBuffer(totalBytes));
      let ring: Array<() => void> = [];
      const ringAll = (): void => {
        const pending = ring;
        ring = [];
        for (const resolve of pending) resolve();
      };
      const deviceBase = base;
      base += 0x10_0000n;
      const allocation: BackendAllocation = {
        bytes,
        hostBase: 0n,
        deviceBase,
        sleepSignal(offset, observed, ms) {
          const call: SleepCall = { kind: 'sync', offset, observed, ms };
          state.sleeps.push(call);
          if (options.failSleep) throw new Error('doorbell broken');
          options.onSyncSleep?.(bytes, call);
        },
        sleepSignalAsync(offset, observed, ms) {
          state.sleeps.push({ kind: 'async', offset, observed, ms });
          if (options.failSleep) return Promise.reject(new Error('doorbell broken'));
          return new Promise<void>((resolve) => ring.push(resolve));
        },
        release() {
          state.releases++;
          ringAll();
        },
      };
      if (!options.noWake) {
        allocation.wakeSignal = (offset: number) => {
          state.wakes.push(offset);
          ringAll();
        };
      }
      return allocation;
    },
    destroy() {},
  };
  (state as { backend: RegionBackend }).backend = backend;
  return state;
}

const SLOT = (id: number): number => 64 + id * 64;

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('waits on memory that is not a SharedArrayBuffer', () => {
  it('a blocking wait sleeps in sleepSignal with the slot offset and the value it saw', async () => {
    const t = hookBackend({
      onSyncSleep: (bytes, call) => {
        // The "device" publishes 3 while the host sleeps.
        if (t.sleeps.length === 2) new DataView(bytes.buffer).setUint32(call.offset, 3, true);
      },
    });
    const ctx = new DeviceContext(t.backend, { waitTuning: { syncSpinUs: 0 } });
    const h = ctx.open(64, 2);
    ctx.waitSync(h, 1, 3, 10_000_000);
    expect(t.sleeps).toHaveLength(2);
    for (const call of t.sleeps) expect(call).toMatchObject({ kind: 'sync', offset: SLOT(1), observed: 0 });
    expect(t.sleeps[0].ms).toBeGreaterThan(0);
    await ctx.destroy();
  });

  it('an async wait sleeps in sleepSignalAsync and the core notify wakes it through wakeSignal', async () => {
    const t = hookBackend();
    // Long slices (the largest allowed): the wake, not a slice running out, is what ends the sleep.
    const ctx = new DeviceContext(t.backend, { waitTuning: { asyncSpinUs: 0, maxSliceMs: 1000 } });
    const h = ctx.open(64, 2);
    const waiting = ctx.waitAsync(h, 0, 2, 60_000_000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(t.sleeps.at(-1)).toMatchObject({ kind: 'async', offset: SLOT(0), observed: 0 });
    ctx.notify(h, 0, 1);
    ctx.notify(h, 0, 2);
    await waiting;
    expect(t.wakes).toEqual([SLOT(0), SLOT(0)]);
    expect(t.sleeps.every((c) => c.kind === 'async' && c.offset === SLOT(0))).toBe(true);
    await ctx.destroy();
  });

  it('closing the region wakes a pending async wait, which fails promptly with EINVAL', async () => {
    const t = hookBackend();
    const ctx = new DeviceContext(t.backend, { waitTuning: { asyncSpinUs: 0, maxSliceMs: 1000 } });
    const h = ctx.open(64, 1);
    const waiting = caught(ctx.waitAsync(h, 0, 1, 60_000_000));
    await new Promise((resolve) => setImmediate(resolve));
    ctx.close(h);
    const error = await waiting;
    expect(isRegionError(error) && error.code).toBe('EINVAL');
    expect((error as Error).message).toMatch(/was closed while a wait/);
    expect(t.releases).toBe(1);
    await ctx.destroy();
  });

  it('a failing sleep hook is EIO naming it', async () => {
    const t = hookBackend({ failSleep: true });
    const ctx = new DeviceContext(t.backend, { waitTuning: { syncSpinUs: 0, asyncSpinUs: 0 } });
    const h = ctx.open(64, 1);
    expect(() => ctx.waitSync(h, 0, 1, 1_000_000)).toThrow(/sleepSignal\(64\) failed: doorbell broken/);
    const error = await caught(ctx.waitAsync(h, 0, 1, 1_000_000));
    expect(isRegionError(error) && error.code).toBe('EIO');
    expect((error as Error).message).toMatch(/sleepSignalAsync\(64\) failed: doorbell broken/);
    await ctx.destroy();
  });

  it('refuses an allocation with sleep hooks but no wakeSignal (nobody could wake it) with EIO', async () => {
    const t = hookBackend({ noWake: true });
    const ctx = new DeviceContext(t.backend);
    let error: unknown;
    try {
      ctx.open(64, 1);
    } catch (e) {
      error = e;
    }
    expect(isRegionError(error) && error.code).toBe('EIO');
    expect((error as Error).message).toMatch(/need a wakeSignal hook/);
    expect(t.releases).toBe(1);
    await ctx.destroy();
  });
});

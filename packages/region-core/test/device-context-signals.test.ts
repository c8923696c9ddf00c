import { performance } from 'node:perf_hooks';
import { Worker as ThreadWorker } from 'node:worker_threads';
import { DeviceContext, InvalidArgumentError, WaitTimeoutError, isRegionError } from '../src';
import { createTestBackend, slotOffset } from './support/recording-backend';

/** Stores `value` into a slot of a SharedArrayBuffer from another thread after `delayMs`. */
function storeFromThread(buffer: SharedArrayBuffer, byteOffset: number, value: number, delayMs: number, notify: boolean): ThreadWorker {
  const source = `
    const { workerData } = require('node:worker_threads');
    const i32 = new Int32Array(workerData.buffer);
    const index = workerData.byteOffset / 4;
    setTimeout(() => {
      Atomics.store(i32, index, workerData.value | 0);
      if (workerData.notify) Atomics.notify(i32, index);
    }, workerData.delayMs);
  `;
  return new ThreadWorker(source, { eval: true, workerData: { buffer, byteOffset, value, delayMs, notify } });
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('notify and probe', () => {
  it('is monotonic: lower is EINVAL, equal is allowed, value lands in the slot as a u32', () => {
    const t = createTestBackend();
    const ctx = new DeviceContext(t.backend);
    const h = ctx.open(64, 2);
    ctx.notify(h, 1, 5);
    ctx.notify(h, 1, 5);
    expect(() => ctx.notify(h, 1, 4)).toThrow(InvalidArgumentError);
    expect(() => ctx.notify(h, 1, 4)).toThrow(/lower than the current value 5/);
    ctx.notify(h, 1, 0xffff_fffe);
    expect(() => ctx.notify(h, 1, 7)).toThrow(InvalidArgumentError);
    const view = new DataView(t.allocations[0].bytes.buffer);
    expect(view.getUint32(slotOffset(1), true)).toBe(0xffff_fffe);
    expect(view.getUint32(slotOffset(0), true)).toBe(0);
    expect(ctx.probe(h, 1, 0xffff_fffe)).toBe(true);
    expect(ctx.probe(h, 1, 0xffff_ffff)).toBe(false);
    expect(ctx.probe(h, 0, 0)).toBe(true);
    expect(ctx.probe(h, 0, 1)).toBe(false);
    void ctx.destroy();
  });

  it('wait(id, 0, 0) always succeeds, a missed probe-wait is EAGAIN at once', async () => {
    const t = createTestBackend();
    const ctx = new DeviceContext(t.backend);
    const h = ctx.open(64, 1);
    expect(() => ctx.waitSync(h, 0, 0, 0)).not.toThrow();
    await expect(ctx.waitAsync(h, 0, 0, 0)).resolves.toBeUndefined();
    expect(() => ctx.waitSync(h, 0, 1, 0)).toThrow(WaitTimeoutError);
    const error = await caught(ctx.waitAsync(h, 0, 1, 0));
    expect(error).toMatchObject({ code: 'EAGAIN', errno: -11 });
    await ctx.destroy();
  });
});

describe.each([
  ['shared memory (Atomics.wait/waitAsync)', true],
  ['foreign memory (polling)', false],
])('bounded waits on %s', (_label, shared) => {
  it.each([
    ['waitSync', false],
    ['waitAsync', true],
  ])('%s times out no earlier than the deadline, with a complete message', async (_name, async) => {
    const t = createTestBackend({ shared });
    const ctx = new DeviceContext(t.backend);
    const h = ctx.open(64, 3);
    ctx.notify(h, 2, 3);
    const timeoutUs = 30_000;
    const start = performance.now();
    let error: unknown;
    if (async) error = await caught(ctx.waitAsync(h, 2, 9, timeoutUs));
    else {
      try {
        ctx.waitSync(h, 2, 9, timeoutUs);
      } catch (e) {
        error = e;
      }
    }
    const elapsedMs = performance.now() - start;
    expect(elapsedMs).toBeGreaterThanOrEqual(timeoutUs / 1000);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(isRegionError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'EAGAIN', errno: -11, name: 'WaitTimeoutError' });
    const message = (error as Error).message;
    expect(message).toMatch(/signal slot 2/);
    expect(message).toMatch(/target 9/);
    expect(message).toMatch(/last observed value 3/);
    const reported = Number(/after (\d+) us/.exec(message)?.[1]);
    expect(reported).toBeGreaterThanOrEqual(timeoutUs);
    await ctx.destroy();
  });
});

describe('waits for a value stored by another thread', () => {
  it.each([
    ['with Atomics.notify', true],
    ['without Atomics.notify (capped sleep slices)', false],
  ])('waitAsync resolves %s', async (_label, notify) => {
    const t = createTestBackend();
    const ctx = new DeviceContext(t.backend);
    const h = ctx.open(64, 2);
    const buffer = t.allocations[0].bytes.buffer as SharedArrayBuffer;
    const thread = storeFromThread(buffer, slotOffset(1), 7, 20, notify);
    try {
      await ctx.waitAsync(h, 1, 7, 10_000_000);
      expect(ctx.probe(h, 1, 7)).toBe(true);
    } finally {
      await thread.terminate();
      await ctx.destroy();
    }
  });

  it('waitSync resolves (the blocked thread is woken by the store)', async () => {
    const t = createTestBackend();
    const ctx = new DeviceContext(t.backend);
    const h = ctx.open(64, 2);
    const buffer = t.allocations[0].bytes.buffer as SharedArrayBuffer;
    const thread = storeFromThread(buffer, slotOffset(0), 1, 20, true);
    try {
      await new Promise((resolve) => thread.once('online', resolve));
      ctx.waitSync(h, 0, 1, 10_000_000);
      expect(ctx.probe(h, 0, 1)).toBe(true);
    } finally {
      await thread.terminate();
      await ctx.destroy();
    }
  });

  it('foreign-memory waitAsync sees a value written later on the event loop', async () => {
    const t = createTestBackend({ shared: false });
    const ctx = new DeviceContext(t.backend);
    const h = ctx.open(64, 1);
    const view = new DataView(t.allocations[0].bytes.buffer);
    setTimeout(() => view.setUint32(slotOffset(0), 4, true), 20);
    await ctx.waitAsync(h, 0, 4, 10_000_000);
    await ctx.destroy();
  });
});

describe('async wait does not block the event loop', () => {
  it.each([true, false])('an interval keeps ticking during a 50 ms wait (shared=%p)', async (shared) => {
    const t = createTestBackend({ shared });
    const ctx = new DeviceContext(t.backend);
    const h = ctx.open(64, 1);
    let ticks = 0;
    let immediates = 0;
    const interval = setInterval(() => ticks++, 5);
    const spin = (): void => {
      immediates++;
      if (!stopped) setImmediate(spin);
    };
    let stopped = false;
    setImmediate(spin);
    await expect(ctx.waitAsync(h, 0, 1, 50_000)).rejects.toBeInstanceOf(WaitTimeoutError);
    stopped = true;
    clearInterval(interval);
    // A blocked loop would let at most one tick through; generous bounds for a loaded machine.
    expect(ticks).toBeGreaterThanOrEqual(2);
    expect(immediates).toBeGreaterThanOrEqual(5);
    await ctx.destroy();
  });
});

describe('closing a region under a pending wait', () => {
  it('fails the wait with EINVAL instead of touching released memory', async () => {
    const t = createTestBackend();
    const ctx = new DeviceContext(t.backend);
    const h = ctx.open(64, 1);
    const pending = caught(ctx.waitAsync(h, 0, 1, 5_000_000));
    await new Promise((resolve) => setTimeout(resolve, 5));
    ctx.close(h);
    const error = await pending;
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(/closed while a wait/);
    await ctx.destroy();
  });
});

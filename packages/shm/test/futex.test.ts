import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { isRegionError } from '@simpler/abi';
import { FUTEX_MAX_TIMEOUT_MS, SharedMemoryObject, futexSupported, systemPageSize } from '../src';

const page = systemPageSize();

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isRegionError(error) ? error.code : String(error);
  }
  return undefined;
}

// A worker that maps `fd` itself and futexWaits on word 0 while it holds 0, after bumping word 1.
const WAITER = `
const { workerData, parentPort } = require('node:worker_threads');
const { SharedMemoryObject } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))});
const obj = SharedMemoryObject.fromFd(workerData.fd);
const mapping = obj.map(undefined, 0, { backing: 'heap' });
obj.close();
const words = new Int32Array(mapping.buffer, mapping.byteOffset, 2);
Atomics.add(words, 1, 1);
const result = mapping.futexWait(0, 0, 20000);
parentPort.postMessage({ result, value: Atomics.load(words, 0) });
mapping.unmap();
`;

/** Resolves once word 1 of `words` reached `count` (the sleeper announced itself). */
async function announced(words: Int32Array, count: number): Promise<void> {
  while (Atomics.load(words, 1) < count) await new Promise((resolve) => setTimeout(resolve, 2));
}

describe('futex helpers', () => {
  let shm: SharedMemoryObject;
  beforeEach(() => {
    shm = SharedMemoryObject.create(page);
  });
  afterEach(() => shm.close());

  it('are supported on this machine', () => {
    expect(futexSupported).toBe(true);
  });

  it('futexWait returns at once when the word differs, and at the timeout when nobody wakes it', () => {
    const m = shm.map();
    new Int32Array(m.buffer)[0] = 5;
    expect(m.futexWait(0, 4, 10_000)).toBe('not-equal');
    const start = process.hrtime.bigint();
    expect(m.futexWait(0, 5, 20)).toBe('timed-out');
    expect(Number(process.hrtime.bigint() - start) / 1e6).toBeGreaterThanOrEqual(19);
    // A u32 value is compared as its int32 bit pattern.
    new Int32Array(m.buffer)[1] = -1;
    expect(m.futexWait(4, 0xffff_ffff, 1)).toBe('timed-out');
    m.unmap();
  });

  it('futexWake from another thread wakes a futexWait on its own mapping of the object', async () => {
    const dup = shm.dup();
    const m = shm.map();
    const words = new Int32Array(m.buffer);
    const worker = new Worker(WAITER, { eval: true, workerData: { fd: dup.fd }, trackUnmanagedFds: false });
    const answer = new Promise((resolve) => worker.once('message', resolve));
    await announced(words, 1);
    // The waiter may not be inside the call yet: store first, so a late waiter sees the change.
    Atomics.store(words, 0, 1);
    let woken = 0;
    for (let i = 0; i < 200 && woken === 0; i++) {
      woken = m.futexWake(0);
      if (woken === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await answer).toEqual({ result: expect.stringMatching(/^(woken|not-equal)$/), value: 1 });
    await worker.terminate();
    m.unmap();
  });

  it('futexWake in one process wakes a futexWait in another (shared futex, not private)', async () => {
    const m = shm.map();
    const words = new Int32Array(m.buffer);
    const child = spawn(process.execPath, [join(__dirname, 'fixtures', 'futex-child.js'), '0', '20000'], { stdio: ['ignore', 'pipe', 'inherit', shm.fd] });
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => (out += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await announced(words, 1);
    // Give the child the time to enter FUTEX_WAIT: a wake before that is caught by the compare.
    await new Promise((resolve) => setTimeout(resolve, 50));
    Atomics.store(words, 0, 7);
    m.futexWake(0);
    expect(await exited).toBe(0);
    expect(JSON.parse(out.split('\n')[1])).toEqual({ result: expect.stringMatching(/^(woken|not-equal)$/), value: 7 });
    m.unmap();
  }, 30_000);

  it('futexWaitAsync sleeps on a pool thread: the event loop keeps running, and a wake settles it', async () => {
    const m = shm.map();
    const words = new Int32Array(m.buffer);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    const waiting = m.futexWaitAsync(0, 0, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    Atomics.store(words, 0, 1);
    m.futexWake(0);
    await waiting;
    clearInterval(ticker);
    expect(ticks).toBeGreaterThan(2);
    await m.futexWaitAsync(0, 0, 10_000); // differs: settles at once
    m.unmap();
  });

  it('refuses bad offsets, values, timeouts and counts with EINVAL, and any call once unmapped', () => {
    const m = shm.map();
    for (const offset of [-4, 2, 1.5, page, page - 2, NaN, '0']) expect(codeOf(() => m.futexWait(offset as number, 0, 1))).toBe('EINVAL');
    for (const value of [2 ** 32, -(2 ** 31) - 1, 0.5, NaN]) expect(codeOf(() => m.futexWait(0, value, 1))).toBe('EINVAL');
    for (const timeout of [-1, NaN, Infinity, FUTEX_MAX_TIMEOUT_MS + 1]) expect(codeOf(() => m.futexWait(0, 0, timeout))).toBe('EINVAL');
    for (const count of [0, -1, 1.5, 2 ** 31]) expect(codeOf(() => m.futexWake(0, count))).toBe('EINVAL');
    expect(m.futexWake(page - 4)).toBe(0);
    m.unmap();
    expect(codeOf(() => m.futexWake(0))).toBe('EINVAL');
    expect(codeOf(() => m.futexWait(0, 0, 1))).toBe('EINVAL');
    expect(codeOf(() => void m.futexWaitAsync(0, 0, 1))).toBe('EINVAL');
  });
});

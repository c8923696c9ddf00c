// The simulator's launch queue (src/launch-queue-memory.ts, device-thread.ts): order beyond the
// ring, argument limits, sharing it with another process that launches through it, bad launches
// from such a producer, device loss, and how the device thread ends (destroy, process exit).
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fstatSync, ftruncateSync, openSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import { BackendAllocation, LQ_MAX_ARGS, LQ_SLEEPING, LaunchQueueView, SharedLaunchQueue, U64_MAX, launchQueueBytes } from '@simpler/abi';
import { SimBackend, createBackend } from '../src';
import { LAUNCH_QUEUE_CAPACITY } from '../src/launch-queue-memory';
import { ShmModule, loadShm } from '../src/shm-loader';
import { MEMORIES, hostNotify, words } from './support/host-side';

const fixture = (file: string): string => path.join(__dirname, 'fixtures', file);
const KERNELS = {
  record: fixture('record-kernel.js'),
  hold: fixture('hold-kernel.js'),
  args: fixture('args-kernel.js'),
  exit: fixture('exit-kernel.js'),
};
const QUEUE_LINK = '/memfd:simpler-sim-launch-queue (deleted)';
// Allocation layout of the tests: two holds (release word, then "running" word), then the record log.
const HOLD1 = 0;
const HOLD2 = 8;
const LOG = 64;

const nap = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls without blocking this thread (the host flushes held launches from its event loop). */
async function until(condition: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await nap(2);
  }
}

/** Polls blocking this thread, e.g. so that its timers cannot run meanwhile. */
function blockUntil(condition: () => boolean, ms = 20_000): void {
  const deadline = Date.now() + ms;
  const word = new Int32Array(new SharedArrayBuffer(4));
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    Atomics.wait(word, 0, 0, 1);
  }
}

/** Whether a promise has settled yet, and its outcome once it has. */
function track<T>(promise: Promise<T>): { readonly settled: boolean; readonly promise: Promise<T> } {
  const state = { settled: false, promise };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

/** The sequence numbers the record kernel logged at `LOG`, in the order it ran. */
function records(a: BackendAllocation): number[] {
  const w = words(a);
  const count = Atomics.load(w, LOG / 4);
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(Atomics.load(w, LOG / 4 + 1 + i));
  return out;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/** Descriptors of this process that refer to a simulator launch queue. */
function queueFds(): number {
  let found = 0;
  for (const entry of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${entry}`) === QUEUE_LINK) found++;
    } catch {
      // closed between readdir and readlink
    }
  }
  return found;
}

/** Mappings in this process of the object with inode `ino`. */
function mappingsOf(ino: number): number {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((line) => line.split(/\s+/)[4] === String(ino)).length;
}

/** A second descriptor of the shared queue (the backend keeps its own), owned by the caller. */
function reopen(shared: SharedLaunchQueue): ReturnType<ShmModule['SharedMemoryObject']['fromFd']> {
  const { shm, reason } = loadShm();
  if (shm === undefined) throw new Error(`@simpler/shm: ${reason}`);
  return shm.SharedMemoryObject.fromFd(openSync(`/proc/self/fd/${shared.fd}`, 'r+'));
}

/** The `held` word of the queue, read through a mapping of its own. */
function heldWord(shared: SharedLaunchQueue): number {
  const object = reopen(shared);
  const mapping = object.map(shared.length);
  object.close();
  try {
    return new LaunchQueueView(mapping.buffer, mapping.byteOffset, shared.length).held;
  } finally {
    mapping.unmap();
  }
}

type Reply = Record<string, unknown>;

/** fixtures/foreign-producer.js in a child process that inherited the queue as fd 3. */
class ForeignProducer {
  private readonly waiting: { resolve: (reply: Reply) => void; reject: (error: Error) => void }[] = [];
  private pending = '';

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      this.pending += chunk;
      for (let nl = this.pending.indexOf('\n'); nl >= 0; nl = this.pending.indexOf('\n')) {
        const line = this.pending.slice(0, nl);
        this.pending = this.pending.slice(nl + 1);
        this.waiting.shift()?.resolve(JSON.parse(line) as Reply);
      }
    });
    child.once('exit', (code) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`foreign producer exited with ${code}`));
    });
  }

  static start(shared: SharedLaunchQueue): ForeignProducer {
    const child = spawn(process.execPath, [fixture('foreign-producer.js'), String(shared.length)], {
      stdio: ['pipe', 'pipe', 'inherit', shared.fd],
    });
    return new ForeignProducer(child);
  }

  request(request: Reply): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin!.write(JSON.stringify(request) + '\n');
    });
  }

  push(kernel: string, args: readonly bigint[], whenAsleep = false): Promise<Reply> {
    return this.request({ op: 'push', kernel, args: args.map(String), whenAsleep });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.end();
    await exited;
  }
}

describe.each(MEMORIES)('launches, %s memory', (memory) => {
  let b: SimBackend;
  let a: BackendAllocation;
  beforeAll(async () => {
    b = await createBackend({ deviceId: 0, memory, kernels: KERNELS });
  });
  afterAll(() => b.destroy());
  beforeEach(() => {
    a = b.allocate(16384);
  });
  afterEach(() => a.release());

  it(`launches beyond the ${LAUNCH_QUEUE_CAPACITY}-slot ring all run once, in launch order, and synchronize waits for the held ones`, async () => {
    const w = words(a);
    const before = LAUNCH_QUEUE_CAPACITY + 200;
    const after = 300;
    const late = 50;
    const record = (seq: number): void => b.launch('record', [a.deviceBase + BigInt(LOG), BigInt(seq)]);
    b.launch('hold', [a.deviceBase + BigInt(HOLD1)]);
    // Once the device runs the first hold, the ring is empty and nothing more is taken.
    await until(() => Atomics.load(w, HOLD1 / 4 + 1) === 1);
    for (let i = 0; i < before; i++) record(i);
    b.launch('hold', [a.deviceBase + BigInt(HOLD2)]);
    for (let i = 0; i < after; i++) record(before + i);
    if (memory === 'memfd') expect(heldWord(b.shareLaunchQueue())).toBe(before + 1 + after - LAUNCH_QUEUE_CAPACITY);
    const sync = track(b.synchronize());

    hostNotify(a, HOLD1, 1);
    // Blocks this thread (no held launch moves) until the device freed slots: later launches
    // must still queue behind the held ones, not take the free slots.
    blockUntil(() => Atomics.load(w, LOG / 4) >= 100);
    for (let i = 0; i < late; i++) record(before + after + i);
    // The second hold was held on the host when synchronize was called: it runs only after every earlier launch.
    await until(() => Atomics.load(w, HOLD2 / 4 + 1) === 1);
    expect(records(a)).toEqual(range(0, before));
    await nap(50);
    expect(sync.settled).toBe(false);

    hostNotify(a, HOLD2, 1);
    await sync.promise;
    await b.synchronize();
    expect(records(a)).toEqual(range(0, before + after + late));
  });

  it(`more than ${LQ_MAX_ARGS} args is EINVAL naming the limit, and nothing is launched`, async () => {
    const args = [a.deviceBase + BigInt(LOG), ...range(1, LQ_MAX_ARGS + 1).map(BigInt)];
    expect(args).toHaveLength(LQ_MAX_ARGS + 1);
    expect(() => b.launch('record', args)).toThrow(
      expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining(`got ${LQ_MAX_ARGS + 1} args`) }),
    );
    expect(() => b.launch('record', args)).toThrow(expect.objectContaining({ message: expect.stringContaining(`at most ${LQ_MAX_ARGS}`) }));
    await b.synchronize();
    expect(records(a)).toEqual([]);
  });

  it(`${LQ_MAX_ARGS} u64 args reach the kernel intact`, async () => {
    const values = [U64_MAX, 0n, 1n, 1n << 63n, (1n << 32n) - 1n, 1n << 32n, 0x0123_4567_89ab_cdefn, 0xfedc_ba98_7654_3210n, 2n ** 53n + 1n];
    while (values.length < LQ_MAX_ARGS - 1) values.push(BigInt(values.length) * 0x1_0001_0001n);
    const args = [a.deviceBase + BigInt(LOG), ...values];
    expect(args).toHaveLength(LQ_MAX_ARGS);
    b.launch('args', args);
    await b.synchronize();
    const view = new DataView(a.bytes.buffer, a.bytes.byteOffset + LOG, 8 + 8 * LQ_MAX_ARGS);
    expect(view.getUint32(0, true)).toBe(LQ_MAX_ARGS);
    expect(view.getUint32(4, true)).toBe(LQ_MAX_ARGS);
    expect(range(0, LQ_MAX_ARGS).map((i) => view.getBigUint64(8 + 8 * i, true))).toEqual(args);
  });
});

describe('shareLaunchQueue', () => {
  it('memfd: the descriptor of a sealed memfd holding the formatted queue, from offset 0', async () => {
    const b = await createBackend({ deviceId: 0, memory: 'memfd' });
    try {
      const shared = b.shareLaunchQueue();
      expect(shared).toEqual({ fd: expect.any(Number), offset: 0, length: launchQueueBytes(LAUNCH_QUEUE_CAPACITY) });
      expect(readlinkSync(`/proc/self/fd/${shared.fd}`)).toBe(QUEUE_LINK);
      const object = reopen(shared);
      try {
        expect(object.size).toBe(shared.length);
        expect(object.sizeSealed).toBe(true);
        expect(() => ftruncateSync(object.fd, 0)).toThrow(expect.objectContaining({ code: 'EPERM' }));
        expect(() => ftruncateSync(object.fd, 2 * shared.length)).toThrow(expect.objectContaining({ code: 'EPERM' }));
        const mapping = object.map(shared.length);
        try {
          expect(new LaunchQueueView(mapping.buffer, mapping.byteOffset, shared.length).capacity).toBe(LAUNCH_QUEUE_CAPACITY);
        } finally {
          mapping.unmap();
        }
      } finally {
        object.close();
      }
    } finally {
      await b.destroy();
    }
    expect(() => b.shareLaunchQueue()).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('destroyed') }));
  });

  it("sab: ENOTSUP saying why; after destroy: EINVAL", async () => {
    const b = await createBackend({ deviceId: 0, memory: 'sab' });
    try {
      expect(() => b.shareLaunchQueue()).toThrow(expect.objectContaining({ code: 'ENOTSUP', message: expect.stringContaining('SharedArrayBuffer') }));
    } finally {
      await b.destroy();
    }
    expect(() => b.shareLaunchQueue()).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('a producer in another process (memfd)', () => {
  let b: SimBackend;
  let a: BackendAllocation;
  let foreign: ForeignProducer;
  const log = (): bigint => a.deviceBase + BigInt(LOG);
  beforeAll(async () => {
    b = await createBackend({ deviceId: 0, memory: 'memfd', kernels: KERNELS });
    a = b.allocate(4096);
    foreign = ForeignProducer.start(b.shareLaunchQueue());
  });
  afterAll(async () => {
    await foreign.close();
    a.release();
    await b.destroy();
  });

  it('looks kernels up by name, wakes the sleeping device, and synchronize waits for its launches', async () => {
    // Loaded from a module at first launch: after that the kernel runs without the event loop.
    b.launch('record', [log(), 0n]);
    await b.synchronize();
    const woken: number[] = [];
    for (let seq = 1; seq <= 3; seq++) {
      const reply = await foreign.push('record', [log(), BigInt(seq)], true);
      expect(reply).toMatchObject({ result: 'queued', id: 1, sleeping: 1 });
      woken.push(reply.woken as number);
      await b.synchronize();
      expect(records(a)).toEqual(range(0, seq + 1));
    }
    // The device was asleep in the futex each time; the other process's FUTEX_WAKE reached it.
    expect(Math.max(...woken)).toBe(1);

    expect(await foreign.push('hold', [a.deviceBase + BigInt(HOLD1)])).toMatchObject({ result: 'queued', id: 2 });
    const sync = track(b.synchronize());
    await until(() => Atomics.load(words(a), HOLD1 / 4 + 1) === 1);
    await nap(50);
    expect(sync.settled).toBe(false);
    hostNotify(a, HOLD1, 1);
    await sync.promise;
    expect(await foreign.push('no-such-kernel', [])).toMatchObject({ result: 'unlisted', id: -1 });
  });

  it("is told 'full' when the ring is, and 'held' while the host holds launches (so it cannot overtake them)", async () => {
    const c = b.allocate(16384);
    try {
      const record = (seq: number): void => b.launch('record', [c.deviceBase + BigInt(LOG), BigInt(seq)]);
      b.launch('hold', [c.deviceBase + BigInt(HOLD1)]);
      await until(() => Atomics.load(words(c), HOLD1 / 4 + 1) === 1);
      for (let i = 0; i < LAUNCH_QUEUE_CAPACITY; i++) record(i);
      expect(await foreign.push('record', [c.deviceBase + BigInt(LOG), 9999n])).toMatchObject({ result: 'full' });
      record(LAUNCH_QUEUE_CAPACITY);
      expect(await foreign.request({ op: 'state' })).toMatchObject({ held: 1 });
      expect(await foreign.push('record', [c.deviceBase + BigInt(LOG), 9999n])).toMatchObject({ result: 'held' });
      hostNotify(c, HOLD1, 1);
      await b.synchronize();
      expect(records(c)).toEqual(range(0, LAUNCH_QUEUE_CAPACITY + 1));
    } finally {
      c.release();
    }
  });

  it('a bad launch (unknown kernel id, 1000 args) is EIO "bad launch in the queue" at synchronize; later launches still run', async () => {
    expect(await foreign.request({ op: 'raw', kernel: 999, argc: 0 })).toEqual({ result: 'queued' });
    await expect(b.synchronize()).rejects.toMatchObject({
      code: 'EIO',
      message: expect.stringContaining('bad launch in the queue: no kernel has id 999'),
    });
    expect(await foreign.request({ op: 'raw', kernel: 1, argc: 1000 })).toEqual({ result: 'queued' });
    await expect(b.synchronize()).rejects.toMatchObject({
      code: 'EIO',
      message: expect.stringContaining(`bad launch in the queue: 1000 arguments (at most ${LQ_MAX_ARGS})`),
    });
    const start = records(a).length;
    b.launch('record', [log(), 100n]);
    expect(await foreign.push('record', [log(), 101n])).toMatchObject({ result: 'queued' });
    await b.synchronize();
    expect(records(a).slice(start)).toEqual([100, 101]);
  });
});

describe('polling after kernels (deviceSpinUs, memfd)', () => {
  /** Whether the device has announced a sleep on the queue's doorbell, read through a mapping of its own. */
  async function sleepingAfterKernel(deviceSpinUs: number): Promise<boolean[]> {
    const b = await createBackend({ deviceId: 0, memory: 'memfd', deviceSpinUs });
    try {
      const shared = b.shareLaunchQueue();
      const object = reopen(shared);
      const mapping = object.map(shared.length);
      object.close();
      try {
        const sleeping = new Int32Array(mapping.buffer, mapping.byteOffset + LQ_SLEEPING, 1);
        const a = b.allocate(256);
        hostNotify(a, 64, 1);
        b.launch('round-trip', [a.deviceBase + 192n, a.deviceBase + 64n, 1n, 16n]);
        await b.synchronize();
        const seen: boolean[] = [];
        for (let i = 0; i < 5; i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          seen.push(Atomics.load(sleeping, 0) !== 0);
        }
        a.release();
        return seen;
      } finally {
        mapping.unmap();
      }
    } finally {
      await b.destroy();
    }
  }

  it('with a budget, the device stays awake after a kernel (a launch then needs no futex wake); with 0 it sleeps at once', async () => {
    // One second of polling outlasts the 100 ms looked at; without a budget the device sleeps within it.
    expect(await sleepingAfterKernel(1_000_000)).toEqual([false, false, false, false, false]);
    const none = await sleepingAfterKernel(0);
    expect(none[none.length - 1]).toBe(true);
  });
});

describe.each(MEMORIES)('device loss, %s memory', (memory) => {
  it('closes the queue: launch is EIO, and a producer elsewhere is told "closed"', async () => {
    const b = await createBackend({ deviceId: 0, memory, kernels: KERNELS });
    const a = b.allocate(4096);
    const shared = memory === 'memfd' ? b.shareLaunchQueue() : undefined;
    const foreign = shared !== undefined ? ForeignProducer.start(shared) : undefined;
    try {
      // The device maps the region when a kernel first touches it.
      b.launch('record', [a.deviceBase + BigInt(LOG), 1n]);
      await b.synchronize();
      const objects = shared !== undefined ? [fstatSync(shared.fd).ino, fstatSync(a.share!().fd).ino] : [];
      // The host's mapping of each, and the device's.
      expect(objects.map(mappingsOf)).toEqual(objects.map(() => 2));
      if (foreign !== undefined) expect(await foreign.request({ op: 'state' })).toMatchObject({ closed: 0 });

      b.launch('exit', []);
      await expect(b.synchronize()).rejects.toMatchObject({ code: 'EIO', message: expect.stringContaining('exited with code 3') });
      expect(() => b.launch('record', [0n, 0n])).toThrow(expect.objectContaining({ code: 'EIO', message: expect.stringContaining('exited with code 3') }));
      if (foreign !== undefined) {
        expect(await foreign.request({ op: 'state' })).toMatchObject({ closed: 1, held: 0 });
        expect(await foreign.push('record', [0n, 0n])).toMatchObject({ result: 'closed' });
      }
      // The lost thread's heap is gone: none of its buffers may still hold shared pages.
      expect(objects.map(mappingsOf)).toEqual(objects.map(() => 1));
    } finally {
      await foreign?.close();
      a.release();
      await b.destroy();
    }
  });
});

describe.each(MEMORIES)('ending the device thread, %s memory', (memory) => {
  it('destroy() of an idle device is prompt and leaves no queue descriptor behind', async () => {
    const fds = queueFds();
    const b = await createBackend({ deviceId: 0, memory, kernels: KERNELS });
    const a = b.allocate(4096);
    b.launch('record', [a.deviceBase + BigInt(LOG), 1n]);
    await b.synchronize();
    // Let the device fall asleep on the queue's doorbell.
    await nap(50);
    const started = performance.now();
    await b.destroy();
    // Well inside the 1000 ms the host grants the device to give its mappings back.
    expect(performance.now() - started).toBeLessThan(900);
    expect(queueFds()).toBe(fds);
  });

  it('a process that launched and synchronized exits with code 0 without destroy()', () => {
    const result = spawnSync(process.execPath, [fixture('launch-then-exit.js'), memory], { encoding: 'utf8', timeout: 30_000 });
    expect(result.error).toBeUndefined();
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('ran 1\n');
    expect(result.status).toBe(0);
  });
});

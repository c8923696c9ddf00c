// The launch queue (src/launch-queue/): header checks, the Vyukov ring's order, wrap-around,
// full/closed/held, the kernel table, what the consumer makes of half-written or garbage slots,
// the doorbell, and two producer threads racing into one SharedArrayBuffer.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { InvalidArgumentError, LaunchQueueConsumer, LaunchQueueOwner, LaunchQueueProducer, LaunchQueueView, LaunchRecord, LaunchTake } from '../src';
import {
  LAUNCH_QUEUE_MAGIC,
  LQ_CAPACITY,
  LQ_DOORBELL,
  LQ_HEAD,
  LQ_KERNEL_COUNT,
  LQ_MAGIC,
  LQ_MAX_ARGS,
  LQ_MAX_CAPACITY,
  LQ_SLEEPING,
  LQ_SLOTS_OFFSET,
  LQ_SLOT_ARGC,
  LQ_SLOT_ARGS,
  LQ_SLOT_BYTES,
  LQ_SLOT_BYTES_FIELD,
  LQ_SLOT_KERNEL,
  LQ_SLOT_SEQ,
  LQ_TAIL,
  LQ_VERSION,
  launchQueueBytes,
} from '../src/launch-queue/launch-queue-layout';

const DIST = path.resolve(__dirname, '..', 'dist', 'index.js');

/** A formatted queue of `capacity` slots in a fresh SharedArrayBuffer, with `lead` spare bytes before it. */
function newQueue(capacity: number, lead = 0): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(lead + launchQueueBytes(capacity));
  LaunchQueueView.format(sab, lead, capacity);
  return sab;
}

/** The u32 word at byte `offset` of the queue, as an index into an Int32Array of the whole buffer. */
const w = (offset: number): number => offset >> 2;

/** The InvalidArgumentError message thrown by `fn`, or a failure naming what was thrown instead. */
function invalid(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return (error as Error).message;
  }
  throw new Error('expected an InvalidArgumentError, nothing was thrown');
}

/** Narrows a take to a record, failing the test when the head held none. */
function record(take: LaunchTake): LaunchRecord {
  if (typeof take === 'string') throw new Error(`expected a launch, got '${take}'`);
  return take;
}

interface Parts {
  sab: SharedArrayBuffer;
  words: Int32Array;
  owner: LaunchQueueOwner;
  producer: LaunchQueueProducer;
  consumer: LaunchQueueConsumer;
  wakes: () => number;
}

/** A queue with its owner, one more producer (both count wake calls) and the consumer. */
function parts(capacity: number): Parts {
  const sab = newQueue(capacity);
  let wakes = 0;
  const wake = (): void => void wakes++;
  return {
    sab,
    words: new Int32Array(sab),
    owner: new LaunchQueueOwner(sab, 0, sab.byteLength, wake),
    producer: new LaunchQueueProducer(sab, 0, sab.byteLength, wake),
    consumer: new LaunchQueueConsumer(sab, 0, sab.byteLength),
    wakes: () => wakes,
  };
}

describe('format and the header checks of a view', () => {
  it('format rejects a capacity that is not a power of two in [2, 65536]', () => {
    for (const capacity of [0, 1, 3, 6, 1.5, -4, LQ_MAX_CAPACITY * 2, NaN]) {
      expect(invalid(() => LaunchQueueView.format(new SharedArrayBuffer(launchQueueBytes(8)), 0, capacity))).toBe(
        `launch queue capacity ${capacity} is not a power of two in [2, ${LQ_MAX_CAPACITY}]`,
      );
    }
  });

  it('a ring of one slot is refused: its published launch (seq pos + 1) would look free to the next push (pos + capacity)', () => {
    const sab = newQueue(2);
    Atomics.store(new Int32Array(sab), w(LQ_CAPACITY), 1);
    expect(invalid(() => new LaunchQueueView(sab, 0, sab.byteLength))).toBe(`launch queue capacity 1 is not a power of two in [2, ${LQ_MAX_CAPACITY}]`);
  });

  it('format refuses an offset that is not a multiple of 8, and memory too small for the queue, naming the values', () => {
    const sab = new SharedArrayBuffer(launchQueueBytes(4) + 16);
    expect(invalid(() => LaunchQueueView.format(sab, 4, 4))).toBe('a launch queue must start on an 8-byte boundary, got offset 4');
    expect(invalid(() => LaunchQueueView.format(sab, 2, 4))).toContain('got offset 2');
    expect(invalid(() => LaunchQueueView.format(sab, -8, 4))).toContain('got offset -8');
    expect(invalid(() => LaunchQueueView.format(sab, 0, 8))).toBe(`a launch queue of 8 slots needs ${launchQueueBytes(8)} bytes, the memory has ${sab.byteLength} from offset 0`);
    expect(invalid(() => LaunchQueueView.format(sab, 24, 4))).toContain(`the memory has ${sab.byteLength - 24} from offset 24`);
    expect(new Int32Array(sab).every((word) => word === 0)).toBe(true);
  });

  it('a view past the end of the memory is refused with InvalidArgumentError, not a RangeError', () => {
    const sab = newQueue(4);
    expect(invalid(() => new LaunchQueueView(sab, 0, sab.byteLength + 4096))).toBe(`a launch queue of ${sab.byteLength + 4096} bytes at offset 0 does not fit in ${sab.byteLength} bytes of memory`);
    expect(invalid(() => new LaunchQueueView(sab, 8, sab.byteLength))).toContain(`at offset 8 does not fit`);
    expect(invalid(() => new LaunchQueueView(sab, -8, sab.byteLength))).toContain('got offset -8');
  });

  it('a formatted queue is viewed with its capacity, empty, open and not held; 2 and 65536 slots are allowed', () => {
    for (const capacity of [2, 8, LQ_MAX_CAPACITY]) {
      const sab = newQueue(capacity);
      const view = new LaunchQueueView(sab, 0, sab.byteLength);
      expect([view.capacity, view.tail, view.head, view.closed, view.held]).toEqual([capacity, 0, 0, false, 0]);
      expect(new LaunchQueueConsumer(sab, 0, sab.byteLength).take()).toBe('empty');
    }
  });

  it('a queue at a non-zero 8-byte offset works; an offset that is not a multiple of 8 is refused', () => {
    const sab = newQueue(4, 64);
    const producer = new LaunchQueueProducer(sab, 64, launchQueueBytes(4), () => undefined);
    expect(producer.push(1, [7n])).toBe('queued');
    expect(new LaunchQueueConsumer(sab, 64, launchQueueBytes(4)).take()).toEqual({ kernel: 1, argc: 1, args: [7n] });
    expect(invalid(() => new LaunchQueueView(sab, 4, launchQueueBytes(4)))).toBe('a launch queue must start on an 8-byte boundary, got offset 4');
    expect(invalid(() => new LaunchQueueView(sab, 12, launchQueueBytes(4)))).toContain('got offset 12');
  });

  it.each([
    ['zeroed memory (bad magic)', (words: Int32Array) => Atomics.store(words, w(LQ_MAGIC), 0), 'bad launch queue magic 0x0'],
    ['another magic', (words: Int32Array) => Atomics.store(words, w(LQ_MAGIC), 0x12345678), 'bad launch queue magic 0x12345678'],
    ['version 2', (words: Int32Array) => Atomics.store(words, w(LQ_VERSION), 2), 'unsupported launch queue version 2'],
    ['64-byte slots', (words: Int32Array) => Atomics.store(words, w(LQ_SLOT_BYTES_FIELD), 64), 'launch queue slots must be 128 bytes, got 64'],
    ['capacity 6', (words: Int32Array) => Atomics.store(words, w(LQ_CAPACITY), 6), 'launch queue capacity 6 is not a power of two in [2, 65536]'],
    ['capacity 0', (words: Int32Array) => Atomics.store(words, w(LQ_CAPACITY), 0), 'launch queue capacity 0 is not a power of two'],
    ['capacity 2^17', (words: Int32Array) => Atomics.store(words, w(LQ_CAPACITY), 1 << 17), `launch queue capacity ${1 << 17} is not a power of two`],
    ['capacity 8 in the bytes of 4 slots', (words: Int32Array) => Atomics.store(words, w(LQ_CAPACITY), 8), `a launch queue of 8 slots needs ${launchQueueBytes(8)} bytes, got ${launchQueueBytes(4)}`],
  ])('a header with %s is refused with InvalidArgumentError', (_what, spoil, message) => {
    const sab = newQueue(4);
    spoil(new Int32Array(sab));
    for (const Kind of [LaunchQueueView, LaunchQueueConsumer]) expect(invalid(() => new Kind(sab, 0, sab.byteLength))).toContain(message);
    expect(invalid(() => new LaunchQueueProducer(sab, 0, sab.byteLength, () => undefined))).toContain(message);
  });

  it('fewer bytes than the header and kernel table are refused, naming both sizes', () => {
    const sab = newQueue(4);
    expect(invalid(() => new LaunchQueueView(sab, 0, 1024))).toBe(`a launch queue needs at least ${LQ_SLOTS_OFFSET} bytes, got 1024`);
  });
});

describe('push and take', () => {
  it('launches come out in the order they went in, with their kernel ids and u64 args', () => {
    const { producer, consumer } = parts(8);
    const launches: Array<[number, bigint[]]> = [
      [0, []],
      [3, [1n]],
      [62, [0n, 2n ** 64n - 1n, 2n ** 63n]],
      [1, Array.from({ length: LQ_MAX_ARGS }, (_, i) => BigInt(i) << 50n)],
      [5, [42n, 43n]],
    ];
    for (const [kernel, args] of launches) expect(producer.push(kernel, args)).toBe('queued');
    expect(producer.tail).toBe(5);
    for (const [kernel, args] of launches) expect(consumer.take()).toEqual({ kernel, argc: args.length, args });
    expect(consumer.take()).toBe('empty');
    expect(consumer.head).toBe(5);
  });

  it('a ring of 4 wraps around over thousands of interleaved pushes and takes, always FIFO and full exactly at 4', () => {
    const { producer, consumer } = parts(4);
    const model: Array<[number, bigint[]]> = [];
    let rng = 12345;
    const next = (n: number): number => {
      rng = (rng * 1103515245 + 12345) & 0x7fffffff;
      return rng % n;
    };
    let pushed = 0;
    let fulls = 0;
    while (pushed < 5000) {
      for (let n = next(6); n > 0; n--) {
        const args = Array.from({ length: pushed % (LQ_MAX_ARGS + 1) }, (_, j) => BigInt(pushed) * 100n + BigInt(j));
        const result = producer.push(pushed % 63, args);
        if (model.length < 4) {
          expect(result).toBe('queued');
          model.push([pushed % 63, args]);
          pushed++;
        } else {
          expect(result).toBe('full');
          fulls++;
        }
      }
      for (let n = next(6); n > 0; n--) {
        const expected = model.shift();
        expect(consumer.take()).toEqual(expected === undefined ? 'empty' : { kernel: expected[0], argc: expected[1].length, args: expected[1] });
      }
    }
    expect(fulls).toBeGreaterThan(0);
    expect(producer.tail - consumer.head).toBe(model.length);
  });

  it.each([0x7fff_fff0, 0xffff_fff0])('the u32 counters wrap: a ring whose tail and head start at 0x%s keeps working across the wrap', (start) => {
    const { sab, words, producer, consumer } = parts(4);
    // The state a queue reaches after `start` launches: slot of position p holds seq p.
    for (let j = 0; j < 4; j++) Atomics.store(words, w(LQ_SLOTS_OFFSET + ((start + j) & 3) * LQ_SLOT_BYTES + LQ_SLOT_SEQ), (start + j) | 0);
    Atomics.store(words, w(LQ_TAIL), start | 0);
    Atomics.store(words, w(LQ_HEAD), start | 0);
    const view = new LaunchQueueView(sab, 0, sab.byteLength);
    for (let i = 0; i < 40; i++) {
      expect(producer.push(i % 7, [BigInt(i)])).toBe('queued');
      expect(producer.push(9, [])).toBe('queued');
      for (let k = 0; k < 2; k++) expect(producer.push(1, [])).toBe('queued');
      expect(producer.push(1, [])).toBe('full');
      expect(consumer.take()).toEqual({ kernel: i % 7, argc: 1, args: [BigInt(i)] });
      for (let k = 0; k < 3; k++) record(consumer.take());
      expect(consumer.take()).toBe('empty');
    }
    expect(view.tail).toBe((start + 160) >>> 0);
    expect(view.head).toBe((start + 160) >>> 0);
  });

  it("a full ring says 'full' without touching tail or the doorbell, and takes after one take", () => {
    const { producer, consumer, words } = parts(2);
    expect(producer.push(1, [1n])).toBe('queued');
    expect(producer.push(1, [2n])).toBe('queued');
    const bell = Atomics.load(words, w(LQ_DOORBELL));
    expect(producer.push(1, [3n])).toBe('full');
    expect(producer.push(1, [3n])).toBe('full');
    expect([producer.tail, Atomics.load(words, w(LQ_DOORBELL))]).toEqual([2, bell]);
    expect(record(consumer.take()).args).toEqual([1n]);
    expect(producer.push(1, [3n])).toBe('queued');
    expect(producer.push(1, [4n])).toBe('full');
    expect(record(consumer.take()).args).toEqual([2n]);
    expect(record(consumer.take()).args).toEqual([3n]);
    expect(consumer.take()).toBe('empty');
  });

  it("a closed queue says 'closed' to every producer, also when held or with ignoreHeld, and writes nothing", () => {
    const { owner, producer, consumer, words } = parts(4);
    owner.close();
    expect(producer.closed).toBe(true);
    expect(producer.push(1, [])).toBe('closed');
    expect(owner.push(1, [], true)).toBe('closed');
    owner.setHeld(3);
    expect(producer.push(1, [])).toBe('closed');
    expect([producer.tail, Atomics.load(words, w(LQ_DOORBELL))]).toEqual([0, 0]);
    expect(consumer.take()).toBe('empty');
  });

  it("while launches are held the queue says 'held', except to a push with ignoreHeld; after setHeld(0) it takes launches again", () => {
    const { owner, producer, consumer } = parts(4);
    owner.setHeld(2);
    expect(producer.held).toBe(2);
    expect(producer.push(1, [1n])).toBe('held');
    expect(owner.push(2, [2n])).toBe('held');
    expect(owner.push(2, [2n], true)).toBe('queued');
    owner.setHeld(0);
    expect(producer.push(1, [3n])).toBe('queued');
    expect([record(consumer.take()).args, record(consumer.take()).args, consumer.take()]).toEqual([[2n], [3n], 'empty']);
  });

  it(`more than ${LQ_MAX_ARGS} args is an InvalidArgumentError naming the count, and reserves no slot`, () => {
    const { producer, consumer } = parts(4);
    expect(invalid(() => producer.push(1, Array.from({ length: LQ_MAX_ARGS + 1 }, () => 0n)))).toBe(`a queued launch carries at most ${LQ_MAX_ARGS} args, got ${LQ_MAX_ARGS + 1}`);
    expect(invalid(() => producer.push(1, Array.from({ length: 100 }, () => 0n)))).toContain('got 100');
    expect(producer.tail).toBe(0);
    expect(consumer.take()).toBe('empty');
    expect(producer.push(1, Array.from({ length: LQ_MAX_ARGS }, () => 5n))).toBe('queued');
    expect(record(consumer.take()).argc).toBe(LQ_MAX_ARGS);
  });
});

describe('the kernel table', () => {
  it('names listed by the owner are found by every producer; other names are -1', () => {
    const { owner, producer } = parts(4);
    owner.listKernel(0, 'round-trip');
    owner.listKernel(1, 'add');
    owner.listKernel(2, 'scale');
    expect([producer.kernelId('round-trip'), producer.kernelId('add'), producer.kernelId('scale')]).toEqual([0, 1, 2]);
    expect(owner.kernelId('add')).toBe(1);
    expect([producer.kernelId('missing'), producer.kernelId(''), producer.kernelId('ad')]).toEqual([-1, -1, -1]);
  });

  it('a name of up to 60 UTF-8 bytes is listed; a longer one is not (-1), and does not shift later ids', () => {
    const { owner, producer, words } = parts(4);
    const names = ['a'.repeat(60), 'b'.repeat(61), 'é'.repeat(30), 'é'.repeat(31), 'after'];
    names.forEach((name, id) => owner.listKernel(id, name));
    expect(names.map((name) => producer.kernelId(name))).toEqual([0, -1, 2, -1, 4]);
    expect(Atomics.load(words, w(LQ_KERNEL_COUNT))).toBe(5);
  });

  it('ids 63 and above are not listed (-1) though counted; ids below are', () => {
    const { owner, producer, words } = parts(4);
    for (let id = 0; id < 70; id++) owner.listKernel(id, `k${id}`);
    expect(Atomics.load(words, w(LQ_KERNEL_COUNT))).toBe(70);
    expect([producer.kernelId('k0'), producer.kernelId('k62'), producer.kernelId('k63'), producer.kernelId('k69')]).toEqual([0, 62, -1, -1]);
  });

  it('a name listed after a producer looked it up once is found on the next lookup', () => {
    const { owner, producer } = parts(4);
    owner.listKernel(0, 'round-trip');
    expect(producer.kernelId('late')).toBe(-1);
    expect(producer.kernelId('round-trip')).toBe(0);
    owner.listKernel(1, 'other');
    owner.listKernel(2, 'late');
    expect(producer.kernelId('late')).toBe(2);
    expect(producer.kernelId('other')).toBe(1);
  });

  it('the first id listed under a name wins', () => {
    const { owner, producer } = parts(4);
    owner.listKernel(0, 'twice');
    owner.listKernel(1, 'twice');
    expect(producer.kernelId('twice')).toBe(0);
  });
});

describe('what the consumer finds at the head', () => {
  /** Byte offset of the slot of position `pos` in a ring of `capacity`. */
  const slotAt = (pos: number, capacity: number): number => LQ_SLOTS_OFFSET + (pos & (capacity - 1)) * LQ_SLOT_BYTES;

  it("a slot reserved (tail bumped) but not yet published is 'pending'; once its seq is published it is taken", () => {
    const { sab, words, producer, consumer } = parts(4);
    expect(producer.push(1, [1n])).toBe('queued');
    // A producer that won the compare-and-swap on tail and has not written its slot yet.
    Atomics.add(words, w(LQ_TAIL), 1);
    expect(record(consumer.take()).args).toEqual([1n]);
    expect(consumer.take()).toBe('pending');
    expect(consumer.take()).toBe('pending');
    // A push behind it is published but must wait for the slot in front.
    expect(producer.push(2, [3n])).toBe('queued');
    expect(consumer.take()).toBe('pending');
    const at = slotAt(1, 4);
    Atomics.store(words, w(at + LQ_SLOT_KERNEL), 7);
    Atomics.store(words, w(at + LQ_SLOT_ARGC), 1);
    new BigUint64Array(sab, at + LQ_SLOT_ARGS, 1)[0] = 2n;
    Atomics.store(words, w(at + LQ_SLOT_SEQ), 2);
    expect(consumer.take()).toEqual({ kernel: 7, argc: 1, args: [2n] });
    expect(consumer.take()).toEqual({ kernel: 2, argc: 1, args: [3n] });
    expect(consumer.take()).toBe('empty');
  });

  it(`garbage from a broken producer comes out as written (argc, kernel id) with never more than ${LQ_MAX_ARGS} args, and frees the slot`, () => {
    const { sab, words, producer, consumer } = parts(2);
    const at = slotAt(0, 2);
    const args = new BigUint64Array(sab, at + LQ_SLOT_ARGS, LQ_MAX_ARGS);
    for (let i = 0; i < LQ_MAX_ARGS; i++) args[i] = BigInt(i + 1);
    Atomics.store(words, w(at + LQ_SLOT_KERNEL), -1);
    Atomics.store(words, w(at + LQ_SLOT_ARGC), 1000);
    Atomics.store(words, w(LQ_TAIL), 1);
    Atomics.store(words, w(at + LQ_SLOT_SEQ), 1);
    const taken = record(consumer.take());
    expect(taken.kernel).toBe(0xffff_ffff);
    expect(taken.argc).toBe(1000);
    expect(taken.args).toEqual(Array.from({ length: LQ_MAX_ARGS }, (_, i) => BigInt(i + 1)));
    Atomics.store(words, w(at + LQ_SLOT_ARGC), 0xffff_ffff);
    expect(producer.push(3, [])).toBe('queued');
    expect(producer.push(4, [])).toBe('queued');
    expect(consumer.take()).toEqual({ kernel: 3, argc: 0, args: [] });
    expect(consumer.take()).toEqual({ kernel: 4, argc: 0, args: [] });
    // The broken slot went back into the ring: its next lap is ordinary.
    expect(producer.push(5, [9n])).toBe('queued');
    expect(consumer.take()).toEqual({ kernel: 5, argc: 1, args: [9n] });
  });
});

describe('the doorbell', () => {
  it('every push adds 1; wake is called only between beginSleep and endSleep', () => {
    const { words, producer, owner, consumer, wakes } = parts(8);
    const bell = (): number => Atomics.load(words, w(LQ_DOORBELL));
    expect(producer.push(1, [])).toBe('queued');
    expect([bell(), wakes()]).toEqual([1, 0]);
    expect(consumer.beginSleep()).toBe(1);
    expect(Atomics.load(words, w(LQ_SLEEPING))).not.toBe(0);
    expect(producer.push(1, [])).toBe('queued');
    expect(owner.push(1, [])).toBe('queued');
    expect([bell(), wakes()]).toEqual([3, 2]);
    consumer.endSleep();
    expect(Atomics.load(words, w(LQ_SLEEPING))).toBe(0);
    expect(producer.push(1, [])).toBe('queued');
    expect([bell(), wakes()]).toEqual([4, 2]);
    producer.ring();
    expect([bell(), wakes()]).toEqual([5, 2]);
    expect(consumer.beginSleep()).toBe(5);
    producer.ring();
    expect([bell(), wakes()]).toEqual([6, 3]);
  });

  it("a push that is 'full', 'closed' or 'held' does not ring", () => {
    const { words, owner, producer, consumer, wakes } = parts(2);
    consumer.beginSleep();
    expect(producer.push(1, [])).toBe('queued');
    expect(producer.push(1, [])).toBe('queued');
    expect(producer.push(1, [])).toBe('full');
    owner.setHeld(1);
    expect(producer.push(1, [])).toBe('held');
    owner.close();
    expect(producer.push(1, [])).toBe('closed');
    expect([Atomics.load(words, w(LQ_DOORBELL)), wakes()]).toEqual([2, 2]);
  });
});

// A producer thread: pushes `count` launches of `kernel` whose first arg is its sequence number
// and whose other args are derived from both (a torn slot shows), retrying while the ring is full.
const PRODUCER = `
const { workerData, parentPort } = require('node:worker_threads');
const { LaunchQueueProducer } = require(${JSON.stringify(DIST)});
const { sab, kernel, count, doorbell } = workerData;
const words = new Int32Array(sab);
const q = new LaunchQueueProducer(sab, 0, sab.byteLength, () => Atomics.notify(words, doorbell >> 2));
const go = new Int32Array(workerData.go);
Atomics.add(go, 1, 1);
Atomics.wait(go, 0, 0);
let full = 0;
for (let s = 0; s < count; s++) {
  const args = [BigInt(s)];
  for (let j = 1; j <= s % ${LQ_MAX_ARGS}; j++) args.push((BigInt(kernel) << 56n) | (BigInt(s) << 8n) | BigInt(j));
  for (;;) {
    const result = q.push(kernel, args);
    if (result === 'queued') break;
    if (result !== 'full') throw new Error('push said ' + result);
    full++;
    // Let the consumer run on a loaded machine rather than spin against it.
    Atomics.wait(go, 2, 0, 0.05);
  }
}
parentPort.postMessage({ full });
`;

describe('two producer threads racing into one queue', () => {
  it('every launch arrives exactly once, intact, and each producer\'s launches in its order', async () => {
    const count = 20_000;
    const kernels = [11, 22];
    const sab = newQueue(16);
    const words = new Int32Array(sab);
    const consumer = new LaunchQueueConsumer(sab, 0, sab.byteLength);
    const go = new SharedArrayBuffer(12);
    const goWords = new Int32Array(go);
    const workers = kernels.map((kernel) => new Worker(PRODUCER, { eval: true, workerData: { sab, go, kernel, count, doorbell: LQ_DOORBELL } }));
    try {
      const done = workers.map(
        (worker) =>
          new Promise<{ full: number }>((resolve, reject) => {
            worker.once('message', resolve);
            worker.once('error', reject);
            worker.once('exit', (code) => reject(new Error(`producer exited with ${code} before reporting`)));
          }),
      );
      while (Atomics.load(goWords, 1) < kernels.length) await new Promise((resolve) => setTimeout(resolve, 2));
      Atomics.store(goWords, 0, 1);
      Atomics.notify(goWords, 0);

      const nextSeq = new Map(kernels.map((k) => [k, 0]));
      const problems: string[] = [];
      let received = 0;
      const deadline = Date.now() + 45_000;
      // The consumer's side of the protocol: announce the sleep, look once more, then sleep on the doorbell.
      while (received < kernels.length * count && Date.now() < deadline) {
        let taken = consumer.take();
        if (typeof taken === 'string') {
          const bell = consumer.beginSleep();
          taken = consumer.take();
          if (typeof taken === 'string') {
            Atomics.wait(words, LQ_DOORBELL >> 2, bell, 100);
          }
          consumer.endSleep();
          if (typeof taken === 'string') continue;
        }
        received++;
        const expectedSeq = nextSeq.get(taken.kernel);
        if (expectedSeq === undefined) {
          problems.push(`unknown kernel ${taken.kernel}`);
          continue;
        }
        const s = Number(taken.args[0]);
        const args = [BigInt(expectedSeq)];
        for (let j = 1; j <= expectedSeq % LQ_MAX_ARGS; j++) args.push((BigInt(taken.kernel) << 56n) | (BigInt(expectedSeq) << 8n) | BigInt(j));
        if (s !== expectedSeq || taken.argc !== args.length || taken.args.some((a, i) => a !== args[i])) {
          problems.push(`kernel ${taken.kernel}: expected seq ${expectedSeq}, got ${JSON.stringify(taken, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
          if (problems.length > 5) break;
        }
        nextSeq.set(taken.kernel, s + 1);
      }
      await Promise.all(done);
      expect(problems).toEqual([]);
      expect(received).toBe(kernels.length * count);
      expect([...nextSeq.values()]).toEqual([count, count]);
      expect(consumer.take()).toBe('empty');
      expect(consumer.tail).toBe(kernels.length * count);
    } finally {
      await Promise.all(workers.map((worker) => worker.terminate()));
    }
  });
});

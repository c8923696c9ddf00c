// C and TypeScript agree on the launch queue's bytes: a C program that knows the layout only
// through the generated header (test/c/launch-queue-peer.c, __atomic builtins) produces into and
// consumes from a queue file TypeScript formatted, and TypeScript reads back what C wrote.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LQ_MAX_ARGS, LaunchQueueConsumer, LaunchQueueOwner, LaunchQueueView, LaunchRecord, launchQueueBytes } from '../src';
import { LQ_DOORBELL, LQ_MAGIC, LQ_SLEEPING, LQ_SLOTS_OFFSET, LQ_SLOT_ARGC, LQ_SLOT_ARGS, LQ_SLOT_KERNEL, LQ_SLOT_SEQ, LQ_TAIL } from '../src/launch-queue/launch-queue-layout';
import { C_FLAGS, INCLUDE, run, useScratchDir } from './support/toolchain';

const scratch = useScratchDir('simpler-abi-lq-');
let peer = '';

beforeAll(() => {
  peer = scratch.path('launch-queue-peer');
  run('cc', [...C_FLAGS, '-I', INCLUDE, path.join(__dirname, 'c', 'launch-queue-peer.c'), '-o', peer]);
});

/** Argument `j` of launch `seq` of `kernel`, as the C peer computes it (see its header comment). */
function argValue(kernel: number, seq: number, j: number): bigint {
  if (j === 0) return BigInt(seq);
  return (j & 1 ? 1n << 63n : 0n) | (BigInt(kernel) << 48n) | (BigInt(seq) << 8n) | BigInt(j);
}

/** The launch the C peer pushes as number `seq` of `kernel`. */
function cLaunch(kernel: number, seq: number): LaunchRecord {
  const argc = 1 + (seq % LQ_MAX_ARGS);
  return { kernel, argc, args: Array.from({ length: argc }, (_, j) => argValue(kernel, seq, j)) };
}

/** A queue file: TypeScript's view of it lives in a SharedArrayBuffer that `load`/`save` copy from/to the file. */
class QueueFile {
  readonly file: string;
  sab: SharedArrayBuffer;

  constructor(name: string, capacity: number, kernels: readonly string[]) {
    this.file = scratch.path(name);
    this.sab = new SharedArrayBuffer(launchQueueBytes(capacity));
    LaunchQueueView.format(this.sab, 0, capacity);
    const owner = this.owner();
    kernels.forEach((kernel, id) => owner.listKernel(id, kernel));
    this.save();
  }

  owner(): LaunchQueueOwner {
    return new LaunchQueueOwner(this.sab, 0, this.sab.byteLength, () => undefined);
  }

  consumer(): LaunchQueueConsumer {
    return new LaunchQueueConsumer(this.sab, 0, this.sab.byteLength);
  }

  word(offset: number): number {
    return Atomics.load(new Int32Array(this.sab), offset >> 2);
  }

  setWord(offset: number, value: number): void {
    Atomics.store(new Int32Array(this.sab), offset >> 2, value);
  }

  save(): void {
    fs.writeFileSync(this.file, new Uint8Array(this.sab));
  }

  load(): void {
    const bytes = fs.readFileSync(this.file);
    this.sab = new SharedArrayBuffer(bytes.byteLength);
    new Uint8Array(this.sab).set(bytes);
  }

  /** Runs the C peer on the file (saved first, loaded after) and returns its output lines. */
  peer(...args: Array<string | number>): string[] {
    this.save();
    const [mode, ...rest] = args.map(String);
    const out = run(peer, [mode, this.file, ...rest]);
    this.load();
    return out.trimEnd().split('\n');
  }
}

/** Takes everything the queue holds. */
function drain(consumer: LaunchQueueConsumer): LaunchRecord[] {
  const taken: LaunchRecord[] = [];
  for (let t = consumer.take(); typeof t !== 'string'; t = consumer.take()) taken.push(t);
  return taken;
}

/** The C consumer's line for a launch. */
function line(kernel: number, args: readonly bigint[]): string {
  return [`launch ${kernel} ${args.length}`, ...args.map(String)].join(' ');
}

describe('C produces, TypeScript consumes', () => {
  it('launches pushed by C round after round, wrapping the ring, come out of LaunchQueueConsumer intact and in order', () => {
    const q = new QueueFile('c-to-ts', 8, ['round-trip', 'add']);
    let seq = 0;
    for (let round = 0; round < 4; round++) {
      // A consumer that announced its sleep: C must wake it after each publish.
      q.setWord(LQ_SLEEPING, round % 2);
      const bell = q.word(LQ_DOORBELL);
      const tail = q.word(LQ_TAIL);
      expect(q.peer('produce', 'add', 20, seq)).toEqual(['kernel 1', 'queued 8', 'full', `wakes ${round % 2 ? 8 : 0}`]);
      expect(q.word(LQ_DOORBELL) - bell).toBe(8);
      const consumer = q.consumer();
      expect(consumer.tail - tail).toBe(8);
      expect(drain(consumer)).toEqual(Array.from({ length: 8 }, (_, i) => cLaunch(1, seq + i)));
      expect(consumer.take()).toBe('empty');
      seq += 8;
      q.setWord(LQ_SLEEPING, 0);
      // Partly full: only the free slots are taken.
      expect(q.peer('produce', 'round-trip', 3, 1000 + 10 * round)).toEqual(['kernel 0', 'queued 3', 'wakes 0']);
      expect(q.peer('produce', 'add', 100, seq)).toEqual(['kernel 1', 'queued 5', 'full', 'wakes 0']);
      expect(drain(q.consumer())).toEqual([0, 1, 2].map((i) => cLaunch(0, 1000 + 10 * round + i)).concat([0, 1, 2, 3, 4].map((i) => cLaunch(1, seq + i))));
      seq += 5;
    }
  });

  it("C honours 'closed' and 'held', and finds only the names the kernel table lists", () => {
    const q = new QueueFile('c-refused', 4, ['round-trip', 'x'.repeat(61), 'after']);
    expect(q.peer('produce', 'nope', 1, 0)).toEqual(['unlisted']);
    expect(q.peer('produce', 'x'.repeat(61), 1, 0)).toEqual(['unlisted']);
    expect(q.peer('produce', 'after', 1, 0)).toEqual(['kernel 2', 'queued 1', 'wakes 0']);
    q.owner().setHeld(1);
    expect(q.peer('produce', 'after', 1, 1)).toEqual(['kernel 2', 'queued 0', 'held', 'wakes 0']);
    q.owner().close();
    expect(q.peer('produce', 'after', 1, 1)).toEqual(['kernel 2', 'queued 0', 'closed', 'wakes 0']);
    expect(q.consumer().tail).toBe(1);
    expect(drain(q.consumer())).toEqual([cLaunch(2, 0)]);
  });

  it('three C processes racing on one mapping: every launch arrives exactly once, each racer in its order', () => {
    const procs = 3;
    const count = 5000;
    const q = new QueueFile('c-race', 16_384, Array.from({ length: procs }, (_, p) => `racer-${p}`));
    expect(q.peer('race', procs, count)).toEqual(['ok']);
    expect(q.word(LQ_TAIL)).toBe(procs * count);
    expect(q.word(LQ_DOORBELL)).toBe(procs * count);
    const next = new Array<number>(procs).fill(0);
    const wrong: string[] = [];
    for (const launch of drain(q.consumer())) {
      if (launch.kernel >= procs || JSON.stringify(launch, big) !== JSON.stringify(cLaunch(launch.kernel, next[launch.kernel]), big)) {
        wrong.push(JSON.stringify(launch, big));
        continue;
      }
      next[launch.kernel]++;
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(next).toEqual([count, count, count]);
  });
});

/** JSON.stringify replacer that writes bigints as strings. */
function big(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? String(value) : value;
}

describe('TypeScript produces, C consumes', () => {
  it('launches of 0 to 14 args with extreme u64 values, round after round around a ring of 4, read back by C exactly', () => {
    const q = new QueueFile('ts-to-c', 4, ['round-trip']);
    let n = 0;
    for (let round = 0; round < 6; round++) {
      const owner = q.owner();
      const pushed: string[] = [];
      for (let i = 0; i < 4; i++, n++) {
        const args = Array.from({ length: n % (LQ_MAX_ARGS + 1) }, (_, j) => [0n, 2n ** 64n - 1n, 2n ** 63n, BigInt(n) * 1_000_003n + BigInt(j)][j % 4]);
        expect(owner.push(n % 63, args)).toBe('queued');
        pushed.push(line(n % 63, args));
      }
      expect(owner.push(0, [])).toBe('full');
      // C takes three, then the rest: its head and freed slots are what TypeScript sees next.
      expect(q.peer('consume', 3)).toEqual([...pushed.slice(0, 3), 'max']);
      expect(q.consumer().head).toBe(n - 1);
      expect(q.peer('consume', 100)).toEqual([pushed[3], 'empty']);
      expect(q.consumer().head).toBe(n);
    }
  });

  it("a slot reserved but unpublished is 'pending' to C; a garbage argc is printed as written with at most 14 args", () => {
    const q = new QueueFile('ts-pending', 4, ['round-trip']);
    q.setWord(LQ_TAIL, 1);
    expect(q.peer('consume', 10)).toEqual(['pending']);
    // Publish the reserved slot by hand with argc 1000: C reads 14 args and frees the slot.
    const words = new Int32Array(q.sab);
    new BigUint64Array(q.sab, LQ_SLOTS_OFFSET + LQ_SLOT_ARGS, LQ_MAX_ARGS).set(Array.from({ length: LQ_MAX_ARGS }, (_, j) => BigInt(j + 1)));
    Atomics.store(words, (LQ_SLOTS_OFFSET + LQ_SLOT_KERNEL) >> 2, 9);
    Atomics.store(words, (LQ_SLOTS_OFFSET + LQ_SLOT_ARGC) >> 2, 1000);
    Atomics.store(words, (LQ_SLOTS_OFFSET + LQ_SLOT_SEQ) >> 2, 1);
    const garbage = ['launch 9 1000', ...Array.from({ length: LQ_MAX_ARGS }, (_, j) => String(j + 1))].join(' ');
    expect(q.peer('consume', 10)).toEqual([garbage, 'empty']);
    expect(q.owner().push(1, [5n])).toBe('queued');
    expect(q.peer('consume', 10)).toEqual(['launch 1 1 5', 'empty']);
  });

  it('C refuses a file whose header is not a queue', () => {
    const q = new QueueFile('ts-bad', 4, []);
    q.setWord(LQ_MAGIC, 0x1234);
    expect(() => q.peer('consume', 1)).toThrow(/bad magic/);
  });
});

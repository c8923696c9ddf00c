import { InvalidArgumentError } from '../errors';
import {
  LAUNCH_QUEUE_MAGIC,
  LAUNCH_QUEUE_VERSION,
  LQ_CAPACITY,
  LQ_CLOSED,
  LQ_DOORBELL,
  LQ_HEAD,
  LQ_HELD,
  LQ_KERNEL_COUNT,
  LQ_KERNEL_ENTRY_BYTES,
  LQ_KERNEL_NAME_BYTES,
  LQ_KERNEL_TABLE_ENTRIES,
  LQ_KERNEL_TABLE_OFFSET,
  LQ_MAGIC,
  LQ_MAX_ARGS,
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
  launchQueueCapacityProblem,
  launchQueueProblem,
} from './launch-queue-layout';

/** What a producer's push did: queued, or why not (the caller then launches another way, or waits). */
export type LaunchPushResult = 'queued' | 'full' | 'closed' | 'held';

/** One launch as the consumer takes it. */
export interface LaunchRecord {
  /** Kernel id (an index of the owner's kernel list). */
  readonly kernel: number;
  /** Argument count as written; more than {@link LQ_MAX_ARGS} is a broken producer's launch. */
  readonly argc: number;
  /** The u64 arguments (at most {@link LQ_MAX_ARGS}). */
  readonly args: bigint[];
}

/** What the consumer found at the head: a launch, a slot reserved but not published yet, or nothing. */
export type LaunchTake = LaunchRecord | 'pending' | 'empty';

const W = (byteOffset: number): number => byteOffset >> 2;

/** Why a queue cannot start at `byteOffset` (a typed array would throw a RangeError, or words would be unaligned), or undefined. */
function offsetProblem(byteOffset: number): string | undefined {
  if (!Number.isInteger(byteOffset) || byteOffset < 0) return `a launch queue must start at a non-negative integer offset, got offset ${byteOffset}`;
  if (byteOffset % 8 !== 0) return `a launch queue must start on an 8-byte boundary, got offset ${byteOffset}`;
  return undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Views over one launch queue (layout: `launch-queue-layout.ts`, protocol: docs/l3-protocol.md
 * section 11). The memory may be a `SharedArrayBuffer` (one process) or a shared mapping that
 * another process maps too; every word is read and written atomically.
 */
export class LaunchQueueView {
  /** Slots in the ring. */
  readonly capacity: number;
  protected readonly words: Int32Array;
  protected readonly u64: BigUint64Array;
  protected readonly bytes: Uint8Array;
  protected readonly mask: number;

  /** Views the queue at `byteOffset` (a multiple of 8); `InvalidArgumentError` when its header is not a usable queue. */
  constructor(buffer: ArrayBufferLike, byteOffset: number, byteLength: number) {
    const offset = offsetProblem(byteOffset);
    if (offset !== undefined) throw new InvalidArgumentError(offset);
    if (!Number.isInteger(byteLength) || byteLength < 0 || byteOffset + byteLength > buffer.byteLength) {
      throw new InvalidArgumentError(`a launch queue of ${byteLength} bytes at offset ${byteOffset} does not fit in ${buffer.byteLength} bytes of memory`);
    }
    this.words = new Int32Array(buffer, byteOffset, byteLength >> 2);
    const problem = launchQueueProblem(this.words, byteLength);
    if (problem !== undefined) throw new InvalidArgumentError(problem);
    this.capacity = Atomics.load(this.words, W(LQ_CAPACITY));
    this.mask = this.capacity - 1;
    const used = launchQueueBytes(this.capacity);
    this.u64 = new BigUint64Array(buffer, byteOffset, used >> 3);
    this.bytes = new Uint8Array(buffer, byteOffset, used);
  }

  /** Writes an empty queue of `capacity` slots into zeroed memory (the owner does this once). */
  static format(buffer: ArrayBufferLike, byteOffset: number, capacity: number): void {
    const capacityProblem = launchQueueCapacityProblem(capacity);
    if (capacityProblem !== undefined) throw new InvalidArgumentError(capacityProblem);
    const offset = offsetProblem(byteOffset);
    if (offset !== undefined) throw new InvalidArgumentError(offset);
    const bytes = launchQueueBytes(capacity);
    if (byteOffset + bytes > buffer.byteLength) {
      const room = Math.max(0, buffer.byteLength - byteOffset);
      throw new InvalidArgumentError(`a launch queue of ${capacity} slots needs ${bytes} bytes, the memory has ${room} from offset ${byteOffset}`);
    }
    const words = new Int32Array(buffer, byteOffset, bytes >> 2);
    for (let i = 0; i < capacity; i++) Atomics.store(words, W(LQ_SLOTS_OFFSET + i * LQ_SLOT_BYTES + LQ_SLOT_SEQ), i);
    Atomics.store(words, W(LQ_CAPACITY), capacity);
    Atomics.store(words, W(LQ_SLOT_BYTES_FIELD), LQ_SLOT_BYTES);
    Atomics.store(words, W(LQ_VERSION), LAUNCH_QUEUE_VERSION);
    Atomics.store(words, W(LQ_MAGIC), LAUNCH_QUEUE_MAGIC | 0);
  }

  /** True once nobody consumes launches any more. */
  get closed(): boolean {
    return Atomics.load(this.words, W(LQ_CLOSED)) !== 0;
  }

  /** Launches the owner holds outside the ring, waiting for room. */
  get held(): number {
    return Atomics.load(this.words, W(LQ_HELD));
  }

  /** Launches reserved so far (u32, wraps). */
  get tail(): number {
    return Atomics.load(this.words, W(LQ_TAIL)) >>> 0;
  }

  /** Launches taken by the consumer so far (u32, wraps). */
  get head(): number {
    return Atomics.load(this.words, W(LQ_HEAD)) >>> 0;
  }
}

/**
 * A producer: writes launches into the ring and wakes the consumer when it sleeps. Safe with
 * producers in other threads or processes (a slot is reserved by compare-and-swap on `tail`).
 *
 * @example
 * const q = new LaunchQueueProducer(mapping.buffer, mapping.byteOffset, bytes, () => mapping.futexWake(LQ_DOORBELL));
 * const id = q.kernelId('round-trip'); if (id >= 0 && q.push(id, args) === 'queued') return;
 */
export class LaunchQueueProducer extends LaunchQueueView {
  private readonly names = new Map<string, number>();
  private namesRead = 0;

  constructor(
    buffer: ArrayBufferLike,
    byteOffset: number,
    byteLength: number,
    /** Wakes the consumer asleep on the doorbell (`FUTEX_WAKE` or `Atomics.notify` of {@link LQ_DOORBELL}). */
    private readonly wake: () => void,
  ) {
    super(buffer, byteOffset, byteLength);
  }

  /**
   * Publishes one launch, then rings the doorbell. `'full'`: every slot is in use; `'closed'`:
   * nobody consumes; `'held'`: the owner holds earlier launches outside the ring, so this one
   * must not overtake them. Arguments must be u64 values and at most {@link LQ_MAX_ARGS}.
   */
  push(kernel: number, args: readonly bigint[], ignoreHeld = false): LaunchPushResult {
    const words = this.words;
    if (Atomics.load(words, W(LQ_CLOSED)) !== 0) return 'closed';
    if (!ignoreHeld && Atomics.load(words, W(LQ_HELD)) !== 0) return 'held';
    if (args.length > LQ_MAX_ARGS) throw new InvalidArgumentError(`a queued launch carries at most ${LQ_MAX_ARGS} args, got ${args.length}`);
    let pos = Atomics.load(words, W(LQ_TAIL));
    let at: number;
    for (;;) {
      at = LQ_SLOTS_OFFSET + (pos & this.mask) * LQ_SLOT_BYTES;
      const seq = Atomics.load(words, W(at + LQ_SLOT_SEQ));
      const lead = (seq - pos) | 0;
      if (lead < 0) return 'full';
      if (lead === 0) {
        const seen = Atomics.compareExchange(words, W(LQ_TAIL), pos, (pos + 1) | 0);
        if (seen === pos) break;
        pos = seen;
      } else {
        pos = Atomics.load(words, W(LQ_TAIL));
      }
    }
    Atomics.store(words, W(at + LQ_SLOT_KERNEL), kernel);
    Atomics.store(words, W(at + LQ_SLOT_ARGC), args.length);
    const first = (at + LQ_SLOT_ARGS) >> 3;
    for (let i = 0; i < args.length; i++) this.u64[first + i] = args[i];
    // Publishing the sequence number (a sequentially consistent store) releases the slot's contents.
    Atomics.store(words, W(at + LQ_SLOT_SEQ), (pos + 1) | 0);
    this.ring();
    return 'queued';
  }

  /** Tells the consumer to look again (after publishing, or after other news for it). */
  ring(): void {
    Atomics.add(this.words, W(LQ_DOORBELL), 1);
    if (Atomics.load(this.words, W(LQ_SLEEPING)) !== 0) this.wake();
  }

  /** The id of the kernel table entry named `name`, or -1 when the table does not list it. */
  kernelId(name: string): number {
    const known = this.names.get(name);
    if (known !== undefined) return known;
    const count = Math.min(Atomics.load(this.words, W(LQ_KERNEL_COUNT)) >>> 0, LQ_KERNEL_TABLE_ENTRIES);
    for (; this.namesRead < count; this.namesRead++) {
      const at = LQ_KERNEL_TABLE_OFFSET + this.namesRead * LQ_KERNEL_ENTRY_BYTES;
      const length = Atomics.load(this.words, W(at)) >>> 0;
      if (length === 0 || length > LQ_KERNEL_NAME_BYTES) continue;
      // A copy: TextDecoder does not read shared memory, and the bytes must not change under it.
      const entryName = decoder.decode(this.bytes.slice(at + 4, at + 4 + length));
      if (!this.names.has(entryName)) this.names.set(entryName, this.namesRead);
    }
    return this.names.get(name) ?? -1;
  }
}

/**
 * The owner's side: what only the process that created the queue writes (its kernel table, the
 * held count, `closed`), besides producing launches itself.
 */
export class LaunchQueueOwner extends LaunchQueueProducer {
  /** Lists kernel id `id` under `name` (unlisted when the name is longer than an entry holds). Ids go up by one. */
  listKernel(id: number, name: string): void {
    const words = this.words;
    if (id < LQ_KERNEL_TABLE_ENTRIES) {
      const at = LQ_KERNEL_TABLE_OFFSET + id * LQ_KERNEL_ENTRY_BYTES;
      const encoded = encoder.encode(name);
      if (encoded.byteLength <= LQ_KERNEL_NAME_BYTES) {
        this.bytes.set(encoded, at + 4);
        Atomics.store(words, W(at), encoded.byteLength);
      }
    }
    Atomics.store(words, W(LQ_KERNEL_COUNT), id + 1);
  }

  /** Sets the count of launches held outside the ring (other producers keep out while it is not 0). */
  setHeld(count: number): void {
    Atomics.store(this.words, W(LQ_HELD), count);
  }

  /** Marks the queue closed: producers stop writing (the device is gone). */
  close(): void {
    Atomics.store(this.words, W(LQ_CLOSED), 1);
  }
}

/**
 * The consumer (the device): takes launches in order. It trusts nothing it reads: a kernel id or
 * an argument count out of range comes out as it is, for the caller to reject as a failed launch.
 */
export class LaunchQueueConsumer extends LaunchQueueView {
  /** Takes the launch at the head: a record, `'pending'` (reserved, not yet published) or `'empty'`. */
  take(): LaunchTake {
    const words = this.words;
    const pos = Atomics.load(words, W(LQ_HEAD));
    const at = LQ_SLOTS_OFFSET + (pos & this.mask) * LQ_SLOT_BYTES;
    if (Atomics.load(words, W(at + LQ_SLOT_SEQ)) !== ((pos + 1) | 0)) {
      return ((Atomics.load(words, W(LQ_TAIL)) - pos) | 0) > 0 ? 'pending' : 'empty';
    }
    const kernel = Atomics.load(words, W(at + LQ_SLOT_KERNEL)) >>> 0;
    const argc = Atomics.load(words, W(at + LQ_SLOT_ARGC)) >>> 0;
    const args: bigint[] = [];
    const first = (at + LQ_SLOT_ARGS) >> 3;
    for (let i = 0; i < Math.min(argc, LQ_MAX_ARGS); i++) args.push(this.u64[first + i]);
    // Hand the slot back before anything else: a producer may reuse it at once.
    Atomics.store(words, W(at + LQ_SLOT_SEQ), (pos + this.capacity) | 0);
    Atomics.store(words, W(LQ_HEAD), (pos + 1) | 0);
    return { kernel, argc, args };
  }

  /** Announces a sleep and returns the doorbell value to sleep on; look once more before sleeping. */
  beginSleep(): number {
    Atomics.store(this.words, W(LQ_SLEEPING), 1);
    return Atomics.load(this.words, W(LQ_DOORBELL));
  }

  /** Ends a sleep announced by {@link beginSleep}. */
  endSleep(): void {
    Atomics.store(this.words, W(LQ_SLEEPING), 0);
  }
}

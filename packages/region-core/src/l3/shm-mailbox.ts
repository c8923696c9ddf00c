import { BackendError, MAILBOX_BYTES } from '@simpler/abi';
import { CHILD_CHUNKS_WORD, PARENT_CHUNKS_WORD, STATE_WORD } from './shm-layout';

/** First byte after the fixed fields and the name (spec 9.2): what a frame copy covers. */
const FIELD_WORDS = 96 / 4;
const MESSAGE_OFFSET = 3840;
const ERROR_WORD = 1;

/** Microseconds on the monotonic clock. */
export function nowUs(): number {
  return performance.now() * 1000;
}

/**
 * Spins on `ready` for up to `budgetUs` µs; true as soon as it holds. The clock is read every 64
 * checks: a check is a handful of nanoseconds, a clock read several times that.
 */
export function spinUntil(ready: () => boolean, budgetUs: number): boolean {
  if (ready()) return true;
  if (budgetUs <= 0) return false;
  const until = nowUs() + budgetUs;
  for (let i = 1; ; i++) {
    if (ready()) return true;
    if ((i & 63) === 0 && nowUs() >= until) return ready();
  }
}

/**
 * The control block of the shared-memory transport, as both sides see it: one 4096-byte mailbox
 * block (spec 9.2) in shared memory. The `state` word is the publication point: a side writes every
 * other field first and stores `state` last (a sequentially consistent `Atomics.store`, so a release),
 * and reads `state` first (`Atomics.load`, an acquire) before any field it guards.
 *
 * @example
 * const box = new ShmMailbox(mapping.buffer);
 * box.writeFields(request.bytes); box.publish(MailboxState.CONTROL_REQUEST);
 */
export class ShmMailbox {
  /** The 4096 bytes. */
  readonly bytes: Uint8Array;
  /** The same memory as i32 words, for the atomics. */
  readonly words: Int32Array;
  // Frames handed in are nearly always the same two blocks (request, reply): their word views are kept.
  private readonly cachedFrames: (Uint8Array | undefined)[] = [undefined, undefined];
  private readonly cachedWords: (Int32Array | undefined)[] = [undefined, undefined];
  private nextSlot = 0;

  constructor(buffer: ArrayBuffer) {
    if (buffer.byteLength < MAILBOX_BYTES) throw new BackendError(`a control block is ${MAILBOX_BYTES} bytes, the mapping has ${buffer.byteLength}`);
    this.bytes = new Uint8Array(buffer, 0, MAILBOX_BYTES);
    this.words = new Int32Array(buffer, 0, MAILBOX_BYTES / 4);
  }

  /** The `state` word (acquire). */
  state(): number {
    return Atomics.load(this.words, STATE_WORD);
  }

  /** Stores `state` (release): everything written before is visible to a peer that sees it. */
  publish(state: number): void {
    Atomics.store(this.words, STATE_WORD, state);
  }

  /** Replaces `state` only if it still is `expected`; returns the value found. */
  exchangeState(expected: number, next: number): number {
    return Atomics.compareExchange(this.words, STATE_WORD, expected, next);
  }

  /** Reads a flag or counter word. */
  load(word: number): number {
    return Atomics.load(this.words, word);
  }

  /** Writes a flag or counter word. */
  store(word: number, value: number): void {
    Atomics.store(this.words, word, value);
  }

  /** Zeroes both chunk counters (the parent does it before publishing a request). */
  resetChunks(parentChunks: number): void {
    Atomics.store(this.words, CHILD_CHUNKS_WORD, 0);
    Atomics.store(this.words, PARENT_CHUNKS_WORD, parentChunks);
  }

  /** Copies bytes 4..96 of `frame` (every field but `state`) into the block; the error message only when `withMessage`. */
  writeFields(frame: Uint8Array, withMessage: boolean): void {
    const from = this.wordsOf(frame);
    const to = this.words;
    if (from) for (let i = 1; i < FIELD_WORDS; i++) to[i] = from[i];
    else this.bytes.set(frame.subarray(4, FIELD_WORDS * 4), 4);
    if (withMessage) this.bytes.set(frame.subarray(MESSAGE_OFFSET, MAILBOX_BYTES), MESSAGE_OFFSET);
  }

  /**
   * Copies the fields into `frame` with `state` set to the value already observed (the peer may
   * change the word meanwhile: only the copy is validated and used), and the error message when
   * the copied `error` is not 0.
   */
  readFrame(frame: Uint8Array, state: number): void {
    const to = this.wordsOf(frame);
    const from = this.words;
    if (to) for (let i = 1; i < FIELD_WORDS; i++) to[i] = from[i];
    else frame.set(this.bytes.subarray(4, FIELD_WORDS * 4), 4);
    let error: number;
    if (to) {
      to[0] = state;
      error = to[ERROR_WORD];
    } else {
      new DataView(frame.buffer, frame.byteOffset, 4).setInt32(0, state, true);
      error = frame[4] | frame[5] | frame[6] | frame[7];
    }
    if (error !== 0) frame.set(this.bytes.subarray(MESSAGE_OFFSET, MAILBOX_BYTES), MESSAGE_OFFSET);
  }

  private wordsOf(frame: Uint8Array): Int32Array | undefined {
    if (frame === this.cachedFrames[0]) return this.cachedWords[0];
    if (frame === this.cachedFrames[1]) return this.cachedWords[1];
    if (frame.byteLength !== MAILBOX_BYTES) throw new RangeError(`a frame is ${MAILBOX_BYTES} bytes, got ${frame.byteLength}`);
    const words = frame.byteOffset % 4 === 0 ? new Int32Array(frame.buffer, frame.byteOffset, FIELD_WORDS) : undefined;
    const slot = this.nextSlot;
    this.nextSlot = 1 - slot;
    this.cachedFrames[slot] = frame;
    this.cachedWords[slot] = words;
    return words;
  }
}

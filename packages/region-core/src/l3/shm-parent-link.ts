import type { ChildProcess } from 'node:child_process';
import { AdaptiveSpin, BackendError, INFO_LAYOUT, MAILBOX_BYTES, MailboxCommand, MailboxFrame, MailboxState, SidebandOp } from '@simpler/abi';
import type { SharedMapping, SharedMemoryObject } from '@simpler/shm';
import { allocateOutput } from '../context/byte-source';
import { ChunkCursor, countAhead } from './chunk-cursor';
import { DataWindow } from './data-window';
import type { FrameTransport } from './frame-transport';
import type { ParentPayloadCarrier } from './payload-carrier';
import { CHILD_CHUNKS_WORD, CHILD_SLEEPING_WORD, CONTROL_BLOCK_BYTES, DOORBELL_BYTE, PARENT_CHUNKS_WORD, PARENT_SLEEPING_WORD, windowBytesFor } from './shm-layout';
import { requireShm } from './shm-loader';
import { ShmMailbox, nowUs, spinUntil } from './shm-mailbox';
import { lentViewError, viewByteLength } from './sideband-segment';
import { FrameCallbacks } from './frame-callbacks';

/** Tuning of one shared-memory parent–child pair. */
export interface ShmTuning {
  /** Bytes per chunk (half the data window). */
  readonly chunkBytes: number;
  /** How long the parent spins for a reply before it sleeps until a doorbell, in µs. */
  readonly parentSpinUs: number;
  /** How long the child spins for the next request before it sleeps, in µs (passed on its command line). */
  readonly childSpinUs: number;
}

/** The longest the parent keeps its event loop busy with one chunked transfer before it yields. */
const SLICE_US = 4000;
const DOORBELL = Buffer.from([DOORBELL_BYTE]);

/**
 * The parent's end of the shared-memory transport: control block and data window in two anonymous
 * shared memory objects handed to the child as descriptors 3 and 4, doorbell bytes on the pipes.
 * After publishing a request it spins up to `parentSpinUs` for the reply (a spinning child answers
 * in about a microsecond), then sleeps until the child's doorbell: the event loop is never held for
 * longer than that, except for slices of at most {@link SLICE_US} of chunk copies. The spin adapts:
 * while replies take longer than the budget anyway it does not spin at all (see `AdaptiveSpin`).
 *
 * @example
 * const link = ShmParentLink.create(tuning);
 * const child = spawn(node, [main, ...link.argv], { stdio: ['pipe', 'pipe', 'inherit', ...link.stdio] });
 * link.connect(child, (error) => fail(error));
 */
export class ShmParentLink extends FrameCallbacks implements FrameTransport, ParentPayloadCarrier {
  private readonly box: ShmMailbox;
  private readonly window: DataWindow;
  private readonly reply = new Uint8Array(MAILBOX_BYTES);
  private readonly cursor = new ChunkCursor();
  private child: ChildProcess | undefined;
  private fault: (error: Error) => void = () => undefined;
  private released = false;
  private initBytes = 0;
  /** A request is published and its reply not yet taken. */
  private awaiting = false;
  private polling = false;
  private yielded = false;
  /** What the current request expects in RESULT (payload bytes delivered), or -1. */
  private expectResult = -1;
  /** One adaptive spin per command (index: command, 0..63): a slow launch must not stop the spin for notify. */
  private readonly spins: AdaptiveSpin[] = [];
  /** The spin while a chunked copy waits for the child's next chunk (it copies the other half meanwhile). */
  private readonly transferSpin: AdaptiveSpin;
  /** The spin of the request in flight; `undefined` for a device wait or synchronize (they use notify's). */
  private spin: AdaptiveSpin | undefined;
  /** The request in flight had to sleep for its reply (its spin did not pay). */
  private slept = false;
  private readonly check = (): boolean => this.somethingToDo();
  private readonly resume = (): void => {
    this.yielded = false;
    this.poll();
  };

  private constructor(
    private readonly objects: SharedMemoryObject[],
    private readonly mappings: SharedMapping[],
    private readonly tuning: ShmTuning,
  ) {
    super();
    this.box = new ShmMailbox(mappings[0].buffer);
    this.window = new DataWindow(mappings[1].buffer);
    for (let i = 0; i < 64; i++) this.spins.push(new AdaptiveSpin(tuning.parentSpinUs));
    this.transferSpin = new AdaptiveSpin(tuning.childSpinUs);
  }

  /** Creates the control block and the data window; `ENOTSUP` where shared memory is unavailable. */
  static create(tuning: ShmTuning): ShmParentLink {
    const shm = requireShm('L3 shared-memory transport');
    const objects: SharedMemoryObject[] = [];
    const mappings: SharedMapping[] = [];
    try {
      objects.push(shm.SharedMemoryObject.create(CONTROL_BLOCK_BYTES, { debugName: 'simpler-l3-control' }));
      objects.push(shm.SharedMemoryObject.create(windowBytesFor(tuning.chunkBytes), { debugName: 'simpler-l3-window' }));
      for (const o of objects) mappings.push(o.map());
      return new ShmParentLink(objects, mappings, tuning);
    } catch (error) {
      for (const m of mappings) m.unmap();
      for (const o of objects) o.close();
      throw error;
    }
  }

  /** Extra `stdio` entries for spawn: the control block becomes fd 3, the data window fd 4. */
  get stdio(): number[] {
    return this.objects.map((o) => o.fd);
  }

  /** The child's command-line flags for this transport. */
  get argv(): string[] {
    return ['--transport', 'shm', '--spin-us', String(this.tuning.childSpinUs)];
  }

  /** Bytes per chunk of the data window. */
  get chunkBytes(): number {
    return this.window.chunkBytes;
  }

  /**
   * Attaches to the spawned child: its init frame and then doorbell bytes arrive on its stdout,
   * doorbells go to its stdin. `fault` is told when the child breaks the protocol. This process's
   * descriptors are closed: the child holds its own, and the mappings stay.
   */
  connect(child: ChildProcess, fault: (error: Error) => void): void {
    this.child = child;
    this.fault = fault;
    this.closeObjects();
    child.stdout!.on('data', (chunk: Buffer) => this.receive(chunk));
    child.stdout!.on('end', () => this.finish());
    child.stdout!.on('close', () => this.finish());
    child.stdout!.on('error', (e: Error) => this.finish(e));
    child.stdin!.on('error', () => undefined); // a dead child: its exit fails the endpoint
  }

  /** Abandons a link whose child never started. */
  abandon(): void {
    this.closeObjects();
    this.close();
  }

  private closeObjects(): void {
    for (const o of this.objects) {
      try {
        o.close();
      } catch {
        // already closed
      }
    }
  }

  send(frame: Uint8Array): void {
    if (this.closed) return;
    const state = frame[0] | (frame[1] << 8) | (frame[2] << 16) | (frame[3] << 24);
    if (state === MailboxState.SHUTDOWN) {
      // The child may be inside a long wait, awake but not spinning: always ring.
      this.awaiting = false;
      this.box.publish(state);
      this.ring();
      return;
    }
    this.box.writeFields(frame, false);
    this.box.publish(state);
    this.slept = false;
    // A wait or synchronize lasts as long as the device takes: it must not teach the spin anything.
    const command = frame[8] | (frame[9] << 8) | (frame[10] << 16) | (frame[11] << 24);
    this.spin = command === MailboxCommand.WAIT || command === MailboxCommand.SYNCHRONIZE ? undefined : this.spins[command & 63];
    if (this.box.load(CHILD_SLEEPING_WORD) !== 0) this.ring();
    this.awaiting = true;
    if (!this.polling) this.poll();
  }

  close(): void {
    if (this.released) return;
    this.released = true;
    this.cursor.clear();
    const child = this.child;
    if (child) {
      child.stdout?.removeAllListeners('data');
      child.stdout?.pause();
      try {
        child.stdin?.end();
      } catch {
        // already gone
      }
    }
    for (const m of this.mappings) m.unmap();
    this.finish();
  }

  protected override finish(error?: Error): void {
    this.awaiting = false;
    super.finish(error);
  }

  /** Bytes on the child's stdout: first the 4096-byte init frame, then only doorbells. */
  private receive(chunk: Buffer): void {
    if (this.initBytes < MAILBOX_BYTES) {
      const take = Math.min(MAILBOX_BYTES - this.initBytes, chunk.length);
      this.reply.set(chunk.subarray(0, take), this.initBytes);
      this.initBytes += take;
      if (this.initBytes === MAILBOX_BYTES) this.frameCb(this.reply);
      if (take === chunk.length) return;
    }
    this.box.store(PARENT_SLEEPING_WORD, 0);
    this.poll();
  }

  private ring(): void {
    const stdin = this.child?.stdin;
    if (stdin && stdin.writable) stdin.write(DOORBELL);
  }

  /** True when the child answered or a chunk can move. */
  private somethingToDo(): boolean {
    if (this.box.state() !== MailboxState.CONTROL_REQUEST) return true;
    const c = this.cursor;
    if (!c.active) return false;
    const theirs = this.box.load(CHILD_CHUNKS_WORD) >>> 0;
    if (theirs !== c.seen) return true;
    return c.payload !== undefined && c.producing && c.done < c.chunks && countAhead(c.done, theirs) < 2;
  }

  /** Runs the request loop: acts on replies and chunks, spins briefly, then sleeps or yields. */
  private poll(): void {
    if (this.polling || this.closed) return;
    this.polling = true;
    const sliceEnd = nowUs() + SLICE_US;
    try {
      while (this.awaiting && !this.closed) {
        const transfer = this.cursor.active;
        // Something to do at once says nothing about spinning; only a real wait teaches the budget.
        const waited = !this.somethingToDo();
        if (!waited || spinUntil(this.check, transfer ? this.transferSpin.budgetUs : (this.spin ?? this.spins[MailboxCommand.NOTIFY]).budgetUs)) {
          if (waited && transfer) this.transferSpin.record(true);
          this.act();
          if (this.awaiting && nowUs() > sliceEnd) return this.yieldSoon();
          continue;
        }
        // Sleep: set the flag, then look once more (the child checks the flag after it publishes).
        this.box.store(PARENT_SLEEPING_WORD, 1);
        if (!this.somethingToDo()) {
          if (transfer) this.transferSpin.record(false);
          this.slept = true;
          return;
        }
        this.box.store(PARENT_SLEEPING_WORD, 0);
      }
    } finally {
      this.polling = false;
    }
  }

  private yieldSoon(): void {
    if (this.yielded) return;
    this.yielded = true;
    setImmediate(this.resume);
  }

  private act(): void {
    const state = this.box.state();
    if (state !== MailboxState.CONTROL_REQUEST) {
      this.awaiting = false;
      // A chunked copy waits on the child's copying, not on its answer: it teaches the spin nothing.
      if (!this.cursor.active) this.spin?.record(!this.slept);
      this.box.readFrame(this.reply, state);
      this.frameCb(this.reply);
      return;
    }
    this.advance();
  }

  /** Moves every chunk that can move now; a child counter out of its possible range is a fault. */
  private advance(): void {
    const c = this.cursor;
    if (!c.active || c.payload === undefined) return;
    const box = this.box;
    const theirs = box.load(CHILD_CHUNKS_WORD) >>> 0;
    if (c.producing) {
      // h2region: the child's count of consumed chunks lies between what it had and what we filled.
      if (countAhead(theirs, c.seen) > countAhead(c.done, c.seen)) return this.counterFault(theirs, `between ${c.seen} and the ${c.done} chunks filled`);
      c.seen = theirs;
      let moved = false;
      while (c.done < c.chunks && countAhead(c.done, theirs) < 2) {
        // The child is already copying into the region and cannot be stopped: a lost source
        // sends zeros from here on (never stale window bytes), and the request ends in EINVAL.
        if (this.lentViewIntact(c)) this.window.putChunk(c.done, c.payload, c.nbytes);
        else this.window.clearChunk(c.done, c.nbytes);
        box.store(PARENT_CHUNKS_WORD, ++c.done);
        moved = true;
      }
      if (moved && box.load(CHILD_SLEEPING_WORD) !== 0) this.ring();
      return;
    }
    // region2h: the child fills at most two chunks ahead of what we took, and never past the end.
    const ahead = countAhead(theirs, c.done);
    if (ahead > 2 || ahead > c.chunks - c.done) return this.counterFault(theirs, `at most 2 ahead of the ${c.done} chunks taken, of ${c.chunks}`);
    c.seen = theirs;
    if (ahead === 0) return;
    for (let i = 0; i < ahead; i++) {
      if (this.lentViewIntact(c)) this.window.takeChunk(c.done, c.payload, c.nbytes);
      box.store(PARENT_CHUNKS_WORD, ++c.done);
    }
    if (box.load(CHILD_SLEEPING_WORD) !== 0) this.ring();
  }

  /**
   * Whether the payload still has its length of the call. Caller code runs between slices and
   * while this side sleeps, and may detach or shrink a lent view; once it did, it stays spoiled.
   */
  private lentViewIntact(c: ChunkCursor): boolean {
    if (!c.spoiled && viewByteLength(c.payload!) !== c.nbytes) c.spoiled = true;
    return !c.spoiled;
  }

  private counterFault(value: number, expected: string): void {
    this.cursor.clear();
    this.fault(new BackendError(`chip child wrote child_chunks ${value} into the control block, expected a value ${expected}`));
  }

  /** A reply whose RESULT is not the payload length asked for is a child not to be trusted. */
  private checkResult(f: MailboxFrame, what: string): void {
    const expected = this.expectResult;
    this.expectResult = -1;
    if (f.result !== expected) {
      const error = new BackendError(`chip child reported ${f.result} payload bytes for ${what}, expected ${expected} (the data window holds ${this.window.chunkBytes} per chunk)`);
      this.fault(error);
      throw error;
    }
  }

  prepareInfo(f: MailboxFrame, handle: number): void {
    this.window.writeHeader(SidebandOp.INFO, handle, 0, INFO_LAYOUT.size);
    this.cursor.start(undefined, 0, false, 0, 0);
    this.expectResult = INFO_LAYOUT.size;
    f.command = MailboxCommand.INFO;
  }

  finishInfo(f: MailboxFrame): Uint8Array {
    this.checkResult(f, 'info');
    return this.window.half(0, INFO_LAYOUT.size).slice();
  }

  prepareH2Region(f: MailboxFrame, handle: number, offset: number, src: Uint8Array, n: number, fits: boolean): void {
    const now = viewByteLength(src);
    if (fits && now !== n) throw lentViewError('source', n, now);
    this.window.writeHeader(SidebandOp.H2REGION, handle, offset, n);
    const chunks = fits ? this.window.chunkCount(n) : 0;
    // Chunk 0 travels with the request; the rest follow while the child copies.
    if (chunks > 0) this.window.putChunk(0, src, n);
    this.cursor.start(fits ? src : undefined, n, true, chunks, chunks > 0 ? 1 : 0);
    this.box.resetChunks(this.cursor.done);
    this.expectResult = -1;
    f.command = MailboxCommand.DATACOPY_H2REGION;
  }

  finishH2Region(): void {
    const c = this.cursor;
    const consumed = this.box.load(CHILD_CHUNKS_WORD) >>> 0;
    const active = c.active;
    const spoiled = c.spoiled;
    const src = c.payload;
    c.clear();
    if (active && consumed !== c.chunks >>> 0) {
      const error = new BackendError(`chip child replied to h2region after consuming ${consumed} of ${c.chunks} chunks`);
      this.fault(error);
      throw error;
    }
    if (spoiled) {
      const aftermath = `; the region range received the chunks copied before that and zeros after (${this.window.chunkBytes} bytes per chunk)`;
      throw lentViewError('source', c.nbytes, src === undefined ? 0 : viewByteLength(src), aftermath);
    }
  }

  prepareRegion2H(f: MailboxFrame, handle: number, offset: number, nbytes: number, fits: boolean, dst: Uint8Array | undefined): void {
    const now = dst === undefined ? nbytes : viewByteLength(dst);
    if (now !== nbytes) throw lentViewError('destination', nbytes, now);
    this.window.writeHeader(SidebandOp.REGION2H, handle, offset, nbytes);
    const out = dst ?? (fits ? allocateOutput(nbytes) : undefined);
    this.cursor.start(out, nbytes, false, out ? this.window.chunkCount(nbytes) : 0, 0);
    this.box.resetChunks(0);
    this.expectResult = nbytes;
    f.command = MailboxCommand.DATACOPY_REGION2H;
  }

  finishRegion2H(f: MailboxFrame): Uint8Array {
    const c = this.cursor;
    const out = c.payload;
    const nbytes = this.expectResult;
    this.checkResult(f, 'region2h');
    if (out === undefined) {
      const error = new BackendError(`chip child accepted a region2h of ${nbytes} bytes that cannot be valid for the region`);
      this.fault(error);
      throw error;
    }
    // The child filled the last chunks before it replied; take them now.
    if (c.active) this.advance();
    else if (c.chunks === 1 && this.lentViewIntact(c)) this.window.takeChunk(0, out, nbytes);
    if (c.active && c.done !== c.chunks) {
      const error = new BackendError(`chip child replied to region2h after ${c.done} of ${c.chunks} chunks`);
      this.fault(error);
      throw error;
    }
    const spoiled = c.spoiled;
    c.clear();
    if (spoiled) throw lentViewError('destination', nbytes, viewByteLength(out));
    return out;
  }

  /** The window's size is fixed and its memory is this link's for life: nothing to give back. */
  giveBack(): void {}

  dispose(): void {
    this.close();
  }
}

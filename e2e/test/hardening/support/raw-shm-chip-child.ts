import { ChildProcess, spawn } from 'node:child_process';
import { MAILBOX_BYTES, MailboxCommand, MailboxFrame, MailboxState } from '@simpler/abi';
import { SharedMapping, SharedMemoryObject } from '@simpler/shm';
import { chipChildMain } from './raw-chip-child';

// Word indexes of the control block (docs/l3-protocol.md), spelled out to test the documented layout.
const STATE = 0;
const CHILD_SLEEPING = 128 / 4;
const PARENT_CHUNKS = 256 / 4;
const CHILD_CHUNKS = 320 / 4;
/** Offset of the data window's first half. */
export const WINDOW_DATA = 4096;

/**
 * A chip child driven over the shared-memory transport byte by byte, as a foreign client would:
 * its own memfds handed over as descriptors 3 and 4, fields then `state` written into the block,
 * replies polled from it, a doorbell byte whenever the child sleeps.
 */
export class RawShmChipChild {
  readonly process: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly block: Uint8Array;
  readonly words: Int32Array;
  readonly window: Uint8Array;
  stderr = '';
  private initBytes = Buffer.alloc(0);
  private init: ((f: MailboxFrame) => void) | undefined;
  private initFrame: MailboxFrame | undefined;
  private readonly mappings: SharedMapping[];

  constructor(readonly chunkBytes = 4096) {
    const block = SharedMemoryObject.create(MAILBOX_BYTES, { debugName: 'fuzz-block' });
    const window = SharedMemoryObject.create(WINDOW_DATA + 2 * chunkBytes, { debugName: 'fuzz-window' });
    this.mappings = [block.map(), window.map()];
    this.block = new Uint8Array(this.mappings[0].buffer);
    this.words = new Int32Array(this.mappings[0].buffer);
    this.window = new Uint8Array(this.mappings[1].buffer);
    const argv = [chipChildMain(), '--device-id', '0', '--backend', '@simpler/hal-sim', '--transport', 'shm', '--spin-us', '100'];
    this.process = spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe', block.fd, window.fd] });
    block.close();
    window.close();
    this.process.stdout!.on('data', (chunk: Buffer) => {
      if (this.initFrame) return; // doorbells: replies are polled
      this.initBytes = Buffer.concat([this.initBytes, chunk]);
      if (this.initBytes.length < MAILBOX_BYTES) return;
      this.initFrame = new MailboxFrame(Uint8Array.from(this.initBytes.subarray(0, MAILBOX_BYTES)));
      this.init?.(this.initFrame);
    });
    this.process.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.process.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) => this.process.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** True while the process runs. */
  get alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Waits for the init-done frame (it comes over stdout, as with pipes). */
  async ready(): Promise<void> {
    const f = this.initFrame ?? (await new Promise<MailboxFrame>((resolve) => (this.init = resolve)));
    if (f.state !== MailboxState.INIT_DONE) throw new Error(`expected init done, got state ${f.state} (${f.errorMessage})`);
  }

  /** Starts a payload: `child_chunks` 0, `parent_chunks` = chunks already in the window. */
  resetChunks(filled: number): void {
    Atomics.store(this.words, CHILD_CHUNKS, 0);
    Atomics.store(this.words, PARENT_CHUNKS, filled);
  }

  /** Copies bytes 4..96 of `frame` into the block, publishes its state (0 and 5 excluded), rings if the child sleeps, returns the reply. */
  async roundTrip(frame: Uint8Array, ms = 10_000): Promise<MailboxFrame> {
    const state = new DataView(frame.buffer, frame.byteOffset).getInt32(0, true);
    if (state === MailboxState.IDLE || state === MailboxState.CONTROL_DONE || state === MailboxState.SHUTDOWN) throw new Error(`state ${state} is not a request`);
    this.block.set(frame.subarray(4, 96), 4);
    Atomics.store(this.words, STATE, state);
    if (Atomics.load(this.words, CHILD_SLEEPING) !== 0) this.process.stdin!.write(Uint8Array.of(1));
    const end = Date.now() + ms;
    for (let spins = 0; Atomics.load(this.words, STATE) === state; spins++) {
      if (!this.alive) throw new Error(`chip child died; stderr: ${this.stderr.slice(-500)}`);
      if (Date.now() > end) throw new Error(`no reply within ${ms} ms; stderr: ${this.stderr.slice(-500)}`);
      if (spins > 1000) await new Promise((r) => setImmediate(r));
    }
    return new MailboxFrame(this.block.slice());
  }

  /** Builds a control request, sends it, returns the reply. */
  request(build: (f: MailboxFrame) => void): Promise<MailboxFrame> {
    const f = new MailboxFrame();
    f.state = MailboxState.CONTROL_REQUEST;
    build(f);
    return this.roundTrip(f.bytes);
  }

  /** Opens a region; returns its handle. */
  async open(dataBytes: number, signals: number): Promise<number> {
    const r = await this.request((f) => {
      f.command = MailboxCommand.OPEN;
      f.setArg(0, dataBytes);
      f.setArg(1, signals);
    });
    if (r.error !== 0) throw new Error(`open failed: ${r.error} ${r.errorMessage}`);
    return r.result;
  }

  /** A liveness probe: a probe-wait on signal 0 for target 0 must succeed. */
  async probe(handle: number): Promise<void> {
    const r = await this.request((f) => {
      f.command = MailboxCommand.WAIT;
      f.setArg(0, handle);
    });
    if (r.error !== 0) throw new Error(`liveness probe failed: error ${r.error} ${r.errorMessage}`);
  }

  /** Publishes shutdown, rings, and returns how the child exited. */
  async shutdown(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) {
      Atomics.store(this.words, STATE, MailboxState.SHUTDOWN);
      this.process.stdin!.write(Uint8Array.of(1));
    }
    const timer = setTimeout(() => this.kill(), 10_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
      for (const m of this.mappings) m.unmap();
    }
  }

  /** Kills the process if it still runs. */
  kill(): void {
    if (this.alive) this.process.kill('SIGKILL');
  }
}

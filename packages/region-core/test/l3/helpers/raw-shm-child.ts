import { ChildProcess, spawn } from 'node:child_process';
import { MAILBOX_BYTES, MailboxFrame, MailboxState } from '@simpler/abi';
import type { SharedMapping } from '@simpler/shm';
import { defaultChildMain } from '../../../src/l3/chip-endpoint';
import { requireShm } from '../../../src/l3/shm-loader';

// Word indexes of the control block, spelled out here (not imported) so that this client checks
// the documented layout rather than the implementation's own constants.
const STATE = 0;
const CHILD_SLEEPING = 128 / 4;
const PARENT_SLEEPING = 192 / 4;
const PARENT_CHUNKS = 256 / 4;
const CHILD_CHUNKS = 320 / 4;
/** Where the window's two chunk halves start. */
export const WINDOW_DATA = 4096;

/** Options of {@link RawShmChild.start}. */
export interface RawShmOptions {
  /** Bytes per chunk (the window is 4096 + 2 × chunk). */
  readonly chunkBytes?: number;
  /** The child's --spin-us. */
  readonly spinUs?: number;
  /** Extra command-line arguments. */
  readonly extra?: readonly string[];
  /** Size of the control block (to test a wrong one). */
  readonly blockBytes?: number;
  /** Size of the data window (to test a wrong one). */
  readonly windowBytes?: number;
}

/**
 * A chip child driven over the shared-memory transport byte by byte, the way a foreign-language
 * client would (docs/l3-protocol.md): its own memfds, its own word offsets, spin then doorbell.
 */
export class RawShmChild {
  readonly process: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly block: Uint8Array;
  readonly words: Int32Array;
  readonly window: Uint8Array;
  readonly chunkBytes: number;
  stderr = '';
  /** Doorbell bytes received from the child. */
  doorbells = 0;
  private initBytes = Buffer.alloc(0);
  private init: ((f: MailboxFrame) => void) | undefined;
  private initFrame: MailboxFrame | undefined;
  private woken: (() => void)[] = [];
  private readonly mappings: SharedMapping[];

  private constructor(args: readonly string[], options: RawShmOptions) {
    this.chunkBytes = options.chunkBytes ?? 8192;
    const { SharedMemoryObject } = requireShm('RawShmChild');
    const block = SharedMemoryObject.create(options.blockBytes ?? MAILBOX_BYTES, { debugName: 'raw-block' });
    const window = SharedMemoryObject.create(options.windowBytes ?? WINDOW_DATA + 2 * this.chunkBytes, { debugName: 'raw-window' });
    this.mappings = [block.map(), window.map()];
    this.block = new Uint8Array(this.mappings[0].buffer);
    this.words = new Int32Array(this.mappings[0].buffer, 0, this.block.byteLength >> 2);
    this.window = new Uint8Array(this.mappings[1].buffer);
    const argv = [defaultChildMain(), ...args, '--transport', 'shm', ...(options.spinUs === undefined ? [] : ['--spin-us', String(options.spinUs)]), ...(options.extra ?? [])];
    this.process = spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe', block.fd, window.fd] });
    block.close();
    window.close();
    this.process.stdout!.on('data', (chunk: Buffer) => this.onStdout(chunk));
    this.process.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.process.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) => this.process.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Spawns a child over `backendFile` for device `deviceId`. */
  static start(backendFile: string, deviceId = 0, options: RawShmOptions = {}): RawShmChild {
    return new RawShmChild(['--device-id', String(deviceId), '--backend', backendFile], options);
  }

  private onStdout(chunk: Buffer): void {
    if (this.initFrame === undefined) {
      this.initBytes = Buffer.concat([this.initBytes, chunk]);
      if (this.initBytes.length < MAILBOX_BYTES) return;
      this.initFrame = new MailboxFrame(Uint8Array.from(this.initBytes.subarray(0, MAILBOX_BYTES)));
      this.init?.(this.initFrame);
      chunk = this.initBytes.subarray(MAILBOX_BYTES);
    }
    this.doorbells += chunk.length;
    if (chunk.length > 0) for (const w of this.woken.splice(0)) w();
  }

  /** The first frame on stdout (init done or init failure). */
  initDone(): Promise<MailboxFrame> {
    if (this.initFrame) return Promise.resolve(this.initFrame);
    return new Promise((resolve) => (this.init = resolve));
  }

  /** Waits for init done and checks it. */
  async ready(): Promise<void> {
    const f = await this.initDone();
    if (f.state !== MailboxState.INIT_DONE) throw new Error(`expected init done, got state ${f.state} error ${f.error}: ${f.errorMessage}`);
  }

  /** The child's `child_sleeping` word. */
  get childSleeping(): number {
    return Atomics.load(this.words, CHILD_SLEEPING);
  }

  /** Reads a counter word (`'parent'` or `'child'` chunks). */
  chunks(which: 'parent' | 'child'): number {
    return Atomics.load(this.words, which === 'parent' ? PARENT_CHUNKS : CHILD_CHUNKS) >>> 0;
  }

  /** Writes `parent_chunks`. */
  setParentChunks(value: number): void {
    Atomics.store(this.words, PARENT_CHUNKS, value);
  }

  /** Starts a payload: `child_chunks` = 0 and `parent_chunks` = `filled` (done before publishing a request). */
  resetChunks(filled: number): void {
    Atomics.store(this.words, CHILD_CHUNKS, 0);
    Atomics.store(this.words, PARENT_CHUNKS, filled);
  }

  /** Window offset of the half that holds chunk `k`. */
  half(k: number): number {
    return WINDOW_DATA + (k % 2) * this.chunkBytes;
  }

  /** Writes the 64-byte side-band header at the start of the window. */
  header(op: number, region: number, offset: number, nbytes: number, patch?: (h: Uint8Array) => void): void {
    const h = new Uint8Array(64);
    const v = new DataView(h.buffer);
    h.set([0x48, 0x4d, 0x52, 0x44], 0);
    v.setUint16(4, 1, true);
    v.setUint16(6, op, true);
    v.setBigUint64(8, BigInt(region), true);
    v.setBigUint64(16, BigInt(offset), true);
    v.setBigUint64(24, BigInt(nbytes), true);
    patch?.(h);
    this.window.set(h, 0);
  }

  /** The header `status` the child wrote. */
  get status(): number {
    return new DataView(this.window.buffer, this.window.byteOffset).getInt32(32, true);
  }

  /** Writes one doorbell byte to the child's stdin. */
  ring(): void {
    this.process.stdin!.write(Uint8Array.of(1));
  }

  /** Copies the fields of `frame` (bytes 4..96) into the block and publishes its state; rings when the child sleeps. */
  publish(frame: MailboxFrame, ring: 'if-asleep' | 'always' | 'never' = 'if-asleep'): void {
    this.block.set(frame.bytes.subarray(4, 96), 4);
    Atomics.store(this.words, STATE, frame.state);
    if (ring === 'always' || (ring === 'if-asleep' && this.childSleeping !== 0)) this.ring();
  }

  /** Resolves once `ready()` holds: polls, and sleeps on doorbells (with a 20 ms fallback) meanwhile. */
  async until(ready: () => boolean, ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    while (!ready()) {
      if (Date.now() > end) throw new Error(`nothing within ${ms} ms (state ${Atomics.load(this.words, STATE)}); stderr: ${this.stderr.slice(-500)}`);
      Atomics.store(this.words, PARENT_SLEEPING, 1);
      if (ready()) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20);
        this.woken.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      Atomics.store(this.words, PARENT_SLEEPING, 0);
    }
    Atomics.store(this.words, PARENT_SLEEPING, 0);
  }

  /** A copy of the block once the child replaced the request state. */
  async reply(ms = 10_000): Promise<MailboxFrame> {
    await this.until(() => Atomics.load(this.words, STATE) !== MailboxState.CONTROL_REQUEST, ms);
    return new MailboxFrame(this.block.slice());
  }

  /** Builds a control request (state 4), publishes it, returns the reply. */
  request(build: (f: MailboxFrame) => void): Promise<MailboxFrame> {
    const f = new MailboxFrame();
    f.state = MailboxState.CONTROL_REQUEST;
    build(f);
    this.publish(f);
    return this.reply();
  }

  /** Publishes shutdown (state 3) and rings. */
  shutdown(): void {
    Atomics.store(this.words, STATE, MailboxState.SHUTDOWN);
    this.ring();
  }

  /** Closes stdin (what a dying parent does). */
  endInput(): void {
    this.process.stdin!.end();
  }

  /** Kills the child if it still runs and drops the mappings. */
  kill(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL');
    for (const m of this.mappings) m.unmap();
  }
}

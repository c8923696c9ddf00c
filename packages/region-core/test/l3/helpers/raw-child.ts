import { ChildProcess, spawn } from 'node:child_process';
import { MailboxFrame, MailboxState } from '@simpler/abi';
import { defaultChildMain } from '../../../src/l3/chip-endpoint';
import { FrameAssembler } from '../../../src/l3/frame-transport';

/**
 * A chip child driven byte by byte, the way a foreign-language client would: it writes frames
 * to the child's stdin and hands back every reply frame (copied) in order.
 */
export class RawChild {
  readonly process: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Every reply frame received, in order (copies). */
  readonly received: Uint8Array[] = [];
  private readonly frames: MailboxFrame[] = [];
  private readonly waiting: ((f: MailboxFrame) => void)[] = [];
  stderr = '';

  constructor(args: readonly string[]) {
    this.process = spawn(process.execPath, [defaultChildMain(), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const assembler = new FrameAssembler((bytes) => {
      const copy = new MailboxFrame(bytes.slice());
      this.received.push(copy.bytes);
      const w = this.waiting.shift();
      if (w) w(copy);
      else this.frames.push(copy);
    });
    this.process.stdout!.on('data', (chunk: Buffer) => assembler.push(chunk));
    this.process.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.process.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) => this.process.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Spawns a child over the test backend for device `deviceId`. */
  static start(backendFile: string, deviceId = 0, extra: readonly string[] = []): RawChild {
    return new RawChild(['--device-id', String(deviceId), '--backend', backendFile, ...extra]);
  }

  /** The next reply frame. */
  next(): Promise<MailboxFrame> {
    const f = this.frames.shift();
    if (f) return Promise.resolve(f);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Waits for the init-done frame and checks it. */
  async ready(): Promise<void> {
    const f = await this.next();
    if (f.state !== MailboxState.INIT_DONE) throw new Error(`expected init done, got state ${f.state} error ${f.error}: ${f.errorMessage}`);
  }

  /** Writes raw bytes to the child's stdin. */
  write(bytes: Uint8Array): void {
    this.process.stdin!.write(Buffer.from(bytes));
  }

  /** Builds a control request (state 4), sends it, returns the reply. */
  async request(build: (f: MailboxFrame) => void): Promise<MailboxFrame> {
    const f = new MailboxFrame();
    f.state = MailboxState.CONTROL_REQUEST;
    build(f);
    this.write(f.bytes);
    return this.next();
  }

  /** Closes stdin (what a dying parent does). */
  endInput(): void {
    this.process.stdin!.end();
  }

  /** Kills the child if it still runs. */
  kill(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL');
  }
}

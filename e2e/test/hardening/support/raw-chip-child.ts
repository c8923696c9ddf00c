import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, ftruncateSync, openSync, unlinkSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { packageDirOf } from '../../support/workspace';
import { MAILBOX_BYTES, MailboxCommand, MailboxFrame, MailboxState, SidebandOp, encodeSidebandHeader } from '@simpler/abi';

/**
 * The chip child entry point of the workspace's built @simpler/region-core (its documented
 * command line: `node <it> --device-id N --backend M`). A file path, not an import.
 */
export function chipChildMain(): string {
  return path.join(packageDirOf('@simpler/region-core'), 'dist', 'l3', 'chip-child-main.js');
}

/** A random segment-name prefix private to one test, accepted by the child's `--segment-prefix`. */
export function testPrefix(): string {
  return `hz${randomBytes(4).toString('hex')}-`;
}

/**
 * A chip child driven byte by byte, as a client in another language would: raw frames to
 * stdin, reply frames from stdout, everything on stderr kept for inspection.
 */
export class RawChipChild {
  readonly process: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = '';
  /** Bytes received that did not form whole frames yet. */
  private pending = Buffer.alloc(0);
  private readonly frames: Buffer[] = [];
  private readonly waiting: ((f: Buffer) => void)[] = [];

  /** `prefix` undefined: no `--segment-prefix`, so the child accepts `simpler-hdmr-<our pid>-`. */
  constructor(readonly prefix: string | undefined, args: readonly string[] = ['--device-id', '0', '--backend', '@simpler/hal-sim'], env?: NodeJS.ProcessEnv) {
    const argv = [chipChildMain(), ...args, ...(prefix === undefined ? [] : ['--segment-prefix', prefix])];
    this.process = spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
    this.process.stdout!.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= MAILBOX_BYTES) {
        const frame = Buffer.from(this.pending.subarray(0, MAILBOX_BYTES));
        this.pending = this.pending.subarray(MAILBOX_BYTES);
        const w = this.waiting.shift();
        if (w) w(frame);
        else this.frames.push(frame);
      }
    });
    this.process.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.process.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) => this.process.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** True while the process runs. */
  get alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Bytes of a partial reply frame held (must be 0 between requests). */
  get partialBytes(): number {
    return this.pending.length;
  }

  /** The next whole reply frame, or an error after `ms` (a hang). */
  next(ms = 10_000): Promise<Buffer> {
    const f = this.frames.shift();
    if (f) return Promise.resolve(f);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(done);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new Error(`chip child sent no reply within ${ms} ms (alive: ${this.alive}); stderr: ${this.stderr.slice(-500)}`));
      }, ms);
      const done = (frame: Buffer): void => {
        clearTimeout(timer);
        resolve(frame);
      };
      this.waiting.push(done);
    });
  }

  /** Waits for init done. */
  async ready(): Promise<void> {
    const f = new MailboxFrame(new Uint8Array(await this.next(30_000)));
    if (f.state !== MailboxState.INIT_DONE) throw new Error(`expected init done, got state ${f.state} (${f.errorMessage})`);
  }

  /** Writes raw bytes, optionally in several pieces. */
  write(bytes: Uint8Array, cuts: readonly number[] = []): void {
    let at = 0;
    for (const c of [...cuts].sort((a, b) => a - b)) {
      if (c <= at || c >= bytes.length) continue;
      this.process.stdin!.write(Buffer.from(bytes.subarray(at, c)));
      at = c;
    }
    this.process.stdin!.write(Buffer.from(bytes.subarray(at)));
  }

  /** Sends one raw frame and returns the reply. */
  async roundTrip(bytes: Uint8Array, cuts: readonly number[] = [], ms?: number): Promise<MailboxFrame> {
    this.write(bytes, cuts);
    return new MailboxFrame(new Uint8Array(await this.next(ms)));
  }

  /** Builds a control request, sends it, returns the reply. */
  request(build: (f: MailboxFrame) => void, ms?: number): Promise<MailboxFrame> {
    const f = new MailboxFrame();
    f.state = MailboxState.CONTROL_REQUEST;
    build(f);
    return this.roundTrip(f.bytes, [], ms);
  }

  /** Opens a region; returns its handle (throws on an error reply). */
  async open(dataBytes: number, signals: number): Promise<number> {
    const r = await this.request((f) => {
      f.command = MailboxCommand.OPEN;
      f.setArg(0, dataBytes);
      f.setArg(1, signals);
    });
    if (r.error !== 0) throw new Error(`open failed: ${r.error} ${r.errorMessage}`);
    return r.result;
  }

  /** A liveness probe: a probe-wait on `handle`'s signal 0 for target 0 must succeed. */
  async probe(handle: number): Promise<void> {
    const r = await this.request((f) => {
      f.command = MailboxCommand.WAIT;
      f.setArg(0, handle);
    });
    if (r.state !== MailboxState.CONTROL_DONE || r.error !== 0) throw new Error(`liveness probe failed: state ${r.state} error ${r.error} ${r.errorMessage}`);
  }

  /** Asks the child to exit and returns how it exited. */
  async shutdown(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) {
      const f = new MailboxFrame();
      f.state = MailboxState.SHUTDOWN;
      this.write(f.bytes);
    }
    const timer = setTimeout(() => this.kill(), 10_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the process if it still runs. */
  kill(): void {
    if (this.alive) this.process.kill('SIGKILL');
  }
}

/** A side-band segment file created the way the spec says (O_EXCL, 0600), for a raw client. */
export class TestSegment {
  readonly name: string;
  readonly file: string;
  private fd: number;

  constructor(prefix: string) {
    // Names are at most 31 characters (the mailbox name field): fill up with random hex digits.
    this.name = prefix + randomBytes(16).toString('hex').slice(0, Math.max(8, 31 - prefix.length));
    this.file = path.join('/dev/shm', this.name);
    this.fd = openSync(this.file, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR | constants.O_NOFOLLOW, 0o600);
  }

  /** Rewrites the whole file: 64-byte header then `payload`. */
  write(header: Uint8Array, payload: Uint8Array = new Uint8Array(0), size?: number): void {
    ftruncateSync(this.fd, 0);
    const all = Buffer.concat([Buffer.from(header), Buffer.from(payload)]);
    writeSync(this.fd, all, 0, all.length, 0);
    if (size !== undefined) ftruncateSync(this.fd, size);
  }

  /** Writes a well-formed header for `op` and a payload (or room for `nbytes` of reply). */
  prepare(op: number, region: number, offset: number, nbytes: number, payload?: Uint8Array): Uint8Array {
    const header = new Uint8Array(64);
    encodeSidebandHeader({ magic: 'HMRD', version: 1, op, region, offset, nbytes, status: 0 }, header);
    this.write(header, payload ?? new Uint8Array(op === SidebandOp.H2REGION ? nbytes : op === SidebandOp.INFO ? 64 : nbytes));
    return header;
  }

  /** Removes the file. */
  dispose(): void {
    try {
      closeSync(this.fd);
    } catch {
      // closed already
    }
    try {
      unlinkSync(this.file);
    } catch {
      // gone already
    }
  }
}

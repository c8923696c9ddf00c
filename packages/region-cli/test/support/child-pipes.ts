import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { MAILBOX_BYTES, MailboxFrame, MailboxState } from '@simpler/abi';
import { BIN } from '../cli-run';

/** A `simpler-region child` driven over its pipes the way any L3 parent would: frames in, frames out. */
export interface ChildPipes {
  /** The next whole frame from stdout; rejects if the child exits first. */
  next(): Promise<MailboxFrame>;
  /** Writes one frame to stdin. */
  send(f: MailboxFrame): void;
  /** Builds a control request (state 4), sends it and returns the reply. */
  request(build: (f: MailboxFrame) => void): Promise<MailboxFrame>;
  /** Closes stdin: end-of-file for the child. */
  endInput(): void;
  /** Exit code (null after a signal). */
  readonly exit: Promise<number | null>;
  /** Bytes left on stdout after the last whole frame, once the child exited. */
  trailingBytes(): number;
  /** stderr so far. */
  stderr(): string;
  /** Process id of what was spawned (the shell, with `viaShell`). */
  readonly pid: number;
}

const running = new Set<ChildProcess>();

/** Kills every child {@link startChild} spawned that still runs (for `afterEach`: a failed test leaves none behind). */
export function killChildren(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  running.clear();
}

/**
 * Spawns `node dist/bin.js child ...args` from the package directory; with `viaShell`, through
 * `sh -c '...; exit $?'`, a wrapper that stays the child's parent (as `npx` does).
 */
export function startChild(args: readonly string[], viaShell = false): ChildPipes {
  const argv = [process.execPath, BIN, 'child', ...args];
  const [file, ...rest] = viaShell ? ['/bin/sh', '-c', '"$0" "$@"; exit $?', ...argv] : argv;
  const child = spawn(file, rest, { stdio: ['pipe', 'pipe', 'pipe'], cwd: path.resolve(__dirname, '..', '..') });
  running.add(child);
  let buffered = Buffer.alloc(0);
  let err = '';
  const waiting: (() => void)[] = [];
  child.stdout.on('data', (c: Buffer) => {
    buffered = Buffer.concat([buffered, c]);
    waiting.splice(0).forEach((w) => w());
  });
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  child.stdin.on('error', () => undefined); // a child that exited early closes the pipe under us
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const next = async (): Promise<MailboxFrame> => {
    while (buffered.length < MAILBOX_BYTES) {
      await Promise.race([new Promise<void>((r) => waiting.push(r)), exit.then(() => Promise.reject(new Error(`child exited: ${err}`)))]);
    }
    const frame = new MailboxFrame(Uint8Array.from(buffered.subarray(0, MAILBOX_BYTES)));
    buffered = buffered.subarray(MAILBOX_BYTES);
    return frame;
  };
  const send = (f: MailboxFrame): void => void child.stdin.write(Buffer.from(f.bytes));
  const request = (build: (f: MailboxFrame) => void): Promise<MailboxFrame> => {
    const f = new MailboxFrame();
    f.state = MailboxState.CONTROL_REQUEST;
    build(f);
    send(f);
    return next();
  };
  return { next, send, request, endInput: () => child.stdin.end(), exit, trailingBytes: () => buffered.length, stderr: () => err, pid: child.pid! };
}

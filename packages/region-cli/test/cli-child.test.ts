import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { MAILBOX_BYTES, MailboxCommand, MailboxFrame, MailboxState } from '@simpler/abi';
import { SharedMemoryObject } from '@simpler/shm';
import { BIN, expectUsageError, runCli } from './cli-run';

/** Drives `simpler-region child` over its pipes the way any L3 parent would: frames in, frames out. */
function startChild(args: string[]): { next: () => Promise<MailboxFrame>; send: (f: MailboxFrame) => void; exit: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, [BIN, 'child', ...args], { stdio: ['pipe', 'pipe', 'pipe'], cwd: path.resolve(__dirname, '..') });
  let buffered = Buffer.alloc(0);
  let err = '';
  const waiting: (() => void)[] = [];
  child.stdout.on('data', (c: Buffer) => {
    buffered = Buffer.concat([buffered, c]);
    waiting.splice(0).forEach((w) => w());
  });
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const next = async (): Promise<MailboxFrame> => {
    while (buffered.length < MAILBOX_BYTES) {
      await Promise.race([new Promise<void>((r) => waiting.push(r)), exit.then(() => Promise.reject(new Error(`child exited: ${err}`)))]);
    }
    const frame = new MailboxFrame(Uint8Array.from(buffered.subarray(0, MAILBOX_BYTES)));
    buffered = buffered.subarray(MAILBOX_BYTES);
    return frame;
  };
  return { next, send: (f) => child.stdin.write(f.bytes), exit, stderr: () => err };
}

describe('simpler-region child', () => {
  it('speaks the spec section 9 protocol: init done, open, notify, wait, close, shutdown', async () => {
    const c = startChild(['--device-id', '0', '--backend', '@simpler/hal-sim']);
    const init = await c.next();
    expect(init.state).toBe(MailboxState.INIT_DONE);

    const open = new MailboxFrame();
    open.state = MailboxState.CONTROL_REQUEST;
    open.command = MailboxCommand.OPEN;
    open.setArg(0, 4096);
    open.setArg(1, 2);
    c.send(open);
    const opened = await c.next();
    expect({ state: opened.state, error: opened.error }).toEqual({ state: MailboxState.CONTROL_DONE, error: 0 });
    const handle = opened.result;
    expect(handle).not.toBe(0);

    const notify = new MailboxFrame();
    notify.state = MailboxState.CONTROL_REQUEST;
    notify.command = MailboxCommand.NOTIFY;
    notify.setArg(0, handle);
    notify.setArg(1, 1);
    notify.setArg(2, 5);
    c.send(notify);
    expect((await c.next()).error).toBe(0);

    const wait = new MailboxFrame();
    wait.state = MailboxState.CONTROL_REQUEST;
    wait.command = MailboxCommand.WAIT;
    wait.setArg(0, handle);
    wait.setArg(1, 1);
    wait.setArg(2, 6);
    wait.setArg(3, 0);
    c.send(wait);
    const missed = await c.next();
    expect(missed.error).toBe(-11); // EAGAIN: a probe for 6 while the slot holds 5

    const close = new MailboxFrame();
    close.state = MailboxState.CONTROL_REQUEST;
    close.command = MailboxCommand.CLOSE;
    close.setArg(0, handle);
    c.send(close);
    expect((await c.next()).error).toBe(0);

    const bye = new MailboxFrame();
    bye.state = MailboxState.SHUTDOWN;
    c.send(bye);
    expect(await c.exit).toBe(0);
  });

  it('reports a backend that cannot start in its first frame and exits 1', async () => {
    const c = startChild(['--device-id', '0', '--backend', '@simpler/no-such-backend']);
    const first = await c.next();
    expect(first.state).toBe(MailboxState.CONTROL_DONE);
    expect(first.error).toBe(-22);
    expect(first.errorMessage).toContain('no-such-backend');
    expect(await c.exit).toBe(1);
  });

  it('--transport shm: requests and replies in the inherited control block, payloads in the window, doorbells on the pipes', async () => {
    const block = SharedMemoryObject.create(MAILBOX_BYTES, { debugName: 'cli-test-block' });
    const window = SharedMemoryObject.create(4096 + 2 * 4096, { debugName: 'cli-test-window' });
    const [bm, wm] = [block.map(), window.map()];
    const words = new Int32Array(bm.buffer);
    const bytes = new Uint8Array(bm.buffer);
    const child = spawn(process.execPath, [BIN, 'child', '--device-id', '0', '--backend', '@simpler/hal-sim', '--transport', 'shm', '--spin-us', '0'], {
      stdio: ['pipe', 'pipe', 'pipe', block.fd, window.fd],
      cwd: path.resolve(__dirname, '..'),
    });
    block.close();
    window.close();
    let out = Buffer.alloc(0);
    child.stdout!.on('data', (c: Buffer) => (out = Buffer.concat([out, c])));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const until = async (ready: () => boolean): Promise<void> => {
      for (let i = 0; !ready(); i++) {
        if (i > 2000) throw new Error('no answer from the child within 10 s');
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    try {
      await until(() => out.length >= MAILBOX_BYTES);
      expect(new MailboxFrame(Uint8Array.from(out.subarray(0, MAILBOX_BYTES))).state).toBe(MailboxState.INIT_DONE);
      const request = new MailboxFrame();
      request.command = MailboxCommand.OPEN;
      request.setArg(0, 4096);
      request.setArg(1, 1);
      bytes.set(request.bytes.subarray(4, 96), 4);
      Atomics.store(words, 0, MailboxState.CONTROL_REQUEST);
      // --spin-us 0: the child sleeps at once, so it needs the doorbell.
      await until(() => Atomics.load(words, 128 / 4) === 1 || Atomics.load(words, 0) !== MailboxState.CONTROL_REQUEST);
      if (Atomics.load(words, 0) === MailboxState.CONTROL_REQUEST) child.stdin!.write(Uint8Array.of(1));
      await until(() => Atomics.load(words, 0) === MailboxState.CONTROL_DONE);
      const reply = new MailboxFrame(bytes.slice(0, MAILBOX_BYTES));
      expect([reply.command, reply.error]).toEqual([MailboxCommand.OPEN, 0]);
      expect(reply.result).toBeGreaterThan(0);
      Atomics.store(words, 0, MailboxState.SHUTDOWN);
      child.stdin!.write(Uint8Array.of(1));
      expect(await exit).toBe(0);
      expect(out.length).toBeGreaterThanOrEqual(MAILBOX_BYTES); // nothing but the init frame and doorbell bytes
    } finally {
      child.kill('SIGKILL');
      bm.unmap();
      wm.unmap();
    }
  });

  it.each([
    [['--device-id', '0', '--backend', '@simpler/hal-sim', '--transport', 'tcp'], '--transport'],
    [['--device-id', '0', '--backend', '@simpler/hal-sim', '--spin-us', '-1'], '--spin-us'],
    [['--backend', '@simpler/hal-sim'], '--device-id'],
    [['--device-id', 'x', '--backend', '@simpler/hal-sim'], '--device-id'],
    [['--device-id', '0'], '--backend'],
  ])('usage error %j exits 2 naming %s', (args, flag) => {
    expectUsageError(runCli(['child', ...args]), flag);
  });
});

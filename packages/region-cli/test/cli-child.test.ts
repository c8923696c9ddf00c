import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { MAILBOX_BYTES, MailboxCommand, MailboxFrame, MailboxState } from '@simpler/abi';
import { parseChipChildArgs } from '@simpler/region-core';
import { SharedMemoryObject } from '@simpler/shm';
import { BIN } from './cli-run';
import { killChildren, startChild } from './support/child-pipes';

/** What region-core's own parser says about a command line (the node entry point's words). */
function refusal(args: readonly string[]): string {
  try {
    parseChipChildArgs(args);
  } catch (error) {
    return (error as Error).message;
  }
  return 'accepted';
}

describe('simpler-region child', () => {
  afterEach(killChildren);

  it('speaks the spec section 9 protocol: init done, open, notify, wait, close, shutdown', async () => {
    const c = startChild(['--device-id', '0', '--backend', '@simpler/hal-sim']);
    const init = await c.next();
    expect(init.state).toBe(MailboxState.INIT_DONE);

    const opened = await c.request((f) => {
      f.command = MailboxCommand.OPEN;
      f.setArg(0, 4096);
      f.setArg(1, 2);
    });
    expect({ state: opened.state, error: opened.error }).toEqual({ state: MailboxState.CONTROL_DONE, error: 0 });
    const handle = opened.result;
    expect(handle).not.toBe(0);

    const notified = await c.request((f) => {
      f.command = MailboxCommand.NOTIFY;
      f.setArg(0, handle);
      f.setArg(1, 1);
      f.setArg(2, 5);
    });
    expect(notified.error).toBe(0);

    const missed = await c.request((f) => {
      f.command = MailboxCommand.WAIT;
      f.setArg(0, handle);
      f.setArg(1, 1);
      f.setArg(2, 6);
      f.setArg(3, 0);
    });
    expect(missed.error).toBe(-11); // EAGAIN: a probe for 6 while the slot holds 5

    const closed = await c.request((f) => {
      f.command = MailboxCommand.CLOSE;
      f.setArg(0, handle);
    });
    expect(closed.error).toBe(0);

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

  // docs/l3-protocol.md section 1: the child's command line is one, whichever entry point runs it.
  describe('refuses the same command lines as chip-child-main.js: one init-failure frame (EINVAL), then exit 1', () => {
    const sim = ['--backend', '@simpler/hal-sim'];
    it.each([
      [['--device-id', '0', '--device-id', '1', ...sim], '--device-id given twice'],
      [['--device-id=0', '--device-id=1', ...sim], '--device-id given twice'],
      [['--device-id', '0', ...sim, '--backend', '@simpler/hal-stub'], '--backend given twice'],
      [['--device-id', '0', ...sim, '--segment-prefix', 'ab-', '--segment-prefix', 'cd-'], '--segment-prefix given twice'],
      [['--device-id', '0', ...sim, '--backend-options', '{}', '--backend-options', '{}'], '--backend-options given twice'],
      [sim, '--device-id'],
      [['--device-id', 'x', ...sim], '--device-id'],
      [['--device-id', '0x1', ...sim], '--device-id'],
      [['--device-id', '4294967296', ...sim], '--device-id'],
      [['--device-id', '0'], '--backend'],
      [['--device-id', '0', ...sim, '--backend-options', '[1]'], '--backend-options'],
      [['--device-id', '0', ...sim, '--segment-prefix', 'a/b'], 'segment prefix'],
      [['--device-id', '0', ...sim, '--platform', 'a5sim'], '--platform'],
      [['--device-id', '0', ...sim, 'extra'], 'extra'],
      [['--device-id', '0', '--backend'], '--backend'],
      [['--device-id', '0', ...sim, '--transport', 'tcp'], '--transport'],
      [['--device-id', '0', ...sim, '--transport', 'shm', '--transport', 'pipe'], '--transport given twice'],
      [['--device-id', '0', ...sim, '--spin-us', '-1'], '--spin-us'],
      [['--device-id', '0', ...sim, '--control-fd', '4', '--window-fd', '4'], '--window-fd'],
    ])('%j', async (args, mentions) => {
      const c = startChild(args);
      const first = await c.next();
      expect({ state: first.state, error: first.error, command: first.command, result: first.result }).toEqual({
        state: MailboxState.CONTROL_DONE,
        error: -22,
        command: 0,
        result: 0,
      });
      expect(first.errorMessage).toContain(mentions);
      // The very message region-core's own parser gives for this command line.
      expect(first.errorMessage).toBe(`chip child init failed: ${refusal(args)}`);
      expect(await c.exit).toBe(1);
      expect(c.trailingBytes()).toBe(0);
    });
  });

  it('accepts --flag=value and hands backend options and segment prefix on', async () => {
    const c = startChild(['--device-id=3', '--backend=@simpler/hal-sim', '--backend-options={"platform":"a5sim"}', '--segment-prefix=cli-test-']);
    const init = await c.next();
    expect({ state: init.state, error: init.error, platform: init.name }).toEqual({ state: MailboxState.INIT_DONE, error: 0, platform: 'a5sim' });
    c.endInput();
    expect(await c.exit).toBe(0);
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
});

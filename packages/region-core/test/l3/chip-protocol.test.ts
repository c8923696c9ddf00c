import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ERRNO,
  MailboxCommand,
  MailboxFrame,
  MailboxState,
  SidebandOp,
  decodeInfo,
  encodeSidebandHeader,
} from '@simpler/abi';
import { ParentSegment, SHM_DIR, defaultSegmentPrefix } from '../../src/l3/sideband-segment';
import { RawChild } from './helpers/raw-child';
import { control } from './helpers/raw-chip';
import { writeTestBackend } from './helpers/test-backend';

const backend = writeTestBackend();
afterAll(() => backend.remove());

const EINVAL = ERRNO.EINVAL;

describe('chip child protocol (raw frames)', () => {
  let child: RawChild;
  let seg: ParentSegment;
  let handle: number;
  const extraFiles: string[] = [];

  beforeAll(async () => {
    child = RawChild.start(backend.file, 3);
    await child.ready();
    seg = ParentSegment.create();
  });

  afterAll(async () => {
    child.kill();
    await child.exited;
    seg.dispose();
    for (const f of extraFiles) fs.rmSync(f, { force: true });
  });

  const open = (dataBytes: number, signals: number, flags = 0): Promise<MailboxFrame> => control(child, MailboxCommand.OPEN, dataBytes, signals, flags);

  const sideband = (command: number, name: string = seg.name): Promise<MailboxFrame> =>
    child.request((f) => {
      f.command = command;
      f.name = name;
    });

  const notify = (h: number, id: number, value: number): Promise<MailboxFrame> => control(child, MailboxCommand.NOTIFY, h, id, value);
  const wait = (h: number, id: number, target: number, timeoutUs: number): Promise<MailboxFrame> =>
    control(child, MailboxCommand.WAIT, h, id, target, timeoutUs);

  function headerStatus(): number {
    return seg.readStatus();
  }

  it('opens a region and answers with a non-zero handle in RESULT', async () => {
    const r = await open(1024, 2);
    expect(r.state).toBe(MailboxState.CONTROL_DONE);
    expect(r.error).toBe(0);
    expect(r.command).toBe(MailboxCommand.OPEN);
    expect(r.result).toBeGreaterThan(0);
    expect(Number.isSafeInteger(r.result)).toBe(true);
    handle = r.result;
  });

  it('rejects invalid open configs with EINVAL and a message', async () => {
    for (const [d, s, fl] of [[0, 1, 0], [16, 0, 0], [16, 1, 1]]) {
      const r = await open(d, s, fl);
      expect(r.error).toBe(EINVAL);
      expect(r.errorMessage.length).toBeGreaterThan(0);
    }
  });

  it('info comes back through the side-band segment with host pointers 0', async () => {
    seg.prepare(SidebandOp.INFO, handle, 0, 64, true);
    const r = await sideband(MailboxCommand.INFO);
    expect(r.error).toBe(0);
    expect(headerStatus()).toBe(0);
    const info = decodeInfo(await seg.readPayload(64));
    expect(info.host_data_ptr).toBe(0n);
    expect(info.host_signal_ptr).toBe(0n);
    expect(info.data_bytes).toBe(1024n);
    expect(Number(info.signal_count)).toBe(2);
    expect(info.device_signal_ptr).toBeGreaterThan(0n);
    expect(info.device_data_ptr - info.device_signal_ptr).toBe(128n);
    // The test backend's host address is 0x7f0000000000 + device address: never on the wire.
    const host = 0x7f0000000000n + info.device_data_ptr;
    const needle = Buffer.alloc(8);
    needle.writeBigUInt64LE(host);
    for (const frame of child.received) expect(Buffer.from(frame).includes(needle)).toBe(false);
  });

  it('h2region and region2h move bytes through the segment and write status 0', async () => {
    const payload = Buffer.from('the quick brown fox');
    seg.prepare(SidebandOp.H2REGION, handle, 100, payload.length, true);
    await seg.writePayload(payload);
    expect((await sideband(MailboxCommand.DATACOPY_H2REGION)).error).toBe(0);
    expect(headerStatus()).toBe(0);
    seg.prepare(SidebandOp.REGION2H, handle, 98, payload.length + 4, true);
    expect((await sideband(MailboxCommand.DATACOPY_REGION2H)).error).toBe(0);
    const out = await seg.readPayload(payload.length + 4);
    expect(out.equals(Buffer.concat([Buffer.alloc(2), payload, Buffer.alloc(2)]))).toBe(true);
  });

  it('datacopy outside the data area is EINVAL (status written too)', async () => {
    seg.prepare(SidebandOp.REGION2H, handle, 1020, 8, true);
    const r = await sideband(MailboxCommand.DATACOPY_REGION2H);
    expect(r.error).toBe(EINVAL);
    expect(r.errorMessage).toMatch(/outside the data area/);
    expect(headerStatus()).toBe(EINVAL);
  });

  it('notify and wait: probe hit, probe miss (EAGAIN), bounded wait timeout, monotonic values', async () => {
    expect((await notify(handle, 0, 5)).error).toBe(0);
    expect((await wait(handle, 0, 5, 0)).error).toBe(0);
    expect((await wait(handle, 0, 6, 0)).error).toBe(ERRNO.EAGAIN);
    expect((await wait(handle, 0, 6, 20_000)).error).toBe(ERRNO.EAGAIN);
    expect((await notify(handle, 0, 4)).error).toBe(EINVAL);
    expect((await notify(handle, 2, 1)).error).toBe(EINVAL);
    expect((await notify(handle, 0, 2 ** 32)).error).toBe(EINVAL);
  });

  it('launch passes ARG0..ARG3 and the kernel name; synchronize reports kernel failures', async () => {
    seg.prepare(SidebandOp.INFO, handle, 0, 64, true);
    await sideband(MailboxCommand.INFO);
    const info = decodeInfo(await seg.readPayload(64));
    const l = await child.request((f) => {
      f.command = MailboxCommand.LAUNCH;
      f.name = 'store-args';
      f.setArgBig(0, info.device_data_ptr + 200n);
      f.setArgBig(1, 0x1122334455667788n);
      f.setArgBig(2, 2n);
      f.setArgBig(3, 0xffffffffffffffffn);
    });
    expect(l.error).toBe(0);
    expect((await child.request((f) => (f.command = MailboxCommand.SYNCHRONIZE))).error).toBe(0);
    seg.prepare(SidebandOp.REGION2H, handle, 200, 24, true);
    await sideband(MailboxCommand.DATACOPY_REGION2H);
    const out = await seg.readPayload(24);
    expect(out.readBigUInt64LE(0)).toBe(0x1122334455667788n);
    expect(out.readBigUInt64LE(8)).toBe(2n);
    expect(out.readBigUInt64LE(16)).toBe(0xffffffffffffffffn);

    const unknown = await child.request((f) => {
      f.command = MailboxCommand.LAUNCH;
      f.name = 'no-such-kernel';
    });
    expect(unknown.error).toBe(ERRNO.EIO);
    const noName = await child.request((f) => (f.command = MailboxCommand.LAUNCH));
    expect(noName.error).toBe(EINVAL);
    await child.request((f) => {
      f.command = MailboxCommand.LAUNCH;
      f.name = 'fail';
    });
    const sync = await child.request((f) => (f.command = MailboxCommand.SYNCHRONIZE));
    expect(sync.error).toBe(ERRNO.EIO);
    expect(sync.errorMessage).toMatch(/kernel fail ran/);
  });

  it('a wait the device satisfies later answers after the store, and requests behind it wait their turn', async () => {
    seg.prepare(SidebandOp.INFO, handle, 0, 64, true);
    await sideband(MailboxCommand.INFO);
    const info = decodeInfo(await seg.readPayload(64));
    await child.request((f) => {
      f.command = MailboxCommand.LAUNCH;
      f.name = 'store-signal';
      f.setArgBig(0, info.device_signal_ptr + 64n);
      f.setArgBig(1, 9n);
      f.setArgBig(2, 100n);
    });
    // Pipeline: wait (pending ~100 ms), then a notify sent before the wait is answered.
    const w = new MailboxFrame();
    w.state = MailboxState.CONTROL_REQUEST;
    w.command = MailboxCommand.WAIT;
    w.setArg(0, handle);
    w.setArg(1, 1);
    w.setArg(2, 9);
    w.setArg(3, 5_000_000);
    const n = new MailboxFrame();
    n.state = MailboxState.CONTROL_REQUEST;
    n.command = MailboxCommand.NOTIFY;
    n.setArg(0, handle);
    n.setArg(1, 0);
    n.setArg(2, 50);
    child.write(Buffer.concat([w.bytes, n.bytes]));
    const first = await child.next();
    const second = await child.next();
    expect([first.command, first.error]).toEqual([MailboxCommand.WAIT, 0]);
    expect([second.command, second.error]).toEqual([MailboxCommand.NOTIFY, 0]);
  });

  it('reassembles frames split at arbitrary points and serves pipelined frames in order', async () => {
    let value = 100;
    for (const cut of [1, 7, 4095, 4097, 9000]) {
      const frames: Buffer[] = [];
      for (let i = 0; i < 5; i++) {
        const f = new MailboxFrame();
        f.state = MailboxState.CONTROL_REQUEST;
        f.command = MailboxCommand.NOTIFY;
        f.setArg(0, handle);
        f.setArg(2, ++value);
        frames.push(Buffer.from(f.bytes));
      }
      const all = Buffer.concat(frames);
      child.write(all.subarray(0, cut));
      await new Promise((r) => setTimeout(r, 5));
      child.write(all.subarray(cut));
      const replies = [];
      for (let i = 0; i < 5; i++) replies.push(await child.next());
      // Monotonic values: any reordering would make a notify fail with EINVAL.
      expect(replies.map((r) => [r.command, r.error])).toEqual(Array(5).fill([MailboxCommand.NOTIFY, 0]));
    }
  });

  describe('malformed frames are EINVAL and the child keeps serving', () => {
    afterEach(async () => {
      // The child is still alive and correct after each malformed input.
      expect((await wait(handle, 0, 1, 0)).error).toBe(0);
    });

    it.each([0, 1, 2, 5, 6, 7, -1])('state %i', async (state) => {
      const r = await child.request((f) => {
        f.state = state;
        f.command = MailboxCommand.NOTIFY;
      });
      expect(r.state).toBe(MailboxState.CONTROL_DONE);
      expect(r.error).toBe(EINVAL);
      expect(r.errorMessage).toMatch(/state/);
    });

    it.each([0, 11, 19, 31, 36, 2 ** 40])('unknown command %i', async (command) => {
      const r = await child.request((f) => (f.command = command));
      expect(r.error).toBe(EINVAL);
      expect(r.command).toBe(command);
      expect(r.errorMessage).toMatch(/unknown command/);
    });

    it('non-zero reserved field', async () => {
      const r = await child.request((f) => {
        f.command = MailboxCommand.NOTIFY;
        f.bytes[60] = 1;
      });
      expect(r.error).toBe(EINVAL);
    });

    it('non-zero error field in a request', async () => {
      const r = await child.request((f) => {
        f.command = MailboxCommand.NOTIFY;
        f.error = -5;
      });
      expect(r.error).toBe(EINVAL);
    });

    it('name without a NUL terminator', async () => {
      const r = await child.request((f) => {
        f.command = MailboxCommand.INFO;
        f.bytes.fill(0x61, 64, 96);
      });
      expect(r.error).toBe(EINVAL);
      expect(r.errorMessage).toMatch(/NUL/);
    });

    it('a forged handle', async () => {
      const r = await notify(handle + 1, 0, 1);
      expect(r.error).toBe(EINVAL);
    });

    const badNames = [
      ['a slash', () => `../${seg.name}`.slice(0, 31)],
      ['a dot-dot', () => `${defaultSegmentPrefix(process.pid)}..abcdef01`],
      ['a path', () => `/dev/shm/${seg.name}`.slice(0, 31)],
      ['a wrong prefix', () => `simpler-hdmr-1-0123456789abcdef`],
      ['no random part', () => defaultSegmentPrefix(process.pid)],
      ['uppercase hex', () => `${defaultSegmentPrefix(process.pid)}ABCDEF0123`],
      ['an empty name', () => ''],
      ['a missing file', () => `${defaultSegmentPrefix(process.pid)}00000000`],
    ] as const;
    it.each(badNames)('segment name with %s', async (_label, name) => {
      const r = await sideband(MailboxCommand.INFO, name());
      expect(r.error).toBe(EINVAL);
    });

    function rawSegment(header: Uint8Array, payloadBytes = 64): string {
      const name = `${defaultSegmentPrefix(process.pid)}${'e'.repeat(31 - defaultSegmentPrefix(process.pid).length)}`;
      const file = path.join(SHM_DIR, name);
      fs.rmSync(file, { force: true });
      fs.writeFileSync(file, Buffer.concat([header, Buffer.alloc(payloadBytes)]), { mode: 0o600 });
      extraFiles.push(file);
      return name;
    }

    function header(fields: Partial<Record<string, unknown>> = {}): Uint8Array {
      return encodeSidebandHeader({ magic: 'HMRD', version: 1, op: SidebandOp.INFO, region: handle, offset: 0, nbytes: 64, status: 0, ...fields } as never);
    }

    it.each([
      ['bad magic', { magic: 'HDMR' }],
      ['bad version', { version: 2 }],
      ['op for another command', { op: SidebandOp.H2REGION }],
      ['unknown op', { op: 9 }],
      ['info with the wrong size', { nbytes: 32 }],
    ])('segment with %s', async (_label, fields) => {
      const name = rawSegment(header(fields));
      const r = await sideband(MailboxCommand.INFO, name);
      expect(r.error).toBe(EINVAL);
      const status = fs.readFileSync(path.join(SHM_DIR, name)).readInt32LE(32);
      expect(status).toBe(EINVAL);
    });

    it('segment with non-zero reserved bytes', async () => {
      const h = header();
      h[50] = 1;
      expect((await sideband(MailboxCommand.INFO, rawSegment(h))).error).toBe(EINVAL);
    });

    it('segment smaller than the payload its header announces', async () => {
      const h = encodeSidebandHeader({ magic: 'HMRD', version: 1, op: SidebandOp.H2REGION, region: handle, offset: 0, nbytes: 512, status: 0 });
      const r = await sideband(MailboxCommand.DATACOPY_H2REGION, rawSegment(h, 100));
      expect(r.error).toBe(EINVAL);
      expect(r.errorMessage).toMatch(/payload bytes/);
    });

    it('segment shorter than its header', async () => {
      const name = rawSegment(new Uint8Array(10), 0);
      expect((await sideband(MailboxCommand.INFO, name)).error).toBe(EINVAL);
    });

    it('segment that is a symlink (not followed)', async () => {
      const target = rawSegment(header());
      const link = `${defaultSegmentPrefix(process.pid)}${'f'.repeat(31 - defaultSegmentPrefix(process.pid).length)}`;
      const linkPath = path.join(SHM_DIR, link);
      fs.rmSync(linkPath, { force: true });
      fs.symlinkSync(path.join(SHM_DIR, target), linkPath);
      extraFiles.push(linkPath);
      expect((await sideband(MailboxCommand.INFO, link)).error).toBe(EINVAL);
    });

    it('segment readable by others (mode not 0600)', async () => {
      const name = rawSegment(header());
      fs.chmodSync(path.join(SHM_DIR, name), 0o644);
      expect((await sideband(MailboxCommand.INFO, name)).error).toBe(EINVAL);
    });
  });

  it('close answers 0, a second close is EINVAL', async () => {
    const r = await child.request((f) => {
      f.command = MailboxCommand.CLOSE;
      f.setArg(0, handle);
    });
    expect(r.error).toBe(0);
    const again = await child.request((f) => {
      f.command = MailboxCommand.CLOSE;
      f.setArg(0, handle);
    });
    expect(again.error).toBe(EINVAL);
  });

  it('no reply frame ever carried a host address of the test backend', () => {
    for (const frame of child.received) {
      const message = new MailboxFrame(frame).errorMessage;
      expect(message).not.toMatch(/0x7f|7f0000|139637976727552/i);
    }
  });
});

describe('chip child lifecycle', () => {
  it('a failing backend init is reported as state 5 with an errno and message, then exit 1', async () => {
    const child = RawChild.start(backend.file, 0, ['--backend-options', '{"failInit":true}']);
    const f = await child.next();
    expect(f.state).toBe(MailboxState.CONTROL_DONE);
    expect(f.error).toBe(ERRNO.EIO);
    expect(f.errorMessage).toMatch(/failInit/);
    expect((await child.exited).code).toBe(1);
  });

  it.each([
    ['no backend', ['--device-id', '0']],
    ['a bad device id', ['--device-id', '-1', '--backend', 'x']],
    ['an unknown flag', ['--device-id', '0', '--backend', 'x', '--verbose']],
    ['bad JSON options', ['--device-id', '0', '--backend', 'x', '--backend-options', '{']],
    ['a bad segment prefix', ['--device-id', '0', '--backend', 'x', '--segment-prefix', '../x']],
  ])('a bad command line (%s) is EINVAL at init', async (_label, args) => {
    const child = new RawChild(args);
    const f = await child.next();
    expect(f.state).toBe(MailboxState.CONTROL_DONE);
    expect(f.error).toBe(EINVAL);
    expect((await child.exited).code).toBe(1);
  });

  it('a missing backend module is EINVAL at init', async () => {
    const child = RawChild.start(path.join(backend.dir, 'missing.js'));
    const f = await child.next();
    expect(f.error).toBe(EINVAL);
    expect((await child.exited).code).toBe(1);
  });

  it('state 3 releases everything and exits 0', async () => {
    const child = RawChild.start(backend.file);
    await child.ready();
    const f = new MailboxFrame();
    f.state = MailboxState.SHUTDOWN;
    child.write(f.bytes);
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });

  it('state 3 during a pending wait exits at once without a reply', async () => {
    const child = RawChild.start(backend.file);
    await child.ready();
    const o = await child.request((f) => {
      f.command = MailboxCommand.OPEN;
      f.setArg(0, 64);
      f.setArg(1, 1);
    });
    const w = new MailboxFrame();
    w.state = MailboxState.CONTROL_REQUEST;
    w.command = MailboxCommand.WAIT;
    w.setArg(0, o.result);
    w.setArg(2, 1);
    w.setArg(3, 60_000_000);
    const bye = new MailboxFrame();
    bye.state = MailboxState.SHUTDOWN;
    child.write(w.bytes);
    child.write(bye.bytes);
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.received.length).toBe(2); // init done + open
  });

  it('end of stdin (parent gone) releases everything, unlinks the segments it used, and exits', async () => {
    const child = RawChild.start(backend.file);
    await child.ready();
    const o = await child.request((f) => {
      f.command = MailboxCommand.OPEN;
      f.setArg(0, 64);
      f.setArg(1, 1);
    });
    const seg = ParentSegment.create();
    seg.prepare(SidebandOp.INFO, o.result, 0, 64, true);
    const r = await child.request((f) => {
      f.command = MailboxCommand.INFO;
      f.name = seg.name;
    });
    expect(r.error).toBe(0);
    expect(fs.existsSync(seg.filePath)).toBe(true);
    child.endInput();
    expect((await child.exited).code).toBe(0);
    expect(fs.existsSync(seg.filePath)).toBe(false);
    seg.dispose();
  });
});

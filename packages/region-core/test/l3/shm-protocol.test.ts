import { readFileSync } from 'node:fs';
import { ERRNO, MailboxCommand, MailboxFrame, MailboxState, SidebandOp, decodeInfo } from '@simpler/abi';
import { RawChild } from './helpers/raw-child';
import { RawShmChild, WINDOW_DATA } from './helpers/raw-shm-child';
import { writeTestBackend } from './helpers/test-backend';

const backend = writeTestBackend();
afterAll(() => backend.remove());

const EINVAL = ERRNO.EINVAL;
const CHUNK = 4096;

/** utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/<pid>/stat). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('chip child over the shared-memory transport (raw control block and data window)', () => {
  let child: RawShmChild;
  let handle: number;

  beforeAll(async () => {
    child = RawShmChild.start(backend.file, 2, { chunkBytes: CHUNK, spinUs: 200 });
    await child.ready();
  });

  afterAll(async () => {
    child.kill();
    await child.exited;
  });

  const notify = (h: number, id: number, value: number): Promise<MailboxFrame> =>
    child.request((f) => {
      f.command = MailboxCommand.NOTIFY;
      f.setArg(0, h);
      f.setArg(1, id);
      f.setArg(2, value);
    });

  it('sends init done over its stdout pipe, naming the platform', async () => {
    const f = await child.initDone();
    expect(f.state).toBe(MailboxState.INIT_DONE);
    expect(f.name).toBe('testsim');
  });

  it('answers open, notify and wait in the control block, echoing the command', async () => {
    const o = await child.request((f) => {
      f.command = MailboxCommand.OPEN;
      f.setArg(0, 64 * 1024);
      f.setArg(1, 2);
    });
    expect([o.state, o.error, o.command]).toEqual([MailboxState.CONTROL_DONE, 0, MailboxCommand.OPEN]);
    handle = o.result;
    expect(handle).toBeGreaterThan(0);
    expect((await notify(handle, 0, 3)).error).toBe(0);
    const w = await child.request((f) => {
      f.command = MailboxCommand.WAIT;
      f.setArg(0, handle);
      f.setArg(2, 4);
      f.setArg(3, 0);
    });
    expect([w.command, w.error]).toEqual([MailboxCommand.WAIT, ERRNO.EAGAIN]);
    expect(w.errorMessage.length).toBeGreaterThan(0);
  });

  it('info comes back in the window with host pointers 0 and RESULT 64', async () => {
    child.header(SidebandOp.INFO, handle, 0, 64);
    const r = await child.request((f) => (f.command = MailboxCommand.INFO));
    expect([r.error, r.result, child.status]).toEqual([0, 64, 0]);
    const info = decodeInfo(child.window.slice(WINDOW_DATA, WINDOW_DATA + 64));
    expect([info.host_data_ptr, info.host_signal_ptr, info.data_bytes]).toEqual([0n, 0n, 64n * 1024n]);
  });

  it('moves a payload of one chunk: h2region from the first half, region2h into it with RESULT = nbytes', async () => {
    const payload = Buffer.from('shared memory, no files');
    child.header(SidebandOp.H2REGION, handle, 100, payload.length);
    child.window.set(payload, WINDOW_DATA);
    child.resetChunks(1);
    expect((await child.request((f) => (f.command = MailboxCommand.DATACOPY_H2REGION))).error).toBe(0);
    expect(child.status).toBe(0);
    child.header(SidebandOp.REGION2H, handle, 98, payload.length + 4);
    child.resetChunks(0);
    const r = await child.request((f) => (f.command = MailboxCommand.DATACOPY_REGION2H));
    expect([r.error, r.result]).toEqual([0, payload.length + 4]);
    expect(Buffer.from(child.window.subarray(WINDOW_DATA, WINDOW_DATA + payload.length + 4))).toEqual(Buffer.concat([Buffer.alloc(2), payload, Buffer.alloc(2)]));
  });

  it('moves a payload of several chunks through both halves, each side counting its chunks', async () => {
    const n = 5 * CHUNK + 100;
    const chunks = Math.ceil(n / CHUNK);
    const payload = Buffer.from(Array.from({ length: n }, (_, i) => (i * 13 + 7) & 0xff));
    const piece = (k: number): Buffer => payload.subarray(k * CHUNK, Math.min(n, (k + 1) * CHUNK));
    // h2region: chunk k goes into half k mod 2 once the child consumed chunk k - 2.
    child.header(SidebandOp.H2REGION, handle, 1000, n);
    child.window.set(piece(0), child.half(0));
    child.resetChunks(1);
    const request = new MailboxFrame();
    request.state = MailboxState.CONTROL_REQUEST;
    request.command = MailboxCommand.DATACOPY_H2REGION;
    child.publish(request);
    for (let k = 1; k < chunks; k++) {
      await child.until(() => child.chunks('child') >= k - 1);
      child.window.set(piece(k), child.half(k));
      child.setParentChunks(k + 1);
      if (child.childSleeping) child.ring();
    }
    const h2 = await child.reply();
    expect([h2.command, h2.error, child.chunks('child')]).toEqual([MailboxCommand.DATACOPY_H2REGION, 0, chunks]);
    // region2h: the child fills chunk k once we released chunk k - 2; we release each after copying it.
    child.header(SidebandOp.REGION2H, handle, 1000, n);
    child.resetChunks(0);
    request.command = MailboxCommand.DATACOPY_REGION2H;
    child.publish(request);
    const back = Buffer.alloc(n);
    for (let k = 0; k < chunks; k++) {
      await child.until(() => child.chunks('child') > k);
      const length = Math.min(CHUNK, n - k * CHUNK);
      back.set(child.window.subarray(child.half(k), child.half(k) + length), k * CHUNK);
      child.setParentChunks(k + 1);
      if (child.childSleeping) child.ring();
    }
    const r2h = await child.reply();
    expect([r2h.error, r2h.result]).toEqual([0, n]);
    expect(back.equals(payload)).toBe(true);
  });

  it('a bad range of a chunked copy is EINVAL before any chunk is taken', async () => {
    child.header(SidebandOp.H2REGION, handle, 64 * 1024 - 100, 3 * CHUNK);
    child.window.fill(0xee, child.half(0), child.half(0) + CHUNK);
    child.resetChunks(1);
    const r = await child.request((f) => (f.command = MailboxCommand.DATACOPY_H2REGION));
    expect(r.error).toBe(EINVAL);
    expect(r.errorMessage).toMatch(/outside the data area/);
    expect(child.chunks('child')).toBe(0);
    expect(child.status).toBe(EINVAL);
  });

  it('an h2region published before chunk 0 is in the window (parent_chunks 0) is EINVAL, not a wait forever', async () => {
    child.header(SidebandOp.H2REGION, handle, 0, 16);
    child.resetChunks(0);
    const r = await child.request((f) => (f.command = MailboxCommand.DATACOPY_H2REGION));
    expect(r.error).toBe(EINVAL);
    expect(r.errorMessage).toMatch(/parent_chunks is 0/);
  });

  it('parent_chunks more than two chunks ahead is EINVAL', async () => {
    child.header(SidebandOp.H2REGION, handle, 0, 4 * CHUNK);
    child.resetChunks(3);
    const r = await child.request((f) => (f.command = MailboxCommand.DATACOPY_H2REGION));
    expect(r.error).toBe(EINVAL);
    expect(r.errorMessage).toMatch(/parent_chunks 3/);
  });

  describe('malformed requests are EINVAL (status written) and the child keeps serving', () => {
    afterEach(async () => {
      expect((await notify(handle, 1, 1)).error).toBe(0);
    });

    it.each([
      ['bad magic', (h: Uint8Array) => h.set([0x48, 0x44, 0x4d, 0x52], 0)],
      ['bad version', (h: Uint8Array) => (h[4] = 2)],
      ['the op of another command', (h: Uint8Array) => (h[6] = SidebandOp.H2REGION)],
      ['non-zero reserved bytes', (h: Uint8Array) => (h[50] = 1)],
      ['an offset beyond 2^53', (h: Uint8Array) => h.fill(0xff, 16, 24)],
    ])('window header with %s', async (_label, patch) => {
      child.header(SidebandOp.INFO, handle, 0, 64, patch);
      const r = await child.request((f) => (f.command = MailboxCommand.INFO));
      expect(r.error).toBe(EINVAL);
      expect(child.status).toBe(EINVAL);
    });

    it('info of the wrong size', async () => {
      child.header(SidebandOp.INFO, handle, 0, 32);
      expect((await child.request((f) => (f.command = MailboxCommand.INFO))).error).toBe(EINVAL);
    });

    it('a segment name in a payload command (payloads travel in the window)', async () => {
      child.header(SidebandOp.INFO, handle, 0, 64);
      const r = await child.request((f) => {
        f.command = MailboxCommand.INFO;
        f.name = 'simpler-hdmr-1-0123456789abcdef';
      });
      expect(r.error).toBe(EINVAL);
      expect(r.errorMessage).toMatch(/name field must be empty/);
    });

    it.each([1, 2, 6, 7, -1])('state %i', async (state) => {
      const f = new MailboxFrame();
      f.state = state;
      f.command = MailboxCommand.NOTIFY;
      child.publish(f, 'always');
      await child.until(() => Atomics.load(child.words, 0) === MailboxState.CONTROL_DONE);
      const r = new MailboxFrame(child.block.slice());
      expect(r.error).toBe(EINVAL);
      expect(r.errorMessage).toMatch(/state/);
    });

    it('an unknown command', async () => {
      const r = await child.request((f) => (f.command = 99));
      expect([r.command, r.error]).toEqual([99, EINVAL]);
    });
  });

  it('sleeps when idle: a request published without a doorbell waits for one', async () => {
    await child.until(() => child.childSleeping === 1);
    const f = new MailboxFrame();
    f.state = MailboxState.CONTROL_REQUEST;
    f.command = MailboxCommand.NOTIFY;
    f.setArg(0, handle);
    f.setArg(2, 9);
    child.publish(f, 'never');
    await sleep(150);
    expect(Atomics.load(child.words, 0)).toBe(MailboxState.CONTROL_REQUEST);
    child.ring();
    const r = await child.reply();
    expect([r.command, r.error]).toEqual([MailboxCommand.NOTIFY, 0]);
  });

  it('uses no CPU while idle: under 1% of a core over 2 s', async () => {
    await child.until(() => child.childSleeping === 1);
    const ticksPerSecond = 100; // USER_HZ on Linux
    const before = cpuTicks(child.process.pid!);
    await sleep(2000);
    const used = cpuTicks(child.process.pid!) - before;
    expect(used / (2 * ticksPerSecond)).toBeLessThanOrEqual(0.01);
  });
});

describe('chip child lifecycle over the shared-memory transport', () => {
  it('state 3 and a doorbell release everything and exit 0', async () => {
    const child = RawShmChild.start(backend.file);
    await child.ready();
    child.shutdown();
    expect(await child.exited).toEqual({ code: 0, signal: null });
    child.kill();
  });

  it('state 3 during a pending wait exits at once without a reply', async () => {
    const child = RawShmChild.start(backend.file);
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
    child.publish(w);
    await sleep(50);
    child.shutdown();
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(Atomics.load(child.words, 0)).toBe(MailboxState.SHUTDOWN);
    child.kill();
  });

  it('end of stdin (parent gone) makes it exit 0', async () => {
    const child = RawShmChild.start(backend.file);
    await child.ready();
    child.endInput();
    expect((await child.exited).code).toBe(0);
    child.kill();
  });

  it.each([
    ['a control block of the wrong size', { blockBytes: 8192 }, /control block .* must be 4096 bytes/],
    ['a window that is not 4096 + 2 x chunk', { windowBytes: 4096 + 3 * 4096 }, /data window of 16384 bytes/],
    ['a window smaller than two chunks', { windowBytes: 4096 }, /data window of 4096 bytes/],
  ])('%s is EINVAL at init, reported over the pipe', async (_label, options, message) => {
    const child = RawShmChild.start(backend.file, 0, options);
    const f = await child.initDone();
    expect([f.state, f.error]).toEqual([MailboxState.CONTROL_DONE, EINVAL]);
    expect(f.errorMessage).toMatch(message);
    expect((await child.exited).code).toBe(1);
    child.kill();
  });

  it.each([
    ['no descriptor 3', ['--transport', 'shm']],
    ['an unknown transport', ['--transport', 'tcp']],
    ['a negative spin budget', ['--transport', 'shm', '--spin-us', '-1']],
    ['a standard stream as control block', ['--transport', 'shm', '--control-fd', '1']],
    ['the same descriptor twice', ['--transport', 'shm', '--control-fd', '5', '--window-fd', '5']],
  ])('%s is EINVAL at init', async (_label, extra) => {
    const child = RawChild.start(backend.file, 0, extra);
    const f = await child.next();
    expect([f.state, f.error]).toEqual([MailboxState.CONTROL_DONE, EINVAL]);
    expect((await child.exited).code).toBe(1);
  });
});

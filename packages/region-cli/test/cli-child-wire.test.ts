// Issue 12: the wire details docs/l3-protocol.md promises a client author, checked on a real
// chip child (`simpler-region child` on the simulator) with hand-made frames and segments.
import { randomBytes } from 'node:crypto';
import { MailboxCommand, MailboxFrame, MailboxState, SidebandOp, decodeInfo } from '@simpler/abi';
import { ChildPipes, killChildren, startChild } from './support/child-pipes';
import { RawSegment } from './support/raw-segment';

const EINVAL = -22;
const SIM = ['--device-id', '0', '--backend', '@simpler/hal-sim'];

/** A segment prefix private to one test. */
function prefix(): string {
  return `wire${randomBytes(3).toString('hex')}-`;
}

async function ready(c: ChildPipes): Promise<MailboxFrame> {
  const init = await c.next();
  if (init.state !== MailboxState.INIT_DONE) throw new Error(`no init done: state ${init.state} ${init.errorMessage}`);
  return init;
}

async function open(c: ChildPipes, dataBytes: number): Promise<number> {
  const r = await c.request((f) => {
    f.command = MailboxCommand.OPEN;
    f.setArg(0, dataBytes);
    f.setArg(1, 2);
  });
  expect({ error: r.error, message: r.errorMessage }).toEqual({ error: 0, message: '' });
  return r.result;
}

/** Sends a payload-bearing request through `seg` (its header already written). */
function viaSegment(c: ChildPipes, command: number, seg: RawSegment): Promise<MailboxFrame> {
  return c.request((f) => {
    f.command = command;
    f.name = seg.name;
  });
}

/** Everything of a reply but state, error, command, RESULT, name and message: ARGs, reserved, body. */
function unusedReplyBytes(f: MailboxFrame): number[] {
  return [...f.bytes.subarray(16, 48), ...f.bytes.subarray(56, 64), ...f.bytes.subarray(96, 3840)].filter((b) => b !== 0);
}

describe('docs/l3-protocol.md, checked on a real chip child', () => {
  const segments: RawSegment[] = [];
  const segment = (s: RawSegment): RawSegment => (segments.push(s), s);
  afterEach(() => {
    killChildren();
    for (const s of segments.splice(0)) s.dispose();
  });

  it('the init-done frame: state 6, the platform in name, every other byte 0', async () => {
    const init = await ready(startChild([...SIM, '--backend-options', '{"platform":"a5sim"}']));
    expect({ error: init.error, command: init.command, result: init.result, name: init.name }).toEqual({ error: 0, command: 0, result: 0, name: 'a5sim' });
    expect(unusedReplyBytes(init)).toEqual([]);
    expect(init.bytes.subarray(64 + 'a5sim'.length, 96).every((b) => b === 0)).toBe(true);
    expect(init.bytes.subarray(3840).every((b) => b === 0)).toBe(true);
  });

  it('an init failure: backend options the backend refuses keep the backend\'s code (EINVAL for the simulator\'s platform)', async () => {
    const c = startChild([...SIM, '--backend-options', '{"platform":"bogus"}']);
    const first = await c.next();
    expect({ state: first.state, error: first.error, command: first.command, result: first.result, name: first.name }).toEqual({
      state: MailboxState.CONTROL_DONE,
      error: EINVAL,
      command: 0,
      result: 0,
      name: '',
    });
    expect(first.errorMessage).toMatch(/^chip child init failed: .*bogus/);
    expect(unusedReplyBytes(first)).toEqual([]);
    expect(await c.exit).toBe(1);
    expect(c.trailingBytes()).toBe(0);
  });

  it('the round-trip kernel through frames: ARG0 data, ARG1 signals, ARG2 seq, ARG3 n; RESULT 0 in every reply but open', async () => {
    const p = prefix();
    const c = startChild([...SIM, '--segment-prefix', p]);
    await ready(c);
    const n = 256;
    const handle = await open(c, 2 * n);
    const seg = segment(RawSegment.random(p));
    const replies: MailboxFrame[] = [];
    const keep = (f: MailboxFrame): MailboxFrame => (replies.push(f), f);

    seg.prepare(SidebandOp.INFO, handle, 0, 64);
    expect(keep(await viaSegment(c, MailboxCommand.INFO, seg)).error).toBe(0);
    const info = decodeInfo(seg.payload(64));
    const input = Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);
    seg.prepare(SidebandOp.H2REGION, handle, 0, n, input);
    expect(keep(await viaSegment(c, MailboxCommand.DATACOPY_H2REGION, seg)).error).toBe(0);
    const seq = 9;
    const notified = keep(
      await c.request((f) => {
        f.command = MailboxCommand.NOTIFY;
        f.setArg(0, handle);
        f.setArg(1, 0);
        f.setArg(2, seq);
      }),
    );
    expect(notified.error).toBe(0);
    const launched = keep(
      await c.request((f) => {
        f.command = MailboxCommand.LAUNCH;
        f.name = 'round-trip';
        f.setArgBig(0, BigInt(info.device_data_ptr));
        f.setArgBig(1, BigInt(info.device_signal_ptr));
        f.setArg(2, seq);
        f.setArg(3, n);
      }),
    );
    expect(launched.error).toBe(0);
    const waited = keep(
      await c.request((f) => {
        f.command = MailboxCommand.WAIT;
        f.setArg(0, handle);
        f.setArg(1, 1);
        f.setArg(2, seq);
        f.setArg(3, 10_000_000);
      }),
    );
    expect(waited.error).toBe(0);
    seg.prepare(SidebandOp.REGION2H, handle, n, n);
    expect(keep(await viaSegment(c, MailboxCommand.DATACOPY_REGION2H, seg)).error).toBe(0);
    expect(Array.from(seg.payload(n))).toEqual(Array.from(input, (b, i) => b ^ ((seq + 3 * i) & 0xff)));
    expect(keep(await c.request((f) => (f.command = MailboxCommand.SYNCHRONIZE))).error).toBe(0);
    const refused = keep(
      await c.request((f) => {
        f.command = MailboxCommand.CLOSE;
        f.setArg(0, handle + 1);
      }),
    );
    expect(refused.error).toBe(EINVAL);
    const closed = keep(
      await c.request((f) => {
        f.command = MailboxCommand.CLOSE;
        f.setArg(0, handle);
      }),
    );
    expect(closed.error).toBe(0);

    expect(replies.map((f) => f.result)).toEqual(replies.map(() => 0));
    expect(replies.map((f) => unusedReplyBytes(f).length)).toEqual(replies.map(() => 0));
    expect(replies.map((f) => f.name)).toEqual(replies.map(() => ''));
  });

  it('bytes a request does not use are ignored: after the name\'s NUL, the body, the message area, RESULT, unused ARGs', async () => {
    const c = startChild(SIM);
    await ready(c);
    const handle = await open(c, 64);
    const f = new MailboxFrame();
    f.bytes.fill(0xa5); // everything, then the fields the request uses
    f.state = MailboxState.CONTROL_REQUEST;
    f.error = 0;
    f.command = MailboxCommand.NOTIFY;
    f.setArg(0, handle);
    f.setArg(1, 0);
    f.setArg(2, 3);
    f.bytes.fill(0, 56, 64); // the reserved u64 must stay 0
    f.bytes[64 + 5] = 0; // a name (unused by notify) with its NUL in the middle
    c.send(f);
    const reply = await c.next();
    expect({ error: reply.error, message: reply.errorMessage }).toEqual({ error: 0, message: '' });
    const probe = await c.request((w) => {
      w.command = MailboxCommand.WAIT;
      w.setArg(0, handle);
      w.setArg(2, 3);
    });
    expect(probe.error).toBe(0); // the notify really happened

    f.bytes.fill(0x41, 64, 96); // no NUL anywhere in the name field: refused
    c.send(f);
    const noNul = await c.next();
    expect(noNul.error).toBe(EINVAL);
    expect(noNul.errorMessage).toContain('NUL');
  });

  it('segment names: the prefix, then 8 or more lowercase hex digits, 31 characters at most', async () => {
    const p = prefix(); // 11 characters: room for 8..20 hex digits
    const c = startChild([...SIM, '--segment-prefix', p]);
    await ready(c);
    const handle = await open(c, 64);
    const info = async (seg: RawSegment): Promise<number> => {
      seg.prepare(SidebandOp.INFO, handle, 0, 64);
      return (await viaSegment(c, MailboxCommand.INFO, seg)).error;
    };
    expect(await info(segment(RawSegment.random(p, 8)))).toBe(0);
    expect(await info(segment(RawSegment.random(p, 31 - p.length)))).toBe(0);
    expect(await info(segment(RawSegment.random(p, 7)))).toBe(EINVAL);
    expect(await info(segment(new RawSegment(`${p}ABCDEF12`)))).toBe(EINVAL);
    expect(await info(segment(RawSegment.random(`x${p}`, 8)))).toBe(EINVAL);
  });

  it('status: written before the reply once the segment is opened (0, or the reply\'s errno); untouched when name or file is refused', async () => {
    const p = prefix();
    const c = startChild([...SIM, '--segment-prefix', p]);
    await ready(c);
    const handle = await open(c, 64);
    const seg = segment(RawSegment.random(p));
    const run = async (command: number, op: number, offset: number, nbytes: number, poke?: [number, number[]]): Promise<[number, number]> => {
      seg.prepare(op, handle, offset, nbytes);
      seg.poke(32, [7, 0, 0, 0]); // a status the child must overwrite
      if (poke) seg.poke(...poke);
      return [(await viaSegment(c, command, seg)).error, seg.status()];
    };
    expect(await run(MailboxCommand.INFO, SidebandOp.INFO, 0, 64)).toEqual([0, 0]);
    expect(await run(MailboxCommand.INFO, SidebandOp.H2REGION, 0, 64)).toEqual([EINVAL, EINVAL]); // op does not match the command
    expect(await run(MailboxCommand.DATACOPY_H2REGION, SidebandOp.H2REGION, 0, 65)).toEqual([EINVAL, EINVAL]); // past the data area
    expect(await run(MailboxCommand.INFO, SidebandOp.INFO, 0, 64, [40, [1]])).toEqual([EINVAL, EINVAL]); // reserved byte set

    const stranger = segment(RawSegment.random(`x${p}`, 8)); // a name the child refuses
    stranger.prepare(SidebandOp.INFO, handle, 0, 64);
    stranger.poke(32, [7, 0, 0, 0]);
    expect((await viaSegment(c, MailboxCommand.INFO, stranger)).error).toBe(EINVAL);
    expect(stranger.status()).toBe(7);
  });

  it('after a shutdown the child leaves the segment in place: the parent unlinks it', async () => {
    const p = prefix();
    const c = startChild([...SIM, '--segment-prefix', p]);
    await ready(c);
    const handle = await open(c, 64);
    const seg = segment(RawSegment.random(p));
    seg.prepare(SidebandOp.INFO, handle, 0, 64);
    expect((await viaSegment(c, MailboxCommand.INFO, seg)).error).toBe(0);
    const bye = new MailboxFrame();
    bye.state = MailboxState.SHUTDOWN;
    c.send(bye);
    expect(await c.exit).toBe(0);
    expect(c.trailingBytes()).toBe(0);
    expect(seg.exists).toBe(true);
  });

  it('end-of-file before any request: init done, then exit 0 with nothing more on stdout', async () => {
    const c = startChild(SIM);
    c.endInput();
    await ready(c);
    expect(await c.exit).toBe(0);
    expect(c.trailingBytes()).toBe(0);
  });

  it('a wrapper that stays the child\'s parent (sh -c, npx) moves the default prefix to its own pid; --segment-prefix fixes it', async () => {
    const ours = `simpler-hdmr-${process.pid}-`;
    const wrapped = startChild(SIM, true);
    await ready(wrapped);
    const handle = await open(wrapped, 64);
    const seg = segment(RawSegment.random(ours));
    seg.prepare(SidebandOp.INFO, handle, 0, 64);
    const refused = await viaSegment(wrapped, MailboxCommand.INFO, seg);
    expect(refused.error).toBe(EINVAL);
    expect(refused.errorMessage).toContain(`"simpler-hdmr-${wrapped.pid}-"`);

    const fixed = startChild([...SIM, '--segment-prefix', ours], true);
    await ready(fixed);
    const h = await open(fixed, 64);
    seg.prepare(SidebandOp.INFO, h, 0, 64);
    expect((await viaSegment(fixed, MailboxCommand.INFO, seg)).error).toBe(0);
  });
});

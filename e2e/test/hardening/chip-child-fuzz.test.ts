import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { MAILBOX_BYTES, MailboxCommand, MailboxFrame, MailboxState, SidebandOp, decodeSidebandHeader, encodeSidebandHeader } from '@simpler/abi';
import { expectNoHostAddress, shmEntries } from './support/checks';
import { RawChipChild, TestSegment, testPrefix } from './support/raw-chip-child';

const ERRNOS = new Set([0, -22, -11, -12, -5, -95]);
const COMMANDS = [12, 13, 14, 15, 16, 17, 18, 32, 33, 34, 35];
const DATA_BYTES = 4096;
const TWO_53 = 2 ** 53;
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Problems of a reply frame, or undefined: one well-formed frame per request, nothing leaked. */
function replyProblem(request: Uint8Array, reply: MailboxFrame): string | undefined {
  const b = reply.bytes;
  if (b.byteLength !== MAILBOX_BYTES) return `reply is ${b.byteLength} bytes`;
  if (reply.state !== MailboxState.CONTROL_DONE) return `reply state ${reply.state}`;
  if (!ERRNOS.has(reply.error)) return `reply error ${reply.error} is not one of the spec's errnos`;
  for (let i = 8; i < 16; i++) if (b[i] !== request[i]) return 'reply does not echo the command';
  for (let i = 56; i < 3840; i++) if (b[i] !== 0) return `reply byte ${i} is not zero (reserved, name or body)`;
  const msg = b.subarray(3840);
  const nul = msg.indexOf(0);
  if (nul < 0) return 'error message has no NUL terminator';
  let text: string;
  try {
    text = decoder.decode(msg.subarray(0, nul));
  } catch {
    return 'error message is not UTF-8';
  }
  if (reply.error !== 0 && text.length === 0) return 'an error reply without a message';
  if (reply.error === 0 && text.length !== 0) return `a success reply with a message: ${text}`;
  try {
    expectNoHostAddress(text);
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

/** Reads the u64 at `at` as a number (inexact above 2^53, which is all we need to know). */
function u64(b: Uint8Array, at: number): number {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return v.getUint32(at + 4, true) * 2 ** 32 + v.getUint32(at, true);
}

function setU64(b: Uint8Array, at: number, value: number): void {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  v.setUint32(at, value >>> 0, true);
  v.setUint32(at + 4, Math.floor(value / 2 ** 32) >>> 0, true);
}

/**
 * Keeps a fuzzed frame from asking for something legitimately expensive (a huge valid region,
 * a wait of an hour): those are valid requests, not malformed ones, and would only slow the run.
 */
function tame(frame: Uint8Array): void {
  const state = new DataView(frame.buffer, frame.byteOffset).getInt32(0, true);
  if (state === MailboxState.SHUTDOWN) frame[0] = 9;
  const command = u64(frame, 8);
  if (command === MailboxCommand.OPEN) {
    const db = u64(frame, 16);
    if (db < TWO_53) setU64(frame, 16, db % 65536);
    const sc = u64(frame, 24);
    if (sc < 2 ** 32) setU64(frame, 24, sc % 64);
  }
  if (command === MailboxCommand.WAIT) {
    const t = u64(frame, 40);
    if (t < 2 ** 32) setU64(frame, 40, t % 2000);
  }
}

/** What the spec says for sure about a frame: EINVAL for structural faults, otherwise undefined (any code). */
function structuralEinval(frame: Uint8Array): boolean {
  const f = new MailboxFrame(frame);
  if (f.state !== MailboxState.CONTROL_REQUEST) return true;
  if (f.error !== 0) return true;
  if (f.reserved !== 0n) return true;
  if (!f.nameTerminated) return true;
  return !COMMANDS.includes(u64(frame, 8));
}

describe('chip child fuzzing (raw frames and side-band segments)', () => {
  const prefix = testPrefix();
  let child: RawChipChild;
  let handle: number;
  let seg: TestSegment;

  beforeAll(async () => {
    child = new RawChipChild(prefix);
    await child.ready();
    handle = await child.open(DATA_BYTES, 2);
    seg = new TestSegment(prefix);
  });

  afterAll(async () => {
    seg?.dispose();
    const exit = await child.shutdown();
    expect(exit).toEqual({ code: 0, signal: null });
    expectNoHostAddress(child.stderr);
    expect(shmEntries(prefix)).toEqual([]);
  });

  /** Sends a frame, checks the reply, closes a region a fuzzed open created, and proves the child still serves. */
  async function fuzzOne(frame: Uint8Array, cuts: readonly number[] = []): Promise<MailboxFrame> {
    const sent = frame.slice();
    const reply = await child.roundTrip(frame, cuts);
    const problem = replyProblem(sent, reply);
    if (problem) throw new Error(`${problem}; request head ${Buffer.from(sent.subarray(0, 64)).toString('hex')}`);
    if (structuralEinval(sent) && reply.error !== -22) throw new Error(`structurally bad frame answered ${reply.error}, not EINVAL`);
    if (u64(sent, 8) === MailboxCommand.OPEN && reply.error === 0) {
      const close = await child.request((f) => {
        f.command = MailboxCommand.CLOSE;
        f.setArg(0, reply.result);
      });
      expect(close.error).toBe(0);
    }
    await child.probe(handle);
    expect(child.partialBytes).toBe(0);
    return reply;
  }

  const cutsArb = fc.array(fc.integer({ min: 1, max: MAILBOX_BYTES - 1 }), { maxLength: 3 });

  it('fully random frames are answered EINVAL (or per their content) and the child keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: MAILBOX_BYTES, maxLength: MAILBOX_BYTES }), cutsArb, async (frame, cuts) => {
        tame(frame);
        await fuzzOne(frame, cuts);
      }),
      { numRuns: 400 },
    );
  });

  it('random control requests (state 4, any command, random fields) never break the child', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...COMMANDS, 0, 1, 19, 31, 36, 2 ** 40),
        fc.uint8Array({ minLength: 88, maxLength: 88 }),
        fc.boolean(),
        async (command, fields, clean) => {
          const f = new MailboxFrame();
          f.state = MailboxState.CONTROL_REQUEST;
          f.bytes.set(fields, 8);
          f.command = command;
          if (clean) {
            f.error = 0;
            f.bytes.fill(0, 56, 64);
            f.bytes[95] = 0;
          }
          tame(f.bytes);
          await fuzzOne(f.bytes);
        },
      ),
      { numRuns: 500 },
    );
  });

  /** A valid request of each kind, against the live region and segment. */
  function validFrame(kind: number, n: number): Uint8Array {
    const f = new MailboxFrame();
    f.state = MailboxState.CONTROL_REQUEST;
    f.command = kind;
    switch (kind) {
      case MailboxCommand.NOTIFY:
        f.setArg(0, handle);
        f.setArg(1, 1);
        f.setArg(2, 0);
        break;
      case MailboxCommand.WAIT:
        f.setArg(0, handle);
        f.setArg(1, 1);
        break;
      case MailboxCommand.OPEN:
        f.setArg(0, n + 1);
        f.setArg(1, 1);
        break;
      case MailboxCommand.CLOSE:
        f.setArg(0, handle + 1);
        break;
      case MailboxCommand.INFO:
        seg.prepare(SidebandOp.INFO, handle, 0, 64);
        f.name = seg.name;
        break;
      case MailboxCommand.DATACOPY_H2REGION:
        seg.prepare(SidebandOp.H2REGION, handle, 0, n, randomBytes(n));
        f.name = seg.name;
        break;
      case MailboxCommand.DATACOPY_REGION2H:
        seg.prepare(SidebandOp.REGION2H, handle, DATA_BYTES - n, n);
        f.name = seg.name;
        break;
      case MailboxCommand.LAUNCH:
        f.name = 'no-such-kernel';
        break;
      case MailboxCommand.SHARE:
        f.setArg(0, handle);
        break;
    }
    return f.bytes;
  }

  it('mutated valid frames are answered with a spec errno and the child keeps serving', async () => {
    const mutation = fc.oneof(
      fc.record({ t: fc.constant('byte' as const), at: fc.integer({ min: 0, max: 127 }), v: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ t: fc.constant('byte' as const), at: fc.integer({ min: 0, max: MAILBOX_BYTES - 1 }), v: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ t: fc.constant('u64' as const), at: fc.constantFrom(8, 16, 24, 32, 40, 48, 56), v: fc.constantFrom(0, 1, 2 ** 32, 2 ** 53, 2 ** 64 - 1, 12345) }),
      fc.record({ t: fc.constant('name' as const), v: fc.constantFrom('../../etc/passwd', '/etc/passwd', `${prefix}../x`, `${prefix}ABCDEF12`, `${prefix}1234567`, 'simpler-hdmr-1-0123456789ab', '', '.', '..') }),
      fc.record({ t: fc.constant('name-full' as const), v: fc.integer({ min: 1, max: 255 }) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...COMMANDS),
        fc.integer({ min: 0, max: 512 }),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        cutsArb,
        async (kind, n, mutations, cuts) => {
          const frame = validFrame(kind, n);
          for (const m of mutations) {
            if (m.t === 'byte') frame[m.at] = m.v;
            else if (m.t === 'u64') setU64(frame, m.at, m.v);
            else if (m.t === 'name') new MailboxFrame(frame).name = m.v;
            else frame.fill(m.v, 64, 96);
          }
          tame(frame);
          await fuzzOne(frame, cuts);
        },
      ),
      { numRuns: 600 },
    );
  });

  /** Sends a side-band command naming `name` and returns the reply (checked for shape). */
  async function sideband(command: number, name: string): Promise<MailboxFrame> {
    const f = new MailboxFrame();
    f.state = MailboxState.CONTROL_REQUEST;
    f.command = command;
    f.name = name;
    return fuzzOne(f.bytes);
  }

  /** The header a correct client would write, as an expected-outcome model for mutated ones. */
  function headerExpect(header: Uint8Array, op: number, fileSize: number): 'ok' | 'EINVAL' {
    const h = decodeSidebandHeader(header);
    if (Buffer.from(h.magic).toString('latin1') !== 'HMRD') return 'EINVAL';
    if (Number(h.version) !== 1 || Number(h.op) !== op) return 'EINVAL';
    if (!header.subarray(36, 64).every((x) => x === 0)) return 'EINVAL';
    if (h.region !== BigInt(handle)) return 'EINVAL';
    if (h.offset > BigInt(DATA_BYTES) || h.nbytes > BigInt(DATA_BYTES) - h.offset) {
      return 'EINVAL';
    }
    if (op === SidebandOp.INFO && (h.offset !== 0n || h.nbytes !== 64n)) return 'EINVAL';
    if (BigInt(fileSize) < 64n + h.nbytes) return 'EINVAL';
    return 'ok';
  }

  it('mutated side-band headers and sizes: EINVAL unless still valid; status is written back; the child keeps serving', async () => {
    const headerMutation = fc.oneof(
      fc.record({ at: fc.integer({ min: 0, max: 63 }), v: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ at: fc.constantFrom(0, 4, 6, 8, 16, 24, 32, 36, 40, 56), v: fc.integer({ min: 0, max: 255 }) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(MailboxCommand.INFO, MailboxCommand.DATACOPY_H2REGION, MailboxCommand.DATACOPY_REGION2H),
        fc.integer({ min: 0, max: 256 }),
        fc.integer({ min: 0, max: DATA_BYTES }),
        fc.array(headerMutation, { maxLength: 2 }),
        fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined }),
        async (command, n, offset, mutations, size) => {
          const op = command === MailboxCommand.INFO ? SidebandOp.INFO : command === MailboxCommand.DATACOPY_H2REGION ? SidebandOp.H2REGION : SidebandOp.REGION2H;
          const nbytes = op === SidebandOp.INFO ? 64 : n;
          const off = op === SidebandOp.INFO ? 0 : Math.min(offset, DATA_BYTES - nbytes);
          const header = new Uint8Array(64);
          encodeSidebandHeader({ magic: 'HMRD', version: 1, op, region: handle, offset: off, nbytes, status: 0 }, header);
          for (const m of mutations) header[m.at] = m.v;
          const payload = randomBytes(nbytes);
          seg.write(header, payload, size);
          const fileSize = size ?? 64 + nbytes;
          const expected = headerExpect(header, op, fileSize);
          const reply = await sideband(command, seg.name);
          expect(reply.error).toBe(expected === 'ok' ? 0 : -22);
          // The child reports the outcome in the segment too, when the file has room for its header.
          const after = readFileSync(seg.file);
          if (after.length >= 64) expect(after.readInt32LE(32)).toBe(reply.error);
          if (expected === 'ok' && op === SidebandOp.H2REGION) {
            // Read back what the (possibly mutated, still valid) header asked to be written.
            const h = decodeSidebandHeader(header);
            const [at, len] = [Number(h.offset), Number(h.nbytes)];
            seg.prepare(SidebandOp.REGION2H, handle, at, len);
            expect((await sideband(MailboxCommand.DATACOPY_REGION2H, seg.name)).error).toBe(0);
            const sent = Buffer.alloc(len); // the file as written: payload, zero-extended by a larger size
            payload.copy(sent, 0, 0, Math.min(len, payload.length));
            expect(readFileSync(seg.file).subarray(64, 64 + len)).toEqual(sent);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses names outside its prefix, with / or .., and files that are not its own 0600 regular files', async () => {
    const hex = randomBytes(8).toString('hex');
    const bad = [
      '../../etc/passwd',
      '/etc/passwd',
      `${prefix}../../etc/passwd`,
      `${prefix}/${hex}`,
      `../${prefix}${hex}`,
      `${prefix}${hex.toUpperCase()}`,
      `${prefix}1234567`,
      `other-${hex}`,
      `simpler-hdmr-1-${hex}`,
      '',
      `${prefix}${hex}`, // well-formed but does not exist
    ];
    for (const name of bad) {
      for (const command of [MailboxCommand.INFO, MailboxCommand.DATACOPY_H2REGION, MailboxCommand.DATACOPY_REGION2H]) {
        const reply = await sideband(command, name);
        expect({ name, error: reply.error }).toEqual({ name, error: -22 });
      }
    }

    // Not 0600, a directory, a FIFO: refused; the file's status field is left alone.
    const loose = new TestSegment(prefix);
    try {
      loose.prepare(SidebandOp.REGION2H, handle, 0, 16);
      chmodSync(loose.file, 0o644);
      expect((await sideband(MailboxCommand.DATACOPY_REGION2H, loose.name)).error).toBe(-22);
      expect(readFileSync(loose.file).readInt32LE(32)).toBe(0);
    } finally {
      loose.dispose();
    }
    const dirName = `${prefix}${randomBytes(8).toString('hex')}`;
    mkdirSync(path.join('/dev/shm', dirName), { mode: 0o700 });
    try {
      expect((await sideband(MailboxCommand.DATACOPY_H2REGION, dirName)).error).toBe(-22);
    } finally {
      rmdirSync(path.join('/dev/shm', dirName));
    }
    const fifoName = `${prefix}${randomBytes(8).toString('hex')}`;
    let haveFifo = true;
    try {
      execFileSync('mkfifo', ['-m', '600', path.join('/dev/shm', fifoName)]);
    } catch {
      haveFifo = false;
    }
    try {
      if (haveFifo) expect((await sideband(MailboxCommand.DATACOPY_REGION2H, fifoName)).error).toBe(-22);
    } finally {
      if (haveFifo) unlinkSync(path.join('/dev/shm', fifoName));
    }
  });

  it('never follows a symlink in /dev/shm (O_NOFOLLOW): the target is neither read nor written', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'simpler-hardening-'));
    const target = path.join(dir, 'victim');
    const header = new Uint8Array(64);
    encodeSidebandHeader({ magic: 'HMRD', version: 1, op: SidebandOp.REGION2H, region: handle, offset: 0, nbytes: 64, status: 0 }, header);
    const original = Buffer.concat([Buffer.from(header), Buffer.alloc(64, 0x5a)]);
    writeFileSync(target, original, { mode: 0o600 });
    const link = `${prefix}${randomBytes(8).toString('hex')}`;
    symlinkSync(target, path.join('/dev/shm', link));
    try {
      for (const command of [MailboxCommand.DATACOPY_REGION2H, MailboxCommand.DATACOPY_H2REGION, MailboxCommand.INFO]) {
        expect((await sideband(command, link)).error).toBe(-22);
      }
      expect(readFileSync(target)).toEqual(original);
    } finally {
      unlinkSync(path.join('/dev/shm', link));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a name field with no NUL, and payload sizes that do not match the file, are EINVAL', async () => {
    const f = new MailboxFrame();
    f.state = MailboxState.CONTROL_REQUEST;
    f.command = MailboxCommand.DATACOPY_H2REGION;
    f.bytes.fill(0x61, 64, 96);
    expect((await fuzzOne(f.bytes)).error).toBe(-22);
    // The header promises more payload than the file holds.
    const header = new Uint8Array(64);
    encodeSidebandHeader({ magic: 'HMRD', version: 1, op: SidebandOp.H2REGION, region: handle, offset: 0, nbytes: 1000, status: 0 }, header);
    seg.write(header, randomBytes(10));
    expect((await sideband(MailboxCommand.DATACOPY_H2REGION, seg.name)).error).toBe(-22);
    // A file shorter than its header.
    seg.write(new Uint8Array(0), new Uint8Array(0), 10);
    expect((await sideband(MailboxCommand.DATACOPY_REGION2H, seg.name)).error).toBe(-22);
  });
});

import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { MailboxCommand, MailboxFrame, MailboxState, SidebandOp, decodeSidebandHeader, encodeSidebandHeader } from '@simpler/abi';
import { expectNoHostAddress } from './support/checks';
import { RawShmChipChild, WINDOW_DATA } from './support/raw-shm-chip-child';

const ERRNOS = new Set([0, -22, -11, -12, -5, -95]);
const COMMANDS = [12, 13, 14, 15, 16, 17, 18, 32, 33, 34];
const DATA_BYTES = 4096 * 8;
const CHUNK = 4096;
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Problems of a reply in the control block, or undefined: state 5, a spec errno, the command echoed, a clean message. */
function replyProblem(request: Uint8Array, reply: MailboxFrame): string | undefined {
  const b = reply.bytes;
  if (reply.state !== MailboxState.CONTROL_DONE) return `reply state ${reply.state}`;
  if (!ERRNOS.has(reply.error)) return `reply error ${reply.error} is not one of the spec's errnos`;
  for (let i = 8; i < 16; i++) if (b[i] !== request[i]) return 'reply does not echo the command';
  for (let i = 56; i < 96; i++) if (b[i] !== 0) return `reply byte ${i} is not zero (reserved or name)`;
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
  try {
    expectNoHostAddress(text);
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

/** Keeps fuzzed frames requests (0 and 5 are not, 3 is shutdown) and cheap (no huge regions, no long waits). */
function tame(frame: Uint8Array): void {
  const v = new DataView(frame.buffer, frame.byteOffset);
  const state = v.getInt32(0, true);
  if (state === MailboxState.IDLE || state === MailboxState.CONTROL_DONE || state === MailboxState.SHUTDOWN) v.setInt32(0, 9, true);
  const command = v.getUint32(8, true) + v.getUint32(12, true) * 2 ** 32;
  if (command === MailboxCommand.OPEN && v.getUint32(20, true) === 0) v.setUint32(16, v.getUint32(16, true) % 65536, true);
  if (command === MailboxCommand.OPEN && v.getUint32(28, true) === 0) v.setUint32(24, v.getUint32(24, true) % 64, true);
  if (command === MailboxCommand.WAIT && v.getUint32(44, true) === 0) v.setUint32(40, v.getUint32(40, true) % 2000, true);
}

describe('chip child fuzzing over the shared-memory transport (control block and data window)', () => {
  let child: RawShmChipChild;
  let handle: number;

  beforeAll(async () => {
    child = new RawShmChipChild(CHUNK);
    await child.ready();
    handle = await child.open(DATA_BYTES, 2);
  });

  afterAll(async () => {
    const exit = await child.shutdown();
    expect(exit).toEqual({ code: 0, signal: null });
    expectNoHostAddress(child.stderr);
  });

  /** Publishes a frame, checks the reply, closes a region a fuzzed open created, proves the child still serves. */
  async function fuzzOne(frame: Uint8Array): Promise<MailboxFrame> {
    const sent = frame.slice();
    const reply = await child.roundTrip(frame);
    const problem = replyProblem(sent, reply);
    if (problem) throw new Error(`${problem}; request head ${Buffer.from(sent.subarray(0, 64)).toString('hex')}`);
    const f = new MailboxFrame(sent);
    if (f.command === MailboxCommand.OPEN && f.state === MailboxState.CONTROL_REQUEST && reply.error === 0) {
      expect((await child.request((c) => ((c.command = MailboxCommand.CLOSE), c.setArg(0, reply.result)))).error).toBe(0);
    }
    await child.probe(handle);
    return reply;
  }

  it('random frames in the control block are answered (EINVAL when malformed) and the child keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 96, maxLength: 96 }), async (head) => {
        const frame = new Uint8Array(4096);
        frame.set(head);
        tame(frame);
        const reply = await fuzzOne(frame);
        const f = new MailboxFrame(frame);
        if (f.state !== MailboxState.CONTROL_REQUEST || f.error !== 0 || f.reserved !== 0n || !f.nameTerminated) expect(reply.error).toBe(-22);
      }),
      { numRuns: 300 },
    );
  });

  it('mutated window headers and chunk counters: EINVAL (status written) unless still valid; the child keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(MailboxCommand.INFO, MailboxCommand.DATACOPY_H2REGION, MailboxCommand.DATACOPY_REGION2H),
        fc.integer({ min: 0, max: 2 * CHUNK }),
        fc.integer({ min: 0, max: DATA_BYTES }),
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 63 }), v: fc.integer({ min: 0, max: 255 }) }), { maxLength: 2 }),
        fc.constantFrom('none', 'all', 'too many'),
        async (command, n, offset, mutations, filled) => {
          const op = command === MailboxCommand.INFO ? SidebandOp.INFO : command === MailboxCommand.DATACOPY_H2REGION ? SidebandOp.H2REGION : SidebandOp.REGION2H;
          const nbytes = op === SidebandOp.INFO ? 64 : n;
          const off = op === SidebandOp.INFO ? 0 : Math.min(offset, DATA_BYTES - nbytes);
          const header = new Uint8Array(64);
          encodeSidebandHeader({ magic: 'HMRD', version: 1, op, region: handle, offset: off, nbytes, status: 0 }, header);
          for (const m of mutations) header[m.at] = m.v;
          const h = decodeSidebandHeader(header);
          // A valid transfer of more than two chunks needs a parent that keeps filling or draining
          // the window while the child copies: not what a one-shot fuzz client does.
          const inRange = h.nbytes <= BigInt(DATA_BYTES) && h.offset <= BigInt(DATA_BYTES) - h.nbytes;
          fc.pre(!(inRange && h.nbytes > BigInt(2 * CHUNK)));
          const chunks = Math.ceil(Number(h.nbytes <= BigInt(2 * CHUNK) ? h.nbytes : 0n) / CHUNK);
          child.window.set(header, 0);
          child.window.set(randomBytes(2 * CHUNK), WINDOW_DATA);
          child.resetChunks(op !== SidebandOp.H2REGION ? 0 : filled === 'none' ? 0 : filled === 'all' ? chunks : 3);
          const request = new MailboxFrame();
          request.state = MailboxState.CONTROL_REQUEST;
          request.command = command;
          const reply = await fuzzOne(request.bytes);
          const status = new DataView(child.window.buffer, child.window.byteOffset).getInt32(32, true);
          expect(status).toBe(reply.error);
          const valid =
            Buffer.from(h.magic).toString('latin1') === 'HMRD' &&
            Number(h.version) === 1 &&
            Number(h.op) === op &&
            header.subarray(36, 64).every((x) => x === 0) &&
            h.region === BigInt(handle) &&
            inRange &&
            (op !== SidebandOp.INFO || (h.offset === 0n && h.nbytes === 64n)) &&
            (op !== SidebandOp.H2REGION || chunks === 0 || filled === 'all');
          expect(reply.error).toBe(valid ? 0 : -22);
        },
      ),
      { numRuns: 300 },
    );
  });
});

import * as fs from 'node:fs';
import * as path from 'node:path';
import { MailboxCommand, MailboxFrame, MailboxState, SidebandOp } from '@simpler/abi';
import { BackendError, DeviceContext, InvalidArgumentError } from '../../src';
import { ChipChild } from '../../src/l3/chip-child';
import { ChipEndpoint } from '../../src/l3/chip-endpoint';
import { createL3Worker } from '../../src/l3/create-l3-worker';
import type { FrameTransport } from '../../src/l3/frame-transport';
import { ParentSegment } from '../../src/l3/sideband-segment';
import { RawChild } from './helpers/raw-child';
import { writeTestBackend } from './helpers/test-backend';
import { createTestBackend } from '../support/recording-backend';

// Robustness of the L3 pair: typed parent-side I/O failures, frames written before init done,
// bounded segment bookkeeping in the child, and validated L3-only options.

describe('ChipEndpoint: parent-side segment I/O failures are typed', () => {
  it('a side-band write that fails in the parent rejects with BackendError, not a raw fs error', async () => {
    const backend = writeTestBackend();
    const e = await ChipEndpoint.spawn({ deviceId: 0, backend: backend.file, stderr: 'pipe', transport: 'pipe' });
    try {
      const h = await e.open(4096, 1, 0);
      await e.h2region(h, 0, Uint8Array.of(1));
      const seg = (e as unknown as { carrier: { segment: { fd: number } } }).carrier.segment;
      const realFd = seg.fd;
      const readOnly = fs.openSync('/dev/null', 'r'); // every write to it fails with EBADF
      seg.fd = readOnly;
      try {
        for (const p of [e.h2region(h, 0, Uint8Array.of(2)), e.region2h(h, 0, 1)]) {
          const error = await p.then(
            () => undefined,
            (err: unknown) => err,
          );
          expect(error).toBeInstanceOf(BackendError);
          expect(error).toMatchObject({ code: 'EIO', errno: -5 });
        }
      } finally {
        seg.fd = realFd;
        fs.closeSync(readOnly);
      }
      expect([...(await e.region2h(h, 0, 1))]).toEqual([1]);
    } finally {
      await e.shutdown();
      backend.remove();
    }
  });
});

/** A backend module whose createBackend takes `delayMs` (like a simulator starting its device thread). */
function writeSlowBackend(file: string, delayMs: number): string {
  const slow = path.join(path.dirname(file), 'slow-backend.js');
  fs.writeFileSync(
    slow,
    `const inner = require(${JSON.stringify(file)});
exports.BACKEND_NAME = inner.BACKEND_NAME;
exports.createBackend = (options) => new Promise((resolve) => setTimeout(() => resolve(inner.createBackend(options)), ${delayMs}));
`,
  );
  return slow;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

describe('chip child: frames sent before init done are not lost', () => {
  const backend = writeTestBackend();
  const slow = writeSlowBackend(backend.file, 400);
  afterAll(() => backend.remove());

  it('a request pipelined before init done is answered after the init-done frame', async () => {
    const child = RawChild.start(slow);
    try {
      const reply = child.request((f) => {
        f.command = MailboxCommand.OPEN;
        f.setArg(0, 64);
        f.setArg(1, 1);
      });
      // request() returns the next frame: init done comes first, then the open reply.
      expect((await within(reply, 10_000, 'init done')).state).toBe(MailboxState.INIT_DONE);
      const open = await within(child.next(), 10_000, 'open reply');
      expect(open.state).toBe(MailboxState.CONTROL_DONE);
      expect(open.error).toBe(0);
      expect(open.command).toBe(MailboxCommand.OPEN);
      expect(open.result).toBeGreaterThan(0);
    } finally {
      child.kill();
    }
  });

  it('a shutdown sent during a slow init makes the child exit 0', async () => {
    const child = RawChild.start(slow);
    try {
      const bye = new Uint8Array(4096);
      bye[0] = MailboxState.SHUTDOWN;
      child.write(bye);
      expect(await within(child.exited, 10_000, 'exit')).toEqual({ code: 0, signal: null });
    } finally {
      child.kill();
    }
  });
});

describe('chip child: segments unlinked by the parent are not remembered forever', () => {
  it('a client using a fresh segment per round trip does not grow the child bookkeeping without bound', async () => {
    const prefix = `rvw-${process.pid}-`;
    const replies: Uint8Array[] = [];
    let deliver: (frame: Uint8Array) => void = () => undefined;
    const transport: FrameTransport = {
      send: (frame) => void replies.push(frame.slice()),
      onFrame: (cb) => void (deliver = cb),
      onClose: () => undefined,
      close: () => undefined,
    };
    const ctx = new DeviceContext(createTestBackend().backend);
    const child = new ChipChild(ctx, transport, prefix, { exit: () => undefined, log: () => undefined });
    child.start();
    const handle = ctx.open(64, 1);
    const frame = new MailboxFrame();
    for (let i = 0; i < 300; i++) {
      const seg = ParentSegment.create(prefix);
      try {
        seg.prepare(SidebandOp.INFO, handle, 0, 64, true);
        frame.clear();
        frame.state = MailboxState.CONTROL_REQUEST;
        frame.command = MailboxCommand.INFO;
        frame.name = seg.name;
        deliver(frame.bytes);
        expect(new MailboxFrame(replies[replies.length - 1]).error).toBe(0);
      } finally {
        seg.dispose(); // unlinked after the round trip
      }
    }
    expect(replies).toHaveLength(301); // init done + one reply per request
    expect((child as unknown as { seenSegments: Set<string> }).seenSegments.size).toBeLessThanOrEqual(64);
    await child.stop(false);
  });
});

describe('createL3Worker validates its L3-only options before spawning', () => {
  const backend = writeTestBackend();
  afterAll(() => backend.remove());

  it.each([
    { childStderr: 'bogus' },
    { childStderr: 5 },
    { initTimeoutMs: -5 },
    { requestTimeoutMs: 'x' },
    { shutdownGraceMs: NaN },
    { transport: 'tcp' },
    { transport: 1 },
    { shmTuning: 5 },
    { shmTuning: { chunkBytes: 100 } },
    { shmTuning: { chunkBytes: 4096 + 1 } },
    { shmTuning: { chunkBytes: 2 ** 31 } },
    { shmTuning: { parentSpinUs: -1 } },
    { shmTuning: { childSpinUs: Infinity } },
    { shmTuning: { spinUs: 5 } },
  ])(
    'rejects %p with EINVAL',
    async (bad) => {
      await expect(createL3Worker({ backend: backend.file, deviceIds: [0], ...(bad as object) })).rejects.toBeInstanceOf(InvalidArgumentError);
    },
  );
});

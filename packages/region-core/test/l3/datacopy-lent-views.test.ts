import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { InvalidArgumentError } from '@simpler/abi';
import { createL3Worker } from '../../src/l3/create-l3-worker';
import type { MappedRegion } from '../../src/worker/mapped-region';
import type { Worker } from '../../src/worker/worker';
import { TRANSPORTS } from './helpers/process-state';
import { writeTestBackend } from './helpers/test-backend';

// Issue 11 item 2: an h2region queued behind a pending wait, whose source was detached or shrunk
// before it was sent, resolved OK and the region received the bytes another request had left in
// the side-band segment. A datacopy writes the caller's bytes as they were at the call, or fails
// with EINVAL; it never carries one request's bytes into another region.

const backend = writeTestBackend();
afterAll(() => backend.remove());

interface Source {
  /** What is passed to mappedRegionDatacopyH2Region. */
  readonly bytes: ArrayBufferView | ArrayBuffer;
  /** Makes the source unusable (detached, or shrunk below its length at the call). */
  readonly spoil: () => void;
}

/** A resizable ArrayBuffer (ES2024; the TypeScript lib in use does not describe it yet). */
type Resizable = ArrayBuffer & { resize(byteLength: number): void };
const resizable = (n: number): Resizable => new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => Resizable)(n, { maxByteLength: 2 * n });

const sources: [string, (n: number, fill: number) => Source][] = [
  [
    'a Uint8Array whose buffer is transferred away',
    (n, fill) => {
      const bytes = new Uint8Array(n).fill(fill);
      return { bytes, spoil: () => void structuredClone(bytes.buffer, { transfer: [bytes.buffer] }) };
    },
  ],
  [
    'an ArrayBuffer that is transferred away',
    (n, fill) => {
      const buf = new Uint8Array(n).fill(fill).buffer;
      return { bytes: buf, spoil: () => void structuredClone(buf, { transfer: [buf] }) };
    },
  ],
  [
    'a resizable ArrayBuffer that shrinks',
    (n, fill) => {
      const buf = resizable(n);
      new Uint8Array(buf).fill(fill);
      return { bytes: buf, spoil: () => buf.resize(16) };
    },
  ],
  [
    'a fixed-length view of a resizable ArrayBuffer that shrinks under it',
    (n, fill) => {
      const buf = resizable(n);
      const bytes = new Uint8Array(buf, 0, n).fill(fill);
      return { bytes, spoil: () => buf.resize(16) };
    },
  ],
];

describe.each(TRANSPORTS)('over the %s transport', (transport) => {
  let worker: Worker;

  beforeAll(async () => {
    worker = await createL3Worker({ backend: backend.file, deviceIds: [0], childStderr: 'pipe', transport });
  });

  afterAll(() => worker.close());

  /** The region's bytes are either all zero (the copy was refused) or all `fill` (the bytes at the call). */
  async function expectNoForeignBytes(region: MappedRegion, n: number, fill: number): Promise<void> {
    const got = await worker.mappedRegionDatacopyRegion2H(region, 0, n);
    const first = got[0];
    expect([0, fill]).toContain(first);
    expect(got.every((b) => b === first)).toBe(true);
  }

  describe('an h2region queued behind a wait, whose source is spoiled before it is sent', () => {
    it.each(sources.flatMap(([label, make]) => [4096, 2 << 20].map((n) => [`${label} (${n} bytes)`, make, n] as const)))(
      '%s: EINVAL or the bytes at the call, never another request\'s bytes',
      async (_label, make, n) => {
        const [gate, other, target] = await Promise.all([
          worker.openMappedRegion(64),
          worker.openMappedRegion(n),
          worker.openMappedRegion(n),
        ]);
        try {
          // Leaves n bytes of 0xee in the transfer segment.
          await worker.mappedRegionDatacopyH2Region(other, 0, new Uint8Array(n).fill(0xee));
          const pendingWait = worker.mappedRegionWait(gate, 0, 1, 200_000).catch((e: unknown) => e);
          const source = make(n, 0x5a);
          const copy = worker.mappedRegionDatacopyH2Region(target, 0, source.bytes).then(
            () => 'ok',
            (e: unknown) => e,
          );
          source.spoil();
          const outcome = await copy;
          if (outcome !== 'ok') {
            expect(outcome).toBeInstanceOf(InvalidArgumentError);
            expect((outcome as Error).message).toMatch(/source/);
          }
          expect(await pendingWait).toMatchObject({ code: 'EAGAIN' });
          await expectNoForeignBytes(target, n, 0x5a);
        } finally {
          await Promise.all([gate, other, target].map((r) => worker.closeMappedRegion(r)));
        }
      },
    );
  });

  describe('a region2hInto queued behind a wait, whose destination is spoiled before the reply', () => {
    it.each(sources.filter(([label]) => !label.startsWith('an ArrayBuffer') && !label.startsWith('a resizable ArrayBuffer that')))(
      '%s: EINVAL, not a silent success that copied nothing',
      async (_label, make) => {
        const [gate, region] = await Promise.all([worker.openMappedRegion(64), worker.openMappedRegion(4096)]);
        try {
          await worker.mappedRegionDatacopyH2Region(region, 0, new Uint8Array(4096).fill(7));
          const pendingWait = worker.mappedRegionWait(gate, 0, 1, 200_000).catch((e: unknown) => e);
          const dst = make(4096, 0);
          const copy = worker.mappedRegionDatacopyRegion2HInto(region, 0, dst.bytes as ArrayBufferView).then(
            () => 'ok',
            (e: unknown) => e,
          );
          dst.spoil();
          const outcome = await copy;
          expect(outcome).toBeInstanceOf(InvalidArgumentError);
          expect((outcome as Error).message).toMatch(/destination/);
          expect(await pendingWait).toMatchObject({ code: 'EAGAIN' });
        } finally {
          await Promise.all([gate, region].map((r) => worker.closeMappedRegion(r)));
        }
      },
    );
  });
});

// A source detached while its payload is being written: with a thread-pool write the kernel read
// memory the caller had freed (a short write, then a RangeError thrown in an I/O callback ended
// the process). Over pipes the payload now moves in synchronous pieces, each after a check of the
// source; over shared memory each chunk is checked before it goes into the data window. Freeing
// the transferred memory needs a forced GC, so this runs in a process with --expose-gc.
const MID_WRITE_SCRIPT = `
const { ChipEndpoint } = require(${JSON.stringify(join(__dirname, '..', '..', 'dist', 'l3', 'chip-endpoint.js'))});
(async () => {
  const transport = process.argv[2];
  // Small chunks and no spinning: the parent sleeps between chunks, so the caller's code runs mid-transfer.
  const shmTuning = { chunkBytes: 4096, parentSpinUs: 0, childSpinUs: 0 };
  const e = await ChipEndpoint.spawn({ deviceId: 0, backend: process.argv[1], stderr: 'ignore', transport, shmTuning });
  const n = 16 << 20;
  const h = await e.open(n, 1, 0);
  const rounds = [];
  for (let round = 1; round <= 3; round++) {
    const src = new Uint8Array(n).fill(round);
    const outcome = e.h2region(h, 0, src).then(() => ({ code: 'ok' }), (err) => ({ code: err.code, message: err.message }));
    await new Promise((resolve) => setImmediate(resolve));
    let moved = structuredClone(src.buffer, { transfer: [src.buffer] });
    moved = null;
    gc();
    const result = await outcome;
    const back = await e.region2h(h, 0, n);
    let sameAsFirst = 0;
    while (sameAsFirst < n && back[sameAsFirst] === back[0]) sameAsFirst++;
    let zerosAfter = 0;
    while (sameAsFirst + zerosAfter < n && back[sameAsFirst + zerosAfter] === 0) zerosAfter++;
    rounds.push({ ...result, first: back[0], sameAsFirst, zerosAfter });
    // The endpoint keeps working after a refused copy.
    await e.notify(h, 0, round);
  }
  console.log(JSON.stringify(rounds));
  await e.shutdown();
})();
`;

interface Round {
  code: string;
  message?: string;
  first: number;
  sameAsFirst: number;
  zerosAfter: number;
}

describe.each(TRANSPORTS)('an h2region whose source is detached and freed while its payload is being written (%s)', (transport) => {
  it('fails with EINVAL (or lands whole); the process survives and the region never gets stale or foreign bytes', () => {
    const run = spawnSync(process.execPath, ['--expose-gc', '-e', MID_WRITE_SCRIPT, backend.file, transport], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const rounds = JSON.parse(run.stdout) as Round[];
    const n = 16 << 20;
    let before = 0;
    rounds.forEach(({ code, message, first, sameAsFirst, zerosAfter }, i) => {
      if (code === 'ok') {
        expect([first, sameAsFirst]).toEqual([i + 1, n]);
      } else if (transport === 'pipe') {
        // The whole payload goes into the segment before the request: the region is untouched.
        expect(code).toBe('EINVAL');
        expect([first, sameAsFirst]).toEqual([before, n]);
      } else {
        // Over shared memory the child was already copying: the chunks before the loss, then zeros.
        expect(code).toBe('EINVAL');
        expect(message).toMatch(/source went from 16777216 to 0 bytes .* zeros after/);
        expect(first).toBe(i + 1);
        expect(sameAsFirst % 4096).toBe(0);
        expect(sameAsFirst).toBeLessThan(n);
        expect(sameAsFirst + zerosAfter).toBe(n);
      }
      before = code === 'ok' || transport === 'pipe' ? first : 0;
    });
  });
});

// The destination of a region2hInto shrunk in the middle of a chunked transfer over shared memory:
// the remaining chunks are taken and dropped, the copy is EINVAL, and the endpoint keeps working.
describe('a region2hInto whose destination shrinks mid-transfer over shared memory', () => {
  it('is EINVAL, never a RangeError in the transport; the region and the endpoint are fine afterwards', async () => {
    const { ChipEndpoint } = await import('../../src/l3/chip-endpoint');
    const shmTuning = { chunkBytes: 4096, parentSpinUs: 0, childSpinUs: 0 };
    const e = await ChipEndpoint.spawn({ deviceId: 0, backend: backend.file, stderr: 'pipe', transport: 'shm', shmTuning });
    try {
      const n = 8 << 20;
      const h = await e.open(n, 1, 0);
      await e.h2region(h, 0, new Uint8Array(n).fill(0x33));
      const buf = resizable(n);
      const outcome = e.region2hInto(h, 0, new Uint8Array(buf, 0, n)).then(
        () => 'ok',
        (err: unknown) => err,
      );
      await new Promise((resolve) => setImmediate(resolve));
      buf.resize(16);
      const result = await outcome;
      expect(result).toBeInstanceOf(InvalidArgumentError);
      expect((result as Error).message).toMatch(/destination went from 8388608 to 0 bytes/);
      const back = await e.region2h(h, 0, n);
      expect(back.every((b) => b === 0x33)).toBe(true);
      expect(e.lost).toBeUndefined();
    } finally {
      await e.shutdown();
    }
  });
});

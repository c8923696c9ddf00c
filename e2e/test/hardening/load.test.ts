import { performance } from 'node:perf_hooks';
import { simBackend as createBackend } from './support/sim';
import { L3_TRANSPORTS, MappedRegion, Worker, createWorker } from '@simpler/region-core';
import { ourSegments, regionErrorProblem, sameBytes, settle } from './support/checks';

const CALLERS = 64;
const ITERATIONS = 25;
/** Generous: a starved request would wait for the whole run; a served one takes milliseconds. */
const STARVATION_BOUND_MS = 15_000;

function payload(caller: number, seq: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (caller * 31 + seq * 17 + i * 5) & 0xff;
  return b;
}

/** Times one request and records the slowest. */
async function timed<T>(stats: { max: number; count: number }, run: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await run();
  } finally {
    const dt = performance.now() - t0;
    stats.count++;
    if (dt > stats.max) stats.max = dt;
  }
}

/**
 * One caller: its own region on chip `caller % chips`; each iteration writes a caller- and
 * seq-specific payload, publishes seq, waits for it, reads it back, and interleaves waits that
 * must miss (a probe and a short bounded wait on the other slot).
 */
async function caller(worker: Worker, id: number, chips: readonly number[], stats: { max: number; count: number }): Promise<void> {
  const n = 64 + ((id * 97) % 2000);
  const workerId = chips[id % chips.length];
  const region: MappedRegion = await timed(stats, () => worker.openMappedRegion(n, { signalCount: 2, workerId }));
  try {
    for (let seq = 1; seq <= ITERATIONS; seq++) {
      const bytes = payload(id, seq, n);
      await timed(stats, () => worker.mappedRegionDatacopyH2Region(region, 0, bytes));
      await timed(stats, () => worker.mappedRegionNotify(region, 0, seq));
      await timed(stats, () => worker.mappedRegionWait(region, 0, seq, 5_000_000));
      const miss = await settle(() => timed(stats, () => worker.mappedRegionWait(region, 1, seq, seq % 3 === 0 ? 200 : 0)));
      expect(regionErrorProblem(!miss.ok && miss.error, 'EAGAIN')).toBeUndefined();
      const back = await timed(stats, () => worker.mappedRegionDatacopyRegion2H(region, 0, n));
      if (!sameBytes(back, bytes)) throw new Error(`caller ${id} seq ${seq}: read back different bytes`);
      await timed(stats, () => worker.mappedRegionNotify(region, 1, seq - 1));
    }
    const info = await timed(stats, () => worker.mappedRegionInfo(region));
    expect(info).toMatchObject({ dataBytes: n, signalCount: 2, hostDataPtr: 0n, hostSignalPtr: 0n });
  } finally {
    await worker.closeMappedRegion(region);
  }
}

describe('load: 64 concurrent callers', () => {
  it.each(L3_TRANSPORTS)('over 4 chip children (%s transport): every result correct, no request starves, nothing left behind', async (transport) => {
    const before = new Set(ourSegments());
    const worker = await createWorker({ level: 3, backend: '@simpler/hal-sim', deviceIds: [0, 1, 2, 3], transport });
    const stats = { max: 0, count: 0 };
    try {
      const results = await Promise.allSettled(Array.from({ length: CALLERS }, (_, i) => caller(worker, i, worker.workerIds, stats)));
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(failed.map((f) => String(f.reason))).toEqual([]);
      expect(stats.count).toBe(CALLERS * (ITERATIONS * 6 + 2));
      expect(stats.max).toBeLessThan(STARVATION_BOUND_MS);
    } finally {
      await worker.close();
    }
    expect(ourSegments().filter((s) => !before.has(s))).toEqual([]);
  });

  it('at level 2, with callers waiting on each other (pairs hand a token back and forth)', async () => {
    const worker = await createWorker({ level: 2, backend: await createBackend({ deviceId: 0 }) });
    try {
      const pairs = CALLERS / 2;
      const regions = await Promise.all(Array.from({ length: pairs }, () => worker.openMappedRegion(256, { signalCount: 2 })));
      const stats = { max: 0, count: 0 };
      // Ping: slot 0 is written by the first of a pair, slot 1 by the second; each waits for the other.
      const ping = async (r: MappedRegion, p: number): Promise<void> => {
        for (let seq = 1; seq <= ITERATIONS; seq++) {
          await worker.mappedRegionDatacopyH2Region(r, 0, payload(p, seq, 128));
          await worker.mappedRegionNotify(r, 0, seq);
          await timed(stats, () => worker.mappedRegionWait(r, 1, seq, 10_000_000));
          expect(sameBytes(await worker.mappedRegionDatacopyRegion2H(r, 128, 128), payload(p + 1000, seq, 128))).toBe(true);
        }
      };
      const pong = async (r: MappedRegion, p: number): Promise<void> => {
        for (let seq = 1; seq <= ITERATIONS; seq++) {
          await timed(stats, () => worker.mappedRegionWait(r, 0, seq, 10_000_000));
          expect(sameBytes(await worker.mappedRegionDatacopyRegion2H(r, 0, 128), payload(p, seq, 128))).toBe(true);
          await worker.mappedRegionDatacopyH2Region(r, 128, payload(p + 1000, seq, 128));
          await worker.mappedRegionNotify(r, 1, seq);
        }
      };
      await Promise.all(regions.flatMap((r, p) => [ping(r, p), pong(r, p)]));
      expect(stats.count).toBe(CALLERS * ITERATIONS);
      expect(stats.max).toBeLessThan(STARVATION_BOUND_MS);
      await Promise.all(regions.map((r) => worker.closeMappedRegion(r)));
    } finally {
      await worker.close();
    }
  });
});

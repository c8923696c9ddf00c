import { performance } from 'node:perf_hooks';
import { L3_TRANSPORTS, MappedRegion, Worker, createWorker } from '@simpler/region-core';
import { ourSegments, regionErrorProblem, sameBytes, settle, sleep } from './support/checks';
import { chipChildPid, processAlive } from './support/chip-pids';

const BIG = 96 << 20;

/** Proves chip 0 still works end to end after chip 1 died. */
async function survivorWorks(worker: Worker): Promise<void> {
  const r = await worker.openMappedRegion(4096, { signalCount: 2, workerId: 0 });
  const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) & 0xff));
  await worker.mappedRegionDatacopyH2Region(r, 0, bytes);
  await worker.mappedRegionNotify(r, 1, 5);
  await worker.mappedRegionWait(r, 1, 5, 1_000_000);
  expect(sameBytes(await worker.mappedRegionDatacopyRegion2H(r, 0, 4096), bytes)).toBe(true);
  await worker.closeMappedRegion(r);
}

type Setup = (worker: Worker) => Promise<{ start: () => Promise<unknown>; killAfterMs: number }>;

/**
 * One kind of request per case: chip 1 is SIGKILLed while the request is in flight. The request
 * must fail with EIO within 2 s of the kill, later requests to chip 1 fail with EIO at once,
 * chip 0 keeps working, and closing the worker leaves no process and no /dev/shm segment.
 */
const cases: [string, Setup][] = [
  [
    'open of a large region',
    async (w) => ({ start: () => w.openMappedRegion(512 << 20, { workerId: 1 }), killAfterMs: 0 }),
  ],
  [
    'datacopy h2region with a big payload',
    async (w) => {
      const r = await w.openMappedRegion(BIG, { workerId: 1 });
      const payload = Buffer.alloc(BIG, 0x3c);
      return { start: () => w.mappedRegionDatacopyH2Region(r, 0, payload), killAfterMs: 15 };
    },
  ],
  [
    'datacopy region2h with a big payload',
    async (w) => {
      const r = await w.openMappedRegion(BIG, { workerId: 1 });
      return { start: () => w.mappedRegionDatacopyRegion2H(r, 0, BIG), killAfterMs: 15 };
    },
  ],
  [
    'a bounded wait that would last 20 s',
    async (w) => {
      const r = await w.openMappedRegion(64, { workerId: 1 });
      return { start: () => w.mappedRegionWait(r, 0, 1, 20_000_000), killAfterMs: 100 };
    },
  ],
  [
    'synchronize while a kernel waits for a signal that never comes',
    async (w) => {
      const r: MappedRegion = await w.openMappedRegion(128, { signalCount: 2, workerId: 1 });
      const info = await w.mappedRegionInfo(r);
      await w.launch('round-trip', [info.deviceDataPtr, info.deviceSignalPtr, 1, 64], { workerId: 1 });
      return { start: () => w.synchronize({ workerId: 1 }), killAfterMs: 100 };
    },
  ],
];

describe.each(L3_TRANSPORTS)('a chip child killed during each kind of request (%s transport)', (transport) => {
  const before = new Set(ourSegments());

  afterAll(() => {
    expect(ourSegments().filter((s) => !before.has(s))).toEqual([]);
  });

  it.each(cases)('%s → EIO within 2 s; the other child is unaffected', async (_name, setup) => {
    const worker = await createWorker({ level: 3, backend: '@simpler/hal-sim', deviceIds: [0, 1], childStderr: 'ignore', transport });
    const pids = [chipChildPid(0), chipChildPid(1)];
    try {
      const { start, killAfterMs } = await setup(worker);
      const pending = settle(start);
      if (killAfterMs > 0) await sleep(killAfterMs);
      process.kill(pids[1], 'SIGKILL');
      const killedAt = performance.now();
      const outcome = await pending;
      const elapsed = performance.now() - killedAt;
      expect(outcome.ok).toBe(false);
      expect(regionErrorProblem(!outcome.ok && outcome.error, 'EIO')).toBeUndefined();
      expect(elapsed).toBeLessThan(2000);
      // Later requests to the lost chip fail at once, with EIO again.
      const later = await settle(() => worker.openMappedRegion(64, { workerId: 1 }));
      expect(regionErrorProblem(!later.ok && later.error, 'EIO')).toBeUndefined();
      await survivorWorks(worker);
      expect(processAlive(pids[0])).toBe(true);
    } finally {
      await worker.close().catch(() => undefined);
    }
    for (const pid of pids) expect(processAlive(pid)).toBe(false);
  });
});

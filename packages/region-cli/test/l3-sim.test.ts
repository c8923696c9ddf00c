import { readdirSync } from 'node:fs';
import { createWorker, type MappedRegion, type Worker } from '@simpler/region-core';

/** Bytes of one direction of the round trip (the region holds 2n). */
const N = 4096;
const ITERATIONS = 1000;

function payloadFor(seq: number, out: Buffer): Buffer {
  for (let i = 0; i < N; i++) out[i] = (seq * 17 + i * 5) & 0xff;
  return out;
}

function expectedFor(seq: number, payload: Buffer, out: Buffer): Buffer {
  for (let i = 0; i < N; i++) out[i] = payload[i] ^ ((seq + i * 3) & 0xff);
  return out;
}

/** Spec section 11 at L3: one region per chip, reused for every iteration; every byte checked. */
async function roundTrips(worker: Worker, region: MappedRegion): Promise<number> {
  const workerId = region.workerId;
  const info = await worker.mappedRegionInfo(region);
  expect(info.hostDataPtr).toBe(0n);
  expect(info.hostSignalPtr).toBe(0n);
  const payload = Buffer.alloc(N);
  const expected = Buffer.alloc(N);
  let verified = 0;
  for (let seq = 1; seq <= ITERATIONS; seq++) {
    await worker.launch('round-trip', [info.deviceDataPtr, info.deviceSignalPtr, seq, N], { workerId });
    await worker.mappedRegionDatacopyH2Region(region, 0, payloadFor(seq, payload));
    await worker.mappedRegionNotify(region, 0, seq);
    await worker.mappedRegionWait(region, 1, seq, 10_000_000);
    const out = Buffer.from(await worker.mappedRegionDatacopyRegion2H(region, N, N));
    if (!out.equals(expectedFor(seq, payload, expected))) {
      throw new Error(`chip ${workerId}, seq ${seq}: region2h bytes differ from the expected round-trip output`);
    }
    verified++;
  }
  await worker.synchronize({ workerId });
  return verified;
}

describe('L3 round trip on the simulator (two chip children)', () => {
  it('runs 1,000 verified iterations on each of two chips concurrently, then leaves nothing behind', async () => {
    const worker = await createWorker({ level: 3, backend: '@simpler/hal-sim', deviceIds: [0, 1] });
    try {
      const regions = await Promise.all([0, 1].map((workerId) => worker.openMappedRegion(2 * N, { signalCount: 2, workerId })));
      const counts = await Promise.all(regions.map((r) => roundTrips(worker, r)));
      expect(counts).toEqual([ITERATIONS, ITERATIONS]);
      for (const r of regions) await worker.closeMappedRegion(r);
    } finally {
      await worker.close();
    }
    expect(readdirSync('/dev/shm').filter((n) => n.startsWith(`simpler-hdmr-${process.pid}-`))).toEqual([]);
  });
});

import { type MappedRegion, type Worker } from '@simpler/region-core';

// Spec section 11, computed here independently of the CLI's own job code, so a bug there
// cannot make its own test pass.

function fillPayload(seq: number, out: Buffer): Buffer {
  for (let i = 0; i < out.length; i++) out[i] = (seq * 17 + i * 5) & 0xff;
  return out;
}

function fillExpected(seq: number, payload: Buffer, out: Buffer): Buffer {
  for (let i = 0; i < out.length; i++) out[i] = payload[i] ^ ((seq + i * 3) & 0xff);
  return out;
}

/**
 * Runs `iterations` round trips of `n` bytes per direction on one region (data area 2n, two
 * signals), reusing it for every seq; checks every byte and that info publishes no host pointer.
 * Resolves to the number of verified iterations.
 */
export async function specRoundTrips(worker: Worker, region: MappedRegion, n: number, iterations: number, firstSeq = 1): Promise<number> {
  const workerId = region.workerId;
  const info = await worker.mappedRegionInfo(region);
  expect(info.hostDataPtr).toBe(0n);
  expect(info.hostSignalPtr).toBe(0n);
  const payload = Buffer.alloc(n);
  const expected = Buffer.alloc(n);
  let verified = 0;
  for (let seq = firstSeq; seq < firstSeq + iterations; seq++) {
    await worker.launch('round-trip', [info.deviceDataPtr, info.deviceSignalPtr, seq, n], { workerId });
    await worker.mappedRegionDatacopyH2Region(region, 0, fillPayload(seq, payload));
    await worker.mappedRegionNotify(region, 0, seq);
    await worker.mappedRegionWait(region, 1, seq, 10_000_000);
    const out = Buffer.from(await worker.mappedRegionDatacopyRegion2H(region, n, n));
    if (!out.equals(fillExpected(seq, payload, expected))) {
      throw new Error(`chip ${workerId}, n ${n}, seq ${seq}: region2h bytes differ from the expected round-trip output`);
    }
    verified++;
  }
  await worker.synchronize({ workerId });
  return verified;
}

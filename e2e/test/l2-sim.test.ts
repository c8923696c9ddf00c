import { createWorker } from '@simpler/region-core';
import { specRoundTrips } from './support/spec-round-trip';

describe('L2 round trip on the simulator (spec section 11)', () => {
  it('runs 1,000 verified iterations reusing one region', async () => {
    const n = 4096;
    await using worker = await createWorker({ level: 2, backend: '@simpler/hal-sim', deviceId: 0 });
    const region = await worker.openMappedRegion(2 * n, { signalCount: 2 });
    expect(await specRoundTrips(worker, region, n, 1000)).toBe(1000);
    await worker.closeMappedRegion(region);
  });

  it.each([1, 3, 64, 4095, 65_536, 1 << 20])('verifies every byte with %i bytes per direction', async (n) => {
    await using worker = await createWorker({ level: 2, backend: '@simpler/hal-sim', deviceId: 0, backendOptions: { platform: 'a5sim' } });
    const region = await worker.openMappedRegion(2 * n, { signalCount: 2 });
    expect(await specRoundTrips(worker, region, n, 5)).toBe(5);
    // The host signal must keep rising across launches: a later epoch continues from 5.
    expect(await specRoundTrips(worker, region, n, 3, 6)).toBe(3);
  });
});

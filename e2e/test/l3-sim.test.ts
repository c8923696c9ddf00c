import { readdirSync } from 'node:fs';
import { L3_TRANSPORTS, createWorker } from '@simpler/region-core';
import { specRoundTrips } from './support/spec-round-trip';

/** Bytes of one direction of the round trip (the region holds 2n). */
const N = 4096;
const ITERATIONS = 1000;

// Every transport with direct regions (the parent maps them) and proxied ones (every call a request).
const MODES = L3_TRANSPORTS.flatMap((transport) => (['direct', 'proxied'] as const).map((access) => [transport, access] as const));

describe.each(MODES)('L3 round trip on the simulator (two chip children, %s transport, %s regions)', (transport, access) => {
  it('runs 1,000 verified iterations on each of two chips concurrently, then leaves nothing behind', async () => {
    const worker = await createWorker({ level: 3, backend: '@simpler/hal-sim', deviceIds: [0, 1], transport });
    try {
      // Each child names its backend's platform in its init-done frame.
      expect([worker.platformOf(0), worker.platformOf(1)]).toEqual(['a2a3sim', 'a2a3sim']);
      const regions = await Promise.all([0, 1].map((workerId) => worker.openMappedRegion(2 * N, { signalCount: 2, workerId, access })));
      expect(regions.map((r) => r.access)).toEqual([access, access]);
      const counts = await Promise.all(regions.map((r) => specRoundTrips(worker, r, N, ITERATIONS)));
      expect(counts).toEqual([ITERATIONS, ITERATIONS]);
      for (const r of regions) await worker.closeMappedRegion(r);
    } finally {
      await worker.close();
    }
    expect(readdirSync('/dev/shm').filter((n) => n.startsWith(`simpler-hdmr-${process.pid}-`))).toEqual([]);
  });
});

import { simBackend as createBackend } from './support/sim';
import { L3_TRANSPORTS, createWorker } from '@simpler/region-core';
import { l3Mappings, openFdCount, ourSegments } from './support/checks';

/**
 * A small version of tools/soak.js (which runs 100,000 cycles and 1,000,000 steps): repeated
 * work must not grow open file descriptors or /dev/shm entries. Memory is not asserted here
 * (a GC-managed heap in a shared test process is too noisy for a unit test); the tool reports it.
 */
describe('light soak', () => {
  it('L2: 2,000 open/close cycles and 20,000 datacopy/notify/wait steps leave fds and /dev/shm flat', async () => {
    const backend = await createBackend({ deviceId: 0, guardBytes: 64 });
    const worker = await createWorker({ level: 2, backend });
    try {
      // Warm up once so lazily created descriptors (thread pools, pipes) are counted in the baseline.
      await worker.closeMappedRegion(await worker.openMappedRegion(64));
      const fds = openFdCount();
      const shm = ourSegments().length;
      for (let i = 0; i < 2000; i++) {
        const r = await worker.openMappedRegion(64 + (i % 4096), { signalCount: 1 + (i % 3) });
        await worker.closeMappedRegion(r);
      }
      const r = await worker.openMappedRegion(256, { signalCount: 2 });
      const out = new Uint8Array(64);
      for (let seq = 1; seq <= 20_000; seq++) {
        out[0] = seq & 0xff;
        await worker.mappedRegionDatacopyH2Region(r, 0, out);
        await worker.mappedRegionNotify(r, 0, seq);
        await worker.mappedRegionWait(r, 0, seq, 1_000_000);
      }
      expect((await worker.mappedRegionDatacopyRegion2H(r, 0, 1))[0]).toBe(20_000 & 0xff);
      await worker.closeMappedRegion(r);
      expect(openFdCount()).toBeLessThanOrEqual(fds);
      expect(ourSegments().length).toBe(shm);
      expect(backend.checkGuards().ok).toBe(true);
    } finally {
      await worker.close();
    }
  });

  it.each(L3_TRANSPORTS)('L3 over %s: 2,000 requests across two children leave fds, mappings and /dev/shm flat after close', async (transport) => {
    const fdsBefore = openFdCount();
    const shmBefore = ourSegments().length;
    const mapsBefore = l3Mappings().length;
    const worker = await createWorker({ level: 3, backend: '@simpler/hal-sim', deviceIds: [0, 1], transport });
    try {
      const regions = await Promise.all([0, 1].map((workerId) => worker.openMappedRegion(4096, { signalCount: 1, workerId })));
      const bytes = Buffer.alloc(512, 7);
      await Promise.all(
        regions.map(async (r) => {
          for (let seq = 1; seq <= 250; seq++) {
            await worker.mappedRegionDatacopyH2Region(r, 0, bytes);
            await worker.mappedRegionNotify(r, 0, seq);
            await worker.mappedRegionWait(r, 0, seq, 1_000_000);
            await worker.mappedRegionDatacopyRegion2H(r, 0, 512);
          }
        }),
      );
      // One segment per child while the worker lives (pipes), none with shared memory, and no more.
      expect(ourSegments().length - shmBefore).toBeLessThanOrEqual(transport === 'pipe' ? 2 : 0);
      // Control block and data window of each child, mapped once, whatever the number of requests.
      expect(l3Mappings().length - mapsBefore).toBe(transport === 'shm' ? 4 : 0);
    } finally {
      await worker.close();
    }
    expect(ourSegments().length).toBe(shmBefore);
    expect(l3Mappings().length).toBe(mapsBefore);
    // Pipes of exited children are closed asynchronously; give them a moment.
    for (let i = 0; i < 50 && openFdCount() > fdsBefore; i++) await new Promise((r) => setTimeout(r, 20));
    expect(openFdCount()).toBeLessThanOrEqual(fdsBefore);
  });
});

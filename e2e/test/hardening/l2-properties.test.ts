import fc from 'fast-check';
import type { SimBackend } from '@simpler/hal-sim';
import { simBackend as createBackend } from './support/sim';
import { MappedRegion, Worker, createWorker } from '@simpler/region-core';
import { opArb, runWorkerProgram } from './support/worker-model';

/**
 * Property: random programs of valid and invalid calls against a level-2 worker on the real
 * simulator. Every call succeeds with the spec's result or throws the RegionError the model
 * predicts; region contents and signals always agree with a plain-array model; no byte outside
 * any region (the simulator's guard bytes) ever changes.
 */
describe('L2 worker: model-based properties', () => {
  let backend: SimBackend;
  let worker: Worker;
  let other: Worker;
  let foreign: MappedRegion;

  beforeAll(async () => {
    backend = await createBackend({ deviceId: 0, guardBytes: 128 });
    worker = await createWorker({ level: 2, backend, deviceId: 0 });
    other = await createWorker({ level: 2, backend: await createBackend({ deviceId: 0 }), deviceId: 0 });
    foreign = await other.openMappedRegion(256, { signalCount: 2 });
  });

  afterAll(async () => {
    await worker.close();
    await other.close();
    // Released regions were checked at release: still nothing outside a region changed.
    expect(backend.checkGuards()).toEqual({ ok: true, violations: [] });
  });

  it('every call agrees with the model and the guards hold', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40, size: 'max' }), async (ops) => {
        const problem = await runWorkerProgram(ops, {
          worker,
          foreign,
          afterStep: () => {
            const g = backend.checkGuards();
            return g.ok ? undefined : `guard bytes changed: ${JSON.stringify(g.violations.slice(0, 2), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`;
          },
        });
        expect(problem).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });

  it('a closed worker refuses every call with EINVAL', async () => {
    const w = await createWorker({ level: 2, backend: await createBackend({ deviceId: 0 }) });
    const r = await w.openMappedRegion(64, { signalCount: 1 });
    await w.close();
    expect(r.closed).toBe(true);
    await expect(w.mappedRegionDatacopyRegion2H(r, 0, 1)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(w.mappedRegionNotify(r, 0, 1)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(w.mappedRegionWait(r, 0, 0, 0)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(w.openMappedRegion(64)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(w.closeMappedRegion(r)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(w.synchronize()).rejects.toMatchObject({ code: 'EINVAL' });
  });
});

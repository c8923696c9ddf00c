import fc from 'fast-check';
import { simBackend as createBackend } from './support/sim';
import { L3_TRANSPORTS, MappedRegion, Worker, createWorker } from '@simpler/region-core';
import { ourSegments } from './support/checks';
import { opArb, runWorkerProgram } from './support/worker-model';

/**
 * The same model-based property as at level 2, through two chip child processes: every reply
 * that crosses the control protocol must match what the spec demands. Fewer runs (each call is
 * a process round trip).
 */
// Direct regions (the parent maps the memory) over the default transport, proxied ones over each.
const MODES = [[L3_TRANSPORTS[0], 'direct'] as const, ...L3_TRANSPORTS.map((transport) => [transport, 'proxied'] as const)];

describe.each(MODES)('L3 worker over %s, %s regions: model-based properties', (transport, access) => {
  let worker: Worker;
  let other: Worker;
  let foreign: MappedRegion;
  const segmentsBefore = new Set(ourSegments());

  beforeAll(async () => {
    worker = await createWorker({ level: 3, backend: '@simpler/hal-sim', deviceIds: [0, 1], backendOptions: { guardBytes: 64 }, transport });
    other = await createWorker({ level: 2, backend: await createBackend({ deviceId: 0 }) });
    foreign = await other.openMappedRegion(256, { signalCount: 2 });
  });

  afterAll(async () => {
    await worker.close();
    await other.close();
    expect(ourSegments().filter((s) => !segmentsBefore.has(s))).toEqual([]);
  });

  it('every call through the chip children agrees with the model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30, size: 'max' }), async (ops) => {
        expect(await runWorkerProgram(ops, { worker, foreign, access })).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });
});

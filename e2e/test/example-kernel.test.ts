// Issue 12: the user-kernel example of docs/backends/sim.md (examples/kernels/scale.js) runs as
// documented through the public Worker, at both levels; a launch carries at most four arguments.
import * as path from 'node:path';
import { createWorker, MAX_KERNEL_ARGS, Worker } from '@simpler/region-core';
import { WORKSPACE_ROOT } from './support/workspace';

const SCALE = path.join(WORKSPACE_ROOT, 'examples', 'kernels', 'scale.js');
const N = 300;

/** Two rounds of the example: bytes in, signal 0, launch, wait on signal 1, scaled bytes out. */
async function scaleTwice(worker: Worker): Promise<void> {
  const region = await worker.openMappedRegion(2 * N, { signalCount: 2 });
  const info = await worker.mappedRegionInfo(region);
  const input = Uint8Array.from({ length: N }, (_, i) => i & 0xff);
  for (const [seq, k] of [[1, 3], [2, 5]]) {
    await worker.mappedRegionDatacopyH2Region(region, 0, input);
    await worker.mappedRegionNotify(region, 0, seq);
    await worker.launch('scale', [info.deviceDataPtr, info.deviceSignalPtr, N, k]);
    await worker.mappedRegionWait(region, 1, seq, 10_000_000);
    expect(Array.from(await worker.mappedRegionDatacopyRegion2H(region, N, N))).toEqual(Array.from(input, (b) => (b * k) & 0xff));
  }
  await worker.synchronize();
  await worker.closeMappedRegion(region);
}

describe('examples/kernels/scale.js', () => {
  const backendOptions = { kernels: { scale: SCALE } };

  it('runs at level 2', async () => {
    const worker = await createWorker({ level: 2, backend: '@simpler/hal-sim', backendOptions });
    try {
      await scaleTwice(worker);
    } finally {
      await worker.close();
    }
  });

  it('runs at level 3 (through a chip child: four ARGs in the frame)', async () => {
    const worker = await createWorker({ level: 3, backend: '@simpler/hal-sim', backendOptions, deviceIds: [0] });
    try {
      await scaleTwice(worker);
    } finally {
      await worker.close();
    }
  });

  it('a fifth argument is refused at both levels (EINVAL), before anything reaches the device', async () => {
    expect(MAX_KERNEL_ARGS).toBe(4);
    for (const level of [2, 3] as const) {
      const worker = await createWorker({ level, backend: '@simpler/hal-sim', ...(level === 3 ? { deviceIds: [0] } : {}) });
      try {
        await expect(worker.launch('round-trip', [1, 2, 3, 4, 5])).rejects.toMatchObject({ code: 'EINVAL', message: 'a kernel takes at most 4 args, got 5' });
      } finally {
        await worker.close();
      }
    }
  });
});

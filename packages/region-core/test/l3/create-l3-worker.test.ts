import * as fs from 'node:fs';
import * as path from 'node:path';
import { createL3Worker } from '../../src/l3/create-l3-worker';
import { SHM_DIR } from '../../src/l3/sideband-segment';
import { TRANSPORTS, l3Mappings, segmentsOf } from './helpers/process-state';
import { writeTestBackend } from './helpers/test-backend';

const backend = writeTestBackend();
afterAll(() => backend.remove());

describe('createL3Worker', () => {
  it.each(TRANSPORTS)('drives two chip children through the public Worker API over %s, with host pointers 0n', async (transport) => {
    const worker = await createL3Worker({ backend: backend.file, deviceIds: [0, 1], childStderr: 'pipe', transport });
    try {
      expect(worker.level).toBe(3);
      expect(worker.workerIds).toEqual([0, 1]);
      const regions = await Promise.all([0, 1].map((workerId) => worker.openMappedRegion(256, { signalCount: 2, workerId })));
      for (const r of regions) {
        const info = await worker.mappedRegionInfo(r);
        expect(info.hostDataPtr).toBe(0n);
        expect(info.hostSignalPtr).toBe(0n);
        expect(info.dataBytes).toBe(256);
        await worker.mappedRegionDatacopyH2Region(r, 0, new Uint16Array([r.workerId + 1, 0xbeef]));
        await worker.mappedRegionNotify(r, 0, 1);
        await worker.mappedRegionWait(r, 0, 1, 0);
        expect([...(await worker.mappedRegionDatacopyRegion2H(r, 0, 4))]).toEqual([r.workerId + 1, 0, 0xef, 0xbe]);
      }
      await expect(worker.mappedRegionNotify(regions[0], 0, 2, { workerId: 1 })).rejects.toMatchObject({ code: 'EINVAL' });
      await worker.launch('store-args', [(await worker.mappedRegionInfo(regions[1])).deviceDataPtr, 1n, 2n, 3n], { workerId: 1 });
      await worker.synchronize({ workerId: 1 });
      expect(Buffer.from(await worker.mappedRegionDatacopyRegion2H(regions[1], 0, 8)).readBigUInt64LE(0)).toBe(1n);
      await worker.closeMappedRegion(regions[0]);
    } finally {
      await worker.close();
    }
    expect(segmentsOf(process.pid, fs.readdirSync(SHM_DIR))).toEqual([]);
    expect(l3Mappings()).toEqual([]);
  });

  it('uses the shared-memory transport by default where it is available', async () => {
    const worker = await createL3Worker({ backend: backend.file, deviceIds: [0], childStderr: 'pipe' });
    try {
      const region = await worker.openMappedRegion(64, { signalCount: 1 });
      await worker.mappedRegionNotify(region, 0, 1);
      expect(l3Mappings()).toHaveLength(2);
    } finally {
      await worker.close();
    }
  });

  it.each([
    ['a backend instance', { backend: { name: 'x', allocate() {}, destroy() {} } }],
    ['a factory', { backend: () => ({}) }],
    ['a module object', { backend: { BACKEND_NAME: 'x', createBackend: () => ({}) } }],
    ['empty deviceIds', { backend: 'x', deviceIds: [] }],
    ['a repeated device id', { backend: 'x', deviceIds: [0, 0] }],
    ['a negative device id', { backend: 'x', deviceIds: [-1] }],
    ['non-JSON backendOptions', { backend: 'x', backendOptions: { f: () => 1 } }],
    ['bigint backendOptions', { backend: 'x', backendOptions: { n: 1n } }],
  ])('refuses %s with EINVAL before spawning anything', async (_label, options) => {
    await expect(createL3Worker(options as never)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('refuses a backend module that cannot be found with EINVAL', async () => {
    await expect(createL3Worker({ backend: path.join(backend.dir, 'missing.js') })).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringMatching(/cannot be found/) });
  });

  it.each(TRANSPORTS)('reports a child init failure over %s and shuts down the children that did start', async (transport) => {
    await expect(createL3Worker({ backend: backend.file, deviceIds: [0, 1], backendOptions: { failInit: true }, childStderr: 'ignore', transport })).rejects.toMatchObject({
      code: 'EIO',
    });
    expect(l3Mappings()).toEqual([]);
  });
});

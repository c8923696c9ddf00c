import { createWorker } from '../src/worker/create-worker';
import { createTestBackend } from './support/recording-backend';
import { writeTestBackend } from './l3/helpers/test-backend';

// MappedRegion.access and the `access` open option (issue 14). Direct L3 regions need a backend
// that shares its memory: their behaviour is proven with the simulator in e2e/test/l3-direct.
// Here: the rules of the option, at L2 and for an L3 backend that cannot share (the test backend).

describe('access at level 2', () => {
  it('every region is direct; asking for direct is fine, proxied is EINVAL, anything else EINVAL', async () => {
    await using worker = await createWorker({ level: 2, backend: createTestBackend().backend });
    expect((await worker.openMappedRegion(64)).access).toBe('direct');
    expect((await worker.openMappedRegion(64, { access: 'direct' })).access).toBe('direct');
    await expect(worker.openMappedRegion(64, { access: 'proxied' })).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('level-3') });
    await expect(worker.openMappedRegion(64, { access: 'mapped' as never })).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining("'direct' or 'proxied'") });
  });
});

describe('access at level 3 with a backend that cannot share its memory', () => {
  const backend = writeTestBackend();
  afterAll(() => backend.remove());

  it('regions are proxied; forcing direct is ENOTSUP, and proxied calls keep working', async () => {
    await using worker = await createWorker({ level: 3, backend: backend.file, deviceIds: [0], childStderr: 'pipe' });
    const region = await worker.openMappedRegion(64, { signalCount: 2 });
    expect(region.access).toBe('proxied');
    expect((await worker.openMappedRegion(64, { access: 'proxied' })).access).toBe('proxied');
    await expect(worker.openMappedRegion(64, { access: 'direct' })).rejects.toMatchObject({ code: 'ENOTSUP', message: expect.stringContaining("access 'direct'") });
    // Proxied calls still work after the refusal.
    await worker.mappedRegionNotify(region, 0, 3);
    await worker.mappedRegionWait(region, 0, 3, 0);
    await expect(worker.openMappedRegion(64, { access: 'direct' })).rejects.toMatchObject({ code: 'ENOTSUP' });
  });
});

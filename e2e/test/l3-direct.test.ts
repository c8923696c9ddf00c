import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { MappedRegion, Worker, createWorker } from '@simpler/region-core';
import { chipChildPid, processAlive } from './hardening/support/chip-pids';
import { sleep } from './hardening/support/checks';
import { buildAscendDouble, haveCompiler } from './support/ascend-double';

// Issue 14: at L3, a simulator region is direct by default: datacopy, notify and wait run in the
// parent against its own mapping of the chip child's memory. These tests hold the parent to the
// same rules as L2, and check the lifetime rules that only exist at L3.

/** Lines of this process's maps that map simulator region memory. */
function regionMappings(): string[] {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((line) => line.includes('memfd:simpler-sim-region'));
}

/** Descriptors of this process that hold simulator region memory. */
function regionFds(): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${entry}`).includes('simpler-sim-region')) found.push(entry);
    } catch {
      // closed meanwhile
    }
  }
  return found;
}

async function until(check: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(10)) if (check()) return true;
  return check();
}

describe('direct L3 regions on the simulator', () => {
  let worker: Worker;
  beforeEach(async () => {
    worker = await createWorker({ level: 3, backend: '@simpler/hal-sim', deviceIds: [0], childStderr: 'pipe' });
  });
  afterEach(async () => {
    await worker.close();
    expect(regionMappings()).toEqual([]);
    expect(regionFds()).toEqual([]);
  });

  it('are direct by default and mapped here; proxied on request; no descriptor is kept once mapped', async () => {
    const direct = await worker.openMappedRegion(4096, { signalCount: 2 });
    const proxied = await worker.openMappedRegion(4096, { signalCount: 2, access: 'proxied' });
    expect([direct.access, proxied.access]).toEqual(['direct', 'proxied']);
    expect(regionMappings().length).toBe(1);
    expect(regionFds()).toEqual([]);
    // Host pointers are never reported, the parent's own mapping included.
    const info = await worker.mappedRegionInfo(direct);
    expect([info.hostDataPtr, info.hostSignalPtr]).toEqual([0n, 0n]);
    await worker.closeMappedRegion(direct);
    expect(regionMappings()).toEqual([]);
    await worker.closeMappedRegion(proxied);
  });

  it('share one memory with the chip: bytes written here are what the device reads, and back', async () => {
    const region = await worker.openMappedRegion(128, { signalCount: 2 });
    const info = await worker.mappedRegionInfo(region);
    const payload = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 7 + 1) & 0xff));
    await worker.mappedRegionDatacopyH2Region(region, 0, payload);
    await worker.mappedRegionNotify(region, 0, 5);
    await worker.launch('round-trip', [info.deviceDataPtr, info.deviceSignalPtr, 5, 64]);
    await worker.mappedRegionWait(region, 1, 5, 5_000_000);
    const out = await worker.mappedRegionDatacopyRegion2H(region, 64, 64);
    expect(Buffer.from(out)).toEqual(Buffer.from(payload.map((b, i) => b ^ ((5 + 3 * i) & 0xff))));
    await worker.synchronize();
  });

  it('keep every region rule of L2', async () => {
    const region = await worker.openMappedRegion(100, { signalCount: 2 });
    await expect(worker.mappedRegionDatacopyH2Region(region, 90, Buffer.alloc(11))).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(worker.mappedRegionDatacopyRegion2H(region, 2n ** 64n - 1n, 2)).rejects.toMatchObject({ code: 'EINVAL' });
    await worker.mappedRegionNotify(region, 0, 7);
    await worker.mappedRegionNotify(region, 0, 7);
    await expect(worker.mappedRegionNotify(region, 0, 6)).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('monotonic') });
    await expect(worker.mappedRegionNotify(region, 2, 1)).rejects.toMatchObject({ code: 'EINVAL' });
    await worker.mappedRegionWait(region, 0, 7, 0);
    await expect(worker.mappedRegionWait(region, 1, 1, 0)).rejects.toMatchObject({ code: 'EAGAIN' });
    const started = performance.now();
    await expect(worker.mappedRegionWait(region, 1, 1, 30_000)).rejects.toMatchObject({ code: 'EAGAIN' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(30);
    await worker.closeMappedRegion(region);
    await expect(worker.mappedRegionNotify(region, 0, 8)).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(worker.closeMappedRegion(region)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('a wait pending on a region being closed fails promptly with EINVAL, and so does one on a closing worker', async () => {
    const region = await worker.openMappedRegion(64, { signalCount: 1 });
    const pending = worker.mappedRegionWait(region, 0, 1, 60_000_000).catch((e: unknown) => e);
    await sleep(50);
    const closedAt = performance.now();
    await worker.closeMappedRegion(region);
    expect(await pending).toMatchObject({ code: 'EINVAL' });
    expect(performance.now() - closedAt).toBeLessThan(2000);
    const other = await worker.openMappedRegion(64, { signalCount: 1 });
    const onWorker = worker.mappedRegionWait(other, 0, 1, 60_000_000).catch((e: unknown) => e);
    await sleep(50);
    await worker.close();
    expect(await onWorker).toMatchObject({ code: 'EINVAL' });
  });

  it('a wait wakes when the device publishes', async () => {
    const region: MappedRegion = await worker.openMappedRegion(128, { signalCount: 2 });
    const info = await worker.mappedRegionInfo(region);
    // The kernel waits for signal 0 >= 9, then publishes signal 1 = 9: our wait must sleep, then wake.
    await worker.launch('round-trip', [info.deviceDataPtr, info.deviceSignalPtr, 9, 64]);
    const waiting = worker.mappedRegionWait(region, 1, 9, 10_000_000);
    await sleep(30);
    await worker.mappedRegionNotify(region, 0, 9);
    await waiting;
    await worker.synchronize();
  });
});

describe('closing a worker while direct regions are being opened', () => {
  it('leaves no mapping behind, whichever step each open had reached', async () => {
    for (let round = 0; round < 5; round++) {
      const worker = await createWorker({ level: 3, backend: '@simpler/hal-sim', deviceIds: [0], childStderr: 'pipe' });
      const opens = Array.from({ length: 20 }, () => worker.openMappedRegion(4096, { signalCount: 1 }).catch((e: unknown) => e));
      // Let some opens get as far as the share request before the worker closes under them.
      await sleep(round * 3);
      await worker.close();
      for (const outcome of await Promise.all(opens)) {
        if (!(outcome instanceof MappedRegion)) expect(outcome).toMatchObject({ code: 'EINVAL' });
      }
      expect(regionMappings()).toEqual([]);
      expect(regionFds()).toEqual([]);
    }
  });
});

describe('a direct region whose chip child dies', () => {
  it('fails every call with EIO, pending waits included, and the parent drops its mapping at once', async () => {
    const worker = await createWorker({ level: 3, backend: '@simpler/hal-sim', deviceIds: [0, 1], childStderr: 'pipe' });
    try {
      const region = await worker.openMappedRegion(4096, { signalCount: 1, workerId: 1 });
      const survivor = await worker.openMappedRegion(4096, { signalCount: 1, workerId: 0 });
      expect(region.access).toBe('direct');
      const pending = worker.mappedRegionWait(region, 0, 1, 60_000_000).catch((e: unknown) => e);
      await sleep(30);
      const pid = chipChildPid(1);
      process.kill(pid, 'SIGKILL');
      expect(await pending).toMatchObject({ code: 'EIO' });
      expect(await until(() => !processAlive(pid))).toBe(true);
      expect(regionMappings().length).toBe(1); // the survivor's
      await expect(worker.mappedRegionDatacopyH2Region(region, 0, Buffer.alloc(8))).rejects.toMatchObject({ code: 'EIO' });
      await expect(worker.mappedRegionDatacopyRegion2H(region, 0, 8)).rejects.toMatchObject({ code: 'EIO' });
      await expect(worker.mappedRegionNotify(region, 0, 1)).rejects.toMatchObject({ code: 'EIO' });
      await expect(worker.mappedRegionWait(region, 0, 0, 0)).rejects.toMatchObject({ code: 'EIO' });
      // The other chip keeps working.
      await worker.mappedRegionNotify(survivor, 0, 1);
      await worker.mappedRegionWait(survivor, 0, 1, 0);
    } finally {
      await worker.close();
    }
    expect(regionMappings()).toEqual([]);
  });
});

describe('regions of backends that cannot share their memory stay proxied at L3', () => {
  it("the simulator with SharedArrayBuffer memory: proxied by default, access 'direct' is ENOTSUP naming why", async () => {
    const worker = await createWorker({ level: 3, backend: '@simpler/hal-sim', backendOptions: { memory: 'sab' }, deviceIds: [0], childStderr: 'pipe' });
    try {
      const region = await worker.openMappedRegion(64, { signalCount: 1 });
      expect(region.access).toBe('proxied');
      await expect(worker.openMappedRegion(64, { access: 'direct' })).rejects.toMatchObject({ code: 'ENOTSUP', message: expect.stringContaining('cannot be shared') });
      await worker.mappedRegionNotify(region, 0, 2);
      await worker.mappedRegionWait(region, 0, 2, 0);
    } finally {
      await worker.close();
    }
  });

  (haveCompiler() ? it : it.skip)('Ascend (through the C driver double): proxied, and its bytes still travel', async () => {
    const worker = await createWorker({ level: 3, backend: '@simpler/hal-ascend', backendOptions: buildAscendDouble({}), deviceIds: [0], childStderr: 'pipe' });
    try {
      const region = await worker.openMappedRegion(256, { signalCount: 1 });
      expect(region.access).toBe('proxied');
      await worker.mappedRegionDatacopyH2Region(region, 8, Buffer.from('ascend'));
      expect(Buffer.from(await worker.mappedRegionDatacopyRegion2H(region, 8, 6)).toString()).toBe('ascend');
      await expect(worker.openMappedRegion(64, { access: 'direct' })).rejects.toMatchObject({ code: 'ENOTSUP' });
    } finally {
      await worker.close();
    }
  });
});

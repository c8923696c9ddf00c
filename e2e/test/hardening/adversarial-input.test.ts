import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { MappedRegion, Worker, createWorker } from '@simpler/region-core';
import { regionErrorProblem, settle, shmEntries } from './support/checks';
import { simBackend } from './support/sim';

// Reproductions of issue 11 (items 1, 3, 4, 11, 12), written the way an adversarial caller
// would try them, at both levels.

const PACKAGE_DIR = path.join(__dirname, '..', '..');

function newWorker(level: 2 | 3): Promise<Worker> {
  return level === 2
    ? simBackend().then((backend) => createWorker({ level: 2, backend }))
    : createWorker({ level: 3, backend: '@simpler/hal-sim', deviceIds: [0], childStderr: 'ignore' });
}

async function expectCode(run: () => Promise<unknown>, code: 'EINVAL'): Promise<Error> {
  const got = await settle(run);
  if (got.ok) throw new Error(`expected ${code}, the call succeeded`);
  expect(regionErrorProblem(got.error, code)).toBeUndefined();
  return got.error as Error;
}

// Run in its own process: before the fix, a lying byteLength at L3 ended the process with
// SIGABRT (`Assertion failed: Buffer::IsWithinBounds`) and left its /dev/shm segment behind.
const LYING_VIEW_SCRIPT = `
const { createWorker } = require('@simpler/region-core');
const level = Number(process.argv[1]);
const settle = async (f) => { try { await f(); return 'ok'; } catch (e) { return e.code || e.name + ': ' + e.message; } };
const lying = (view, claimed) => { Object.defineProperty(view, 'byteLength', { get: () => claimed }); return view; };
class Liar extends Uint8Array { get byteLength() { return 4096; } get byteOffset() { return 5; } }
(async () => {
  const backend = level === 2 ? await require('@simpler/hal-sim').createBackend({ deviceId: 0 }) : '@simpler/hal-sim';
  const w = await createWorker({ level, backend, deviceIds: [0], childStderr: level === 3 ? 'ignore' : undefined });
  const r = await w.openMappedRegion(8192);
  const out = {};
  out.bigLie = await settle(() => w.mappedRegionDatacopyH2Region(r, 0, lying(new Uint8Array(16).fill(7), 4096)));
  out.afterBigLie = [...(await w.mappedRegionDatacopyRegion2H(r, 0, 17))];
  out.smallLieAtEnd = await settle(() => w.mappedRegionDatacopyH2Region(r, 8188, lying(new Uint8Array(16).fill(9), 4)));
  out.smallLieFits = await settle(() => w.mappedRegionDatacopyH2Region(r, 100, lying(new Uint8Array(16).fill(9), 4)));
  out.afterSmallLie = [...(await w.mappedRegionDatacopyRegion2H(r, 100, 17))];
  out.subclass = await settle(() => w.mappedRegionDatacopyH2Region(r, 200, Liar.from([1, 2, 3])));
  out.afterSubclass = [...(await w.mappedRegionDatacopyRegion2H(r, 200, 4))];
  const dst = lying(new Uint8Array(16), 4096);
  out.into = await settle(() => w.mappedRegionDatacopyRegion2HInto(r, 0, dst));
  out.dst = [...dst];
  out.intoAtEnd = await settle(() => w.mappedRegionDatacopyRegion2HInto(r, 8188, lying(new Uint8Array(16), 4)));
  await w.close();
  console.log(JSON.stringify(out));
})().catch((e) => { console.log(JSON.stringify({ fatal: String(e && e.stack || e) })); process.exitCode = 1; });
`;

describe.each([2, 3] as const)('adversarial datacopy arguments at L%i', (level) => {
  it('a view whose byteLength lies (own getter or subclass) copies its real bytes or is EINVAL; the process survives', () => {
    const run = spawnSync(process.execPath, ['-e', LYING_VIEW_SCRIPT, String(level)], { cwd: PACKAGE_DIR, encoding: 'utf8', timeout: 60_000 });
    const failure = run.status === 0 ? undefined : run.stdout;
    expect({ status: run.status, signal: run.signal, stderr: run.stderr, failure }).toEqual({ status: 0, signal: null, stderr: '', failure: undefined });
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(out).toEqual({
      bigLie: 'ok',
      afterBigLie: [...new Array(16).fill(7), 0],
      smallLieAtEnd: 'EINVAL', // 16 real bytes do not fit in the last 4
      smallLieFits: 'ok',
      afterSmallLie: [...new Array(16).fill(9), 0], // all 16 real bytes, not the 4 claimed
      subclass: 'ok',
      afterSubclass: [1, 2, 3, 0],
      into: 'ok',
      dst: [...new Array(16).fill(7)],
      intoAtEnd: 'EINVAL',
    });
    expect(shmEntries(`simpler-hdmr-${run.pid}-`)).toEqual([]);
  });

  describe('in this process', () => {
    let worker: Worker;
    let region: MappedRegion;
    beforeAll(async () => {
      worker = await newWorker(level);
      region = await worker.openMappedRegion(4096);
    });
    afterAll(() => worker.close());

    it('a DataView over a detached buffer is EINVAL as a source and as a destination', async () => {
      const buffer = new ArrayBuffer(16);
      const view = new DataView(buffer);
      structuredClone(buffer, { transfer: [buffer] });
      await expectCode(() => worker.mappedRegionDatacopyH2Region(region, 0, view), 'EINVAL');
      await expectCode(() => worker.mappedRegionDatacopyRegion2HInto(region, 0, view), 'EINVAL');
    });

    it('a Proxy of a Uint8Array or of an ArrayBuffer is EINVAL, never a TypeError', async () => {
      const sources: unknown[] = [new Proxy(new Uint8Array(4), {}), new Proxy(new ArrayBuffer(4), {}), new Proxy(new DataView(new ArrayBuffer(4)), {})];
      for (const src of sources) await expectCode(() => worker.mappedRegionDatacopyH2Region(region, 0, src as Uint8Array), 'EINVAL');
      await expectCode(() => worker.mappedRegionDatacopyRegion2HInto(region, 0, new Proxy(new Uint8Array(4), {})), 'EINVAL');
    });

    it('small region2h results own their memory: out.buffer holds exactly their bytes', async () => {
      const other = await worker.openMappedRegion(64);
      try {
        const mine = Float64Array.from([1.5, -2.25]);
        await worker.mappedRegionDatacopyH2Region(region, 0, mine);
        await worker.mappedRegionDatacopyH2Region(other, 0, Float64Array.from([7, 7]));
        await worker.mappedRegionDatacopyRegion2H(other, 0, 16);
        const out = await worker.mappedRegionDatacopyRegion2H(region, 0, 16);
        expect(out.byteOffset).toBe(0);
        expect(out.buffer.byteLength).toBe(16);
        expect([...new Float64Array(out.buffer)]).toEqual([1.5, -2.25]);
      } finally {
        await worker.closeMappedRegion(other);
      }
    });

    it('workerId 0n names chip 0 at every call, as 0 does', async () => {
      const r = await worker.openMappedRegion(16, { workerId: 0n });
      const id = { workerId: 0n };
      await worker.mappedRegionInfo(r, id);
      await worker.mappedRegionDatacopyH2Region(r, 0, new Uint8Array([1]), id);
      await worker.mappedRegionDatacopyRegion2H(r, 0, 1, id);
      await worker.mappedRegionNotify(r, 0, 1, id);
      await worker.mappedRegionWait(r, 0, 1, 0, id);
      await worker.synchronize(id);
      expect(worker.platformOf(0n)).toBe('a2a3sim');
      await worker.closeMappedRegion(r, id);
      await expectCode(() => worker.mappedRegionInfo(region, { workerId: 1n }), 'EINVAL');
    });

    it('unknown keys in call options are EINVAL naming the key', async () => {
      const error = await expectCode(() => worker.mappedRegionNotify(region, 0, 1, { workerID: 0 } as never), 'EINVAL');
      expect(error.message).toContain('unknown option "workerID"');
      await expectCode(() => worker.openMappedRegion(16, { signalcount: 2 } as never), 'EINVAL');
      await expectCode(() => worker.synchronize({ workerid: 0 } as never), 'EINVAL');
    });
  });

  it('createWorker refuses a misspelt option, naming it and the known ones', async () => {
    const typo = level === 3 ? { tranport: 'shm' } : { waitTunning: {} };
    const got = await settle(() => createWorker({ level, backend: '@simpler/hal-sim', deviceIds: [0], ...typo } as never));
    if (got.ok) await got.value.close();
    expect(got.ok).toBe(false);
    const error = (got as { error: Error }).error;
    expect(regionErrorProblem(error, 'EINVAL')).toBeUndefined();
    expect(error.message).toContain(`unknown option "${Object.keys(typo)[0]}"; known options: level, backend`);
  });

  it('the simulator refuses a misspelt backendOptions key (in the chip child at L3)', async () => {
    const got = await settle(() => createWorker({ level, backend: '@simpler/hal-sim', deviceIds: [0], backendOptions: { guardbytes: 64 }, childStderr: level === 3 ? 'ignore' : undefined } as never));
    if (got.ok) await got.value.close();
    expect(got.ok).toBe(false);
    const error = (got as { error: Error }).error;
    expect(regionErrorProblem(error, 'EINVAL')).toBeUndefined();
    expect(error.message).toContain('@simpler/hal-sim backendOptions: unknown option "guardbytes"');
  });
});

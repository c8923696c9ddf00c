import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { MailboxCommand, SidebandOp } from '@simpler/abi';
import { simBackend as createBackend } from './support/sim';
import { DeviceContext, MappedRegion, Worker, createWorker } from '@simpler/region-core';
import { expectNoHostAddress, l3Mappings, ourSegments, regionErrorProblem, settle, shmEntries } from './support/checks';
import { RawChipChild, TestSegment, testPrefix } from './support/raw-chip-child';
import { packageDirOf } from '../support/workspace';

/** The token with its lowest bit flipped (`^` would truncate a 53-bit number to 32 bits). */
function flipLowBit(token: number): number {
  return token % 2 === 0 ? token + 1 : token - 1;
}

/** Variations of a real handle that a guessing or buggy peer might try. */
function forgeries(token: number): unknown[] {
  return [token + 1, token - 1, flipLowBit(token), token * 2, token + 2 ** 32, BigInt(token) + 1n, BigInt(token) + (1n << 53n), 1, 2, -token, token + 0.5, String(token)];
}

function expectEinval(run: () => unknown): void {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(regionErrorProblem(error, 'EINVAL')).toBeUndefined();
}

describe('security: handles', () => {
  it('are random, distinct, non-sequential 53-bit tokens; forged or incremented ones are EINVAL', async () => {
    const ctx = new DeviceContext(await createBackend({ deviceId: 0 }));
    try {
      const handles = Array.from({ length: 2000 }, () => ctx.open(64, 1));
      expect(new Set(handles).size).toBe(handles.length);
      const gaps = new Set(handles.slice(1).map((h, i) => h - handles[i]));
      expect(gaps.size).toBeGreaterThan(handles.length / 2);
      // Uniform over 2^53: nearly all have high bits set (a counter never would).
      expect(handles.filter((h) => h > 2 ** 40).length).toBeGreaterThan(handles.length * 0.9);
      const live = new Set(handles);
      for (const h of handles.slice(0, 50)) {
        for (const f of forgeries(h)) {
          if (typeof f === 'number' && live.has(f)) continue;
          expectEinval(() => ctx.notify(f, 0, 1));
          expectEinval(() => ctx.datacopyRegion2H(f, 0, 1));
          expectEinval(() => ctx.close(f));
        }
      }
      // A closed handle is dead for good, also as a bigint.
      const h = handles[0];
      ctx.close(h);
      expectEinval(() => ctx.close(h));
      expectEinval(() => ctx.info(BigInt(h)));
      // A handle from another context is EINVAL here.
      const other = new DeviceContext(await createBackend({ deviceId: 0 }));
      const foreign = other.open(64, 1);
      expectEinval(() => ctx.notify(foreign, 0, 1));
      await other.destroy();
    } finally {
      await ctx.destroy();
    }
  });

  it('at the chip child: an incremented or forged handle in a frame or a side-band header is EINVAL', async () => {
    const prefix = testPrefix();
    const child = new RawChipChild(prefix);
    const seg = new TestSegment(prefix);
    try {
      await child.ready();
      const h = await child.open(256, 1);
      for (const f of [h + 1, h - 1, flipLowBit(h), 1, 2 ** 53 - 1]) {
        const notify = await child.request((fr) => {
          fr.command = MailboxCommand.NOTIFY;
          fr.setArg(0, f);
          fr.setArg(2, 1);
        });
        expect(notify.error).toBe(-22);
        seg.prepare(SidebandOp.REGION2H, f, 0, 16);
        const r2h = await child.request((fr) => {
          fr.command = MailboxCommand.DATACOPY_REGION2H;
          fr.name = seg.name;
        });
        expect(r2h.error).toBe(-22);
      }
      await child.probe(h);
    } finally {
      seg.dispose();
      await child.shutdown();
    }
    expectNoHostAddress(child.stderr);
  });
});

/** Fills a whole region with non-zero bytes and raises every signal. */
async function dirty(worker: Worker, r: MappedRegion): Promise<void> {
  await worker.mappedRegionDatacopyH2Region(r, 0, Buffer.alloc(r.dataBytes, 0xa7));
  for (let id = 0; id < r.signalCount; id++) await worker.mappedRegionNotify(r, id, 0xfffffff0 + id);
}

async function expectPristine(worker: Worker, r: MappedRegion): Promise<void> {
  const bytes = await worker.mappedRegionDatacopyRegion2H(r, 0, r.dataBytes);
  expect(bytes.every((b) => b === 0)).toBe(true);
  for (let id = 0; id < r.signalCount; id++) {
    const probe = await settle(() => worker.mappedRegionWait(r, id, 1, 0));
    expect(regionErrorProblem(!probe.ok && probe.error, 'EAGAIN')).toBeUndefined();
  }
}

describe.each([2, 3] as const)('security: no stale data (level %i)', (level) => {
  it('a region opened after another was closed reads all zeros, data and signals', async () => {
    const worker =
      level === 2 ? await createWorker({ level: 2, backend: await createBackend({ deviceId: 0 }) }) : await createWorker({ level: 3, backend: '@simpler/hal-sim', deviceIds: [0] });
    try {
      for (const [size, signals] of [
        [4096, 2],
        [4096, 2],
        [100, 7],
        [1 << 20, 1],
        [1 << 20, 1],
      ]) {
        const r = await worker.openMappedRegion(size, { signalCount: signals });
        await expectPristine(worker, r);
        await dirty(worker, r);
        await worker.closeMappedRegion(r);
      }
    } finally {
      await worker.close();
    }
  });
});

describe('security: side-band segments', () => {
  it('over shared memory nothing is named: no /dev/shm entry, anonymous memfd mappings only, gone after close', async () => {
    const before = new Set(ourSegments());
    const worker = await createWorker({ level: 3, backend: '@simpler/hal-sim', deviceIds: [0, 1], transport: 'shm' });
    try {
      for (const workerId of [0, 1]) {
        const r = await worker.openMappedRegion(1 << 20, { workerId });
        await worker.mappedRegionDatacopyH2Region(r, 0, randomBytes(1 << 20));
        await worker.mappedRegionDatacopyRegion2H(r, 0, 1 << 20);
        await worker.mappedRegionInfo(r);
      }
      expect(ourSegments().filter((s) => !before.has(s))).toEqual([]);
      const maps = l3Mappings();
      expect(maps).toHaveLength(4);
      for (const line of maps) expect(line).toMatch(/\/memfd:simpler-l3-(control|window) \(deleted\)$/);
    } finally {
      await worker.close();
    }
    expect(l3Mappings()).toEqual([]);
  });

  it('the parent creates them 0600, owned by us, and removes them on close (pipe transport)', async () => {
    const before = new Set(ourSegments());
    const worker = await createWorker({ level: 3, backend: '@simpler/hal-sim', deviceIds: [0, 1], transport: 'pipe' });
    try {
      for (const workerId of [0, 1]) {
        const r = await worker.openMappedRegion(1 << 16, { workerId });
        await worker.mappedRegionDatacopyH2Region(r, 0, randomBytes(1 << 16));
        await worker.mappedRegionInfo(r);
      }
      const mine = ourSegments().filter((s) => !before.has(s));
      expect(mine.length).toBeGreaterThanOrEqual(2);
      for (const name of mine) {
        const st = statSync(path.join('/dev/shm', name));
        expect(st.isFile()).toBe(true);
        expect(st.mode & 0o777).toBe(0o600);
        expect(st.uid).toBe(process.getuid!());
        expect(name.length).toBeLessThanOrEqual(31);
        expect(name).toMatch(new RegExp(`^simpler-hdmr-${process.pid}-[0-9a-f]{8,}$`));
      }
    } finally {
      await worker.close();
    }
    expect(ourSegments().filter((s) => !before.has(s))).toEqual([]);
  });

  it("a child without --segment-prefix accepts only its parent's prefix", async () => {
    const child = new RawChipChild(undefined);
    const mine = new TestSegment(`simpler-hdmr-${process.pid}-`);
    const theirs = new TestSegment(`simpler-hdmr-${process.pid + 1}-`);
    try {
      await child.ready();
      const h = await child.open(64, 1);
      for (const [seg, error] of [
        [mine, 0],
        [theirs, -22],
      ] as const) {
        seg.prepare(SidebandOp.REGION2H, h, 0, 8);
        const reply = await child.request((f) => {
          f.command = MailboxCommand.DATACOPY_REGION2H;
          f.name = seg.name;
        });
        expect(reply.error).toBe(error);
      }
    } finally {
      mine.dispose();
      theirs.dispose();
      await child.shutdown();
    }
  });
});

describe('security: no host address in any output', () => {
  it('CLI JSON output and messages carry no host pointer (the simulator has none to leak)', () => {
    const bin = path.join(packageDirOf('@simpler/region-cli'), 'dist', 'bin.js');
    const runs = [
      ['inspect', '--json', '--write-hex', 'deadbeef', '--notify', '0:3'],
      ['roundtrip', '--json', '--iters', '20', '--data-bytes', '256'],
      ['roundtrip', '--json', '--iters', '20', '--data-bytes', '256', '--level', '3', '--device-ids', '0,1'],
      ['inspect', '--json', '--data-bytes', '0'],
      ['doctor'],
    ];
    for (const [i, args] of runs.entries()) {
      const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, SIMPLER_REGION_BACKEND: '' } });
      if (i < 3) expect({ args, status: r.status }).toEqual({ args, status: 0 });
      expectNoHostAddress(r.stdout);
      expectNoHostAddress(r.stderr);
      if (r.status === 0 && args.includes('inspect')) {
        const json = JSON.parse(r.stdout) as unknown;
        const text = JSON.stringify(json);
        expect(text).not.toMatch(/"host(Data|Signal)Ptr":"?[1-9]/);
      }
    }
  });

  it('nothing is left in /dev/shm by this file', () => {
    expect(shmEntries(`simpler-hdmr-${process.pid}-`)).toEqual([]);
  });
});

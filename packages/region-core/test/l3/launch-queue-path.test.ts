// The L3 launch path (DirectLauncher, docs/l3-protocol.md section 11) with real chip children:
// after the first launch the parent writes launches into the chip's launch queue itself, and
// nothing a caller can observe changes: kernels run, in launch order, with the arguments given,
// synchronize waits for them, and errors are those of the path through the child.
import { createWorker } from '../../src/worker/create-worker';
import type { MappedRegion } from '../../src/worker/mapped-region';
import type { Worker } from '../../src/worker/worker';
import { DirectChip, startDirectChip } from './helpers/direct-chip';
import { LaunchKernels, recordLogBytes, recordedEntries, writeLaunchKernels } from './helpers/launch-kernels';
import { launcherOf, queueDescriptors, queueMappings, settledPath } from './helpers/launch-queue-probes';
import { eventually } from './helpers/process-state';
import { writeTestBackend } from './helpers/test-backend';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let kernels: LaunchKernels;
beforeAll(() => {
  kernels = writeLaunchKernels();
});
afterAll(() => kernels.remove());

/** Enough registered kernels that the last one is past the queue's 63-entry kernel table. */
const FILLERS = 60;
/** Listed in the kernel table (id 1): the launcher can queue it. */
const LISTED = 'rec';
/** Registered as id 63, beyond the table: every launch of it goes through the child. */
const UNLISTED = 'rec-unlisted';

function simOptions(): Record<string, unknown> {
  // Ids follow this order: round-trip 0, rec 1, exit 2, fillers 3..62, rec-unlisted 63.
  const table: Record<string, string> = { [LISTED]: kernels.record, exit: kernels.exit };
  for (let i = 0; i < FILLERS; i++) table[`filler-${i}`] = kernels.record;
  table[UNLISTED] = kernels.record;
  return { memory: 'memfd', kernels: table };
}

/** A direct region holding a record log, and its device address. */
async function openLog(worker: Worker, entries: number): Promise<{ region: MappedRegion; at: bigint }> {
  const region = await worker.openMappedRegion(recordLogBytes(entries), { signalCount: 1 });
  return { region, at: (await worker.mappedRegionInfo(region)).deviceDataPtr };
}

async function entriesOf(worker: Worker, log: MappedRegion, entries: number): Promise<{ tag: number; argc: number }[]> {
  return recordedEntries(await worker.mappedRegionDatacopyRegion2H(log, 0, recordLogBytes(entries)));
}

describe('launches of an L3 simulator chip with memfd memory', () => {
  let chip: DirectChip;
  let worker: Worker;
  beforeEach(async () => {
    chip = await startDirectChip({ backendOptions: simOptions() });
    worker = chip.worker;
  });
  afterEach(async () => {
    await worker.close();
    expect(queueMappings()).toEqual([]);
    expect(queueDescriptors()).toEqual([]);
  });

  it('go through the queue after the first one: round trips verify their bytes, and synchronize waits for a queued kernel', async () => {
    const launcher = launcherOf(chip.endpoint);
    expect(launcher.launchPath).toBe('unknown');
    const region = await worker.openMappedRegion(128, { signalCount: 2 });
    expect(region.access).toBe('direct');
    const info = await worker.mappedRegionInfo(region);
    const roundTrip = async (seq: number): Promise<void> => {
      const payload = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 13 + seq) & 0xff));
      await worker.mappedRegionDatacopyH2Region(region, 0, payload);
      await worker.mappedRegionNotify(region, 0, seq);
      await worker.launch('round-trip', [info.deviceDataPtr, info.deviceSignalPtr, seq, 64]);
      await worker.mappedRegionWait(region, 1, seq, 10_000_000);
      const out = await worker.mappedRegionDatacopyRegion2H(region, 64, 64);
      expect(Buffer.from(out)).toEqual(Buffer.from(payload.map((b, i) => b ^ ((seq + 3 * i) & 0xff))));
    };
    await roundTrip(1);
    expect(await settledPath(chip.endpoint)).toBe('queue');
    expect(queueMappings()).toHaveLength(1);
    // The parent keeps no descriptor of the queue: the mapping is all it needs.
    expect(queueDescriptors()).toEqual([]);
    for (let seq = 2; seq <= 40; seq++) await roundTrip(seq);
    expect(chip.childLaunches).toEqual(['round-trip']);

    // A queued kernel that cannot finish until signal 0 reaches 100: synchronize must wait for it.
    await worker.mappedRegionDatacopyH2Region(region, 0, Buffer.alloc(64, 0x5a));
    await worker.launch('round-trip', [info.deviceDataPtr, info.deviceSignalPtr, 100, 64]);
    expect(chip.childLaunches).toHaveLength(1);
    let synchronized = false;
    const synchronizing = worker.synchronize().then(() => (synchronized = true));
    await sleep(100);
    expect(synchronized).toBe(false);
    await worker.mappedRegionNotify(region, 0, 100);
    await synchronizing;
    const out = await worker.mappedRegionDatacopyRegion2H(region, 64, 64);
    expect(Buffer.from(out)).toEqual(Buffer.from(Array.from({ length: 64 }, (_, i) => 0x5a ^ ((100 + 3 * i) & 0xff))));
  });

  it('a kernel gets four arguments, unused ones 0, whichever path carries its launch (docs/l3-protocol.md, launch arity)', async () => {
    const { region: log, at } = await openLog(worker, 4);
    await worker.launch(LISTED, [at, 1]);
    expect(await settledPath(chip.endpoint)).toBe('queue');
    await worker.launch(LISTED, [at, 2]);
    await worker.launch(UNLISTED, [at, 3]);
    expect(chip.childLaunches).toEqual([LISTED, UNLISTED]);
    await worker.synchronize();
    expect(await entriesOf(worker, log, 4)).toEqual([
      { tag: 1, argc: 4 },
      { tag: 2, argc: 4 },
      { tag: 3, argc: 4 },
    ]);
    // At the endpoint too, more than four is refused on either path, as the child refuses it.
    await expect(chip.endpoint.launch(LISTED, [at, 4n, 0n, 0n, 0n])).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('at most 4 args') });
    await worker.synchronize();
    expect(await entriesOf(worker, log, 4)).toHaveLength(3);
  });

  /** Launches tagged `from..to` without awaiting them (unlisted when `unlisted(tag)`); `pause(tag)` may let the event loop run. */
  async function fire(at: bigint, from: number, to: number, unlisted: (tag: number) => boolean, pause: (tag: number, last: Promise<void>) => Promise<void> | undefined): Promise<Promise<void>[]> {
    const pending: Promise<void>[] = [];
    for (let tag = from; tag <= to; tag++) {
      const launched = worker.launch(unlisted(tag) ? UNLISTED : LISTED, [at, tag]);
      pending.push(launched);
      await pause(tag, launched);
    }
    return pending;
  }

  /** Two in seven launches are of the unlisted kernel (they always go through the child). */
  const twoInSeven = (tag: number): boolean => tag % 7 === 3 || tag % 7 === 4;
  /** Now and then the launches sent through the child so far are answered, so the listed ones that follow may go through the queue again. */
  const answeredNowAndThen = (tag: number, last: Promise<void>): Promise<void> | undefined => (tag % 97 === 0 ? last : undefined);

  async function expectLaunchOrder(log: MappedRegion, launches: number, listed: number): Promise<void> {
    await worker.synchronize();
    const listedThroughChild = chip.childLaunches.filter((n) => n === LISTED).length - 1;
    // Both paths carried listed launches (else this would not test the order across them).
    expect(listedThroughChild).toBeGreaterThan(0);
    expect(listedThroughChild).toBeLessThan(listed);
    const entries = await entriesOf(worker, log, launches + 1);
    expect(entries.map((e) => e.tag)).toEqual(Array.from({ length: launches + 1 }, (_, i) => i));
  }

  it('many unawaited launches across both paths run in launch order', async () => {
    const launches = 1600;
    const { region: log, at } = await openLog(worker, launches + 1);
    await worker.launch(LISTED, [at, 0]);
    expect(await settledPath(chip.endpoint)).toBe('queue');
    const pending = await fire(at, 1, launches, twoInSeven, answeredNowAndThen);
    await Promise.all(pending);
    const listed = Array.from({ length: launches }, (_, i) => i + 1).filter((t) => !twoInSeven(t)).length;
    await expectLaunchOrder(log, launches, listed);
  });

  it('launch order holds across a full ring, and while the child holds launches outside it', async () => {
    const held = 4000;
    const after = 1500;
    const launches = held + after;
    const { region: log, at } = await openLog(worker, launches + 1);
    await worker.launch(LISTED, [at, 0]);
    expect(await settledPath(chip.endpoint)).toBe('queue');
    // The device sits in this kernel until signal 0 of the gate reaches 1: the ring fills up, then
    // launches through the child are held there, outside the ring.
    const gate = await worker.openMappedRegion(128, { signalCount: 2 });
    const g = await worker.mappedRegionInfo(gate);
    await worker.launch('round-trip', [g.deviceDataPtr, g.deviceSignalPtr, 1, 64]);
    const pending = await fire(at, 1, held, twoInSeven, answeredNowAndThen);
    await pending[pending.length - 1];
    // Room appears in the ring while the child still holds launches: a listed launch must not
    // take that room ahead of them, though none sent through the child is unanswered (each is
    // awaited here, so that is so at every launch).
    await worker.mappedRegionNotify(gate, 0, 1);
    pending.push(...(await fire(at, held + 1, launches, () => false, (_tag, last) => last)));
    await Promise.all(pending);
    const listed = Array.from({ length: launches }, (_, i) => i + 1).filter((t) => t > held || !twoInSeven(t)).length;
    await expectLaunchOrder(log, launches, listed);
  });

  it('a launch never overtakes an earlier request that is still unanswered (a proxied h2region the kernel reads)', async () => {
    const { region: log, at } = await openLog(worker, 1);
    await worker.launch(LISTED, [at, 0]);
    expect(await settledPath(chip.endpoint)).toBe('queue');
    const entries = 8;
    const proxied = await worker.openMappedRegion(recordLogBytes(entries), { signalCount: 1, access: 'proxied' });
    const p = (await worker.mappedRegionInfo(proxied)).deviceDataPtr;
    for (let round = 1; round <= 20; round++) {
      // The h2region sets the log's count to 5; the kernel, launched right after without
      // awaiting it, appends at the count it reads. Run in call order, it appends entry 5.
      const header = new Uint8Array(recordLogBytes(entries));
      header[0] = 5;
      const copied = worker.mappedRegionDatacopyH2Region(proxied, 0, header);
      const launched = worker.launch(LISTED, [p, round]);
      await Promise.all([copied, launched]);
      await worker.synchronize();
      const got = recordedEntries(await worker.mappedRegionDatacopyRegion2H(proxied, 0, recordLogBytes(entries)));
      expect(got).toHaveLength(6);
      expect(got[5]).toEqual({ tag: round, argc: 4 });
    }
    await worker.closeMappedRegion(proxied);
    await worker.closeMappedRegion(log);
  });

  it('an unknown kernel is EINVAL before and after the queue is mapped; more than four arguments is EINVAL at the Worker', async () => {
    const launcher = launcherOf(chip.endpoint);
    const { region: log, at } = await openLog(worker, 4);
    const unknown = { code: 'EINVAL', message: expect.stringContaining("unknown kernel 'no-such-kernel'") };
    const tooMany = { code: 'EINVAL', message: expect.stringContaining('at most 4 args, got 5') };
    await expect(worker.launch('no-such-kernel', [])).rejects.toMatchObject(unknown);
    await expect(worker.launch(LISTED, [at, 1, 2, 3, 4])).rejects.toMatchObject(tooMany);
    // Only a launch that went through asks for the queue.
    expect(launcher.launchPath).toBe('unknown');
    await worker.launch(LISTED, [at, 1]);
    expect(await settledPath(chip.endpoint)).toBe('queue');
    await expect(worker.launch('no-such-kernel', [])).rejects.toMatchObject(unknown);
    await expect(worker.launch(LISTED, [at, 2, 3, 4, 5])).rejects.toMatchObject(tooMany);
    expect(chip.childLaunches).toEqual(['no-such-kernel', LISTED, 'no-such-kernel']);
    await worker.synchronize();
    expect(await entriesOf(worker, log, 4)).toEqual([{ tag: 1, argc: 4 }]);
  });

  it('after the chip child is SIGKILLed, the queue is unmapped and launches are EIO', async () => {
    const { at } = await openLog(worker, 4);
    await worker.launch(LISTED, [at, 1]);
    expect(await settledPath(chip.endpoint)).toBe('queue');
    expect(queueMappings()).toHaveLength(1);
    process.kill(chip.endpoint.chip.pid!, 'SIGKILL');
    expect(await eventually(() => chip.endpoint.chip.lost !== undefined, 10_000)).toBe(true);
    expect(queueMappings()).toEqual([]);
    expect(launcherOf(chip.endpoint).launchPath).toBe('child');
    const lost = { code: 'EIO', message: expect.stringMatching(/chip child \(pid \d+\).*SIGKILL/) };
    await expect(worker.launch(LISTED, [at, 2])).rejects.toMatchObject(lost);
    await expect(worker.launch('round-trip', [0, 0, 0, 0])).rejects.toMatchObject(lost);
    await expect(worker.synchronize()).rejects.toMatchObject({ code: 'EIO' });
    expect(queueDescriptors()).toEqual([]);
  });

  it('after a kernel ends the device thread, launches are EIO (no synchronize needed to learn it), and synchronize too', async () => {
    const { at } = await openLog(worker, 4);
    await worker.launch(LISTED, [at, 1]);
    expect(await settledPath(chip.endpoint)).toBe('queue');
    await worker.launch('exit', []);
    expect(chip.childLaunches).toEqual([LISTED]);
    // Launches written before the chip noticed resolve; once it has (the queue is closed), each is EIO.
    let error: unknown;
    for (const end = Date.now() + 20_000; error === undefined && Date.now() < end; await sleep(20)) {
      error = await worker.launch(LISTED, [at, 2]).then(
        () => undefined,
        (e: unknown) => e,
      );
    }
    const gone = { code: 'EIO', message: expect.stringContaining('device thread exited with code 7') };
    expect(error).toMatchObject(gone);
    await expect(worker.launch(LISTED, [at, 3])).rejects.toMatchObject(gone);
    await expect(worker.launch('no-such-kernel', [])).rejects.toMatchObject(gone);
    await expect(worker.synchronize()).rejects.toMatchObject(gone);
    // The chip child itself lives on and answers.
    expect(chip.endpoint.chip.lost).toBeUndefined();
    await expect(worker.launch(LISTED, [at, 4])).rejects.toMatchObject(gone);
  });
});

describe('chips whose backend has no shareable launch queue keep launching through the child', () => {
  it("the simulator with memory 'sab': round trips work, every launch a request to the child, nothing mapped", async () => {
    const { worker, endpoint, childLaunches } = await startDirectChip({ backendOptions: { memory: 'sab' } });
    try {
      const region = await worker.openMappedRegion(128, { signalCount: 2 });
      expect(region.access).toBe('proxied');
      const info = await worker.mappedRegionInfo(region);
      for (let seq = 1; seq <= 5; seq++) {
        const payload = Buffer.alloc(32, seq);
        await worker.mappedRegionDatacopyH2Region(region, 0, payload);
        await worker.mappedRegionNotify(region, 0, seq);
        await worker.launch('round-trip', [info.deviceDataPtr, info.deviceSignalPtr, seq, 32]);
        if (seq === 1) expect(await settledPath(endpoint)).toBe('child');
        await worker.mappedRegionWait(region, 1, seq, 10_000_000);
        const out = await worker.mappedRegionDatacopyRegion2H(region, 32, 32);
        expect(Buffer.from(out)).toEqual(Buffer.from(payload.map((b, i) => b ^ ((seq + 3 * i) & 0xff))));
      }
      await worker.synchronize();
      expect(childLaunches).toHaveLength(5);
      expect(launcherOf(endpoint).launchPath).toBe('child');
      expect(queueMappings()).toEqual([]);
    } finally {
      await worker.close();
    }
  });

  it('a backend without the hook (the SharedArrayBuffer test backend): its kernels run, launches stay with the child', async () => {
    const backend = writeTestBackend();
    const { worker, endpoint, childLaunches } = await startDirectChip({ backend: backend.file });
    try {
      const region = await worker.openMappedRegion(64, { signalCount: 1 });
      const { deviceDataPtr } = await worker.mappedRegionInfo(region);
      await worker.launch('store-args', [deviceDataPtr, 1, 2, 3]);
      expect(await settledPath(endpoint)).toBe('child');
      await worker.launch('store-args', [deviceDataPtr + 24n, 4, 5, 6]);
      await worker.synchronize();
      const words = new BigUint64Array(Uint8Array.from(await worker.mappedRegionDatacopyRegion2H(region, 0, 48)).buffer);
      expect([...words]).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
      expect(childLaunches).toEqual(['store-args', 'store-args']);
    } finally {
      await worker.close();
      backend.remove();
    }
  });

  it('the stub backend: every launch is ENOTSUP and the queue is never asked for', async () => {
    const { worker, endpoint, childLaunches } = await startDirectChip({ backend: '@simpler/hal-stub' });
    try {
      for (let i = 0; i < 2; i++) await expect(worker.launch('round-trip', [0, 0, 0, 0])).rejects.toMatchObject({ code: 'ENOTSUP' });
      expect(launcherOf(endpoint).launchPath).toBe('unknown');
      expect(childLaunches).toHaveLength(2);
      expect(queueMappings()).toEqual([]);
    } finally {
      await worker.close();
    }
  });
});

describe('closing a level-3 worker (createWorker)', () => {
  it('leaves no launch-queue mapping and no descriptor, also when it closes while a queue is being mapped', async () => {
    const worker = await createWorker({ level: 3, backend: '@simpler/hal-sim', deviceIds: [0, 1], childStderr: 'ignore' });
    for (const workerId of [0, 1]) {
      const region = await worker.openMappedRegion(128, { signalCount: 2, workerId });
      const info = await worker.mappedRegionInfo(region);
      for (let seq = 1; seq <= 2; seq++) {
        await worker.mappedRegionNotify(region, 0, seq);
        await worker.launch('round-trip', [info.deviceDataPtr, info.deviceSignalPtr, seq, 64], { workerId });
        await worker.mappedRegionWait(region, 1, seq, 10_000_000);
      }
    }
    expect(await eventually(() => queueMappings().length === 2, 10_000)).toBe(true);
    expect(queueDescriptors()).toEqual([]);
    await worker.close();
    expect(queueMappings()).toEqual([]);
    expect(queueDescriptors()).toEqual([]);

    for (let round = 0; round < 5; round++) {
      const w = await createWorker({ level: 3, backend: '@simpler/hal-sim', deviceIds: [0], childStderr: 'ignore' });
      const region = await w.openMappedRegion(128, { signalCount: 2 });
      const info = await w.mappedRegionInfo(region);
      await w.mappedRegionNotify(region, 0, 1);
      await w.launch('round-trip', [info.deviceDataPtr, info.deviceSignalPtr, 1, 64]);
      // The queue is being asked for (or mapped already, or about to be) as the worker closes.
      if (round > 0) await sleep(round - 1);
      await w.close();
      expect(queueMappings()).toEqual([]);
      expect(queueDescriptors()).toEqual([]);
    }
    // A reply to the queue request that arrives after the close must not map it either.
    await sleep(200);
    expect(queueMappings()).toEqual([]);
  });
});

import {
  DeviceContext,
  Endpoint,
  EndpointInfo,
  InvalidArgumentError,
  LocalEndpoint,
  MappedRegion,
  WaitTimeoutError,
  Worker,
  createWorker,
} from '../src';
import { createTestBackend, dataOffsetOf } from './support/recording-backend';

/** An endpoint that records every request that crosses the seam and forwards it. */
class SpyEndpoint implements Endpoint {
  readonly requests: string[] = [];
  readonly platform = 'test-shared';
  private readonly inner: LocalEndpoint;
  constructor(readonly workerId: number) {
    this.inner = new LocalEndpoint(workerId, new DeviceContext(createTestBackend({ withKernels: true }).backend));
  }
  private log(name: string): void {
    this.requests.push(name);
  }
  open(a: number, b: number, c: number): Promise<number> {
    this.log('open');
    return this.inner.open(a, b, c);
  }
  close(h: number): Promise<void> {
    this.log('close');
    return this.inner.close(h);
  }
  info(h: number): Promise<EndpointInfo> {
    this.log('info');
    return this.inner.info(h);
  }
  h2region(h: number, o: number, s: Uint8Array): Promise<void> {
    this.log('h2region');
    return this.inner.h2region(h, o, s);
  }
  region2h(h: number, o: number, n: number): Promise<Uint8Array> {
    this.log('region2h');
    return this.inner.region2h(h, o, n);
  }
  region2hInto(h: number, o: number, d: Uint8Array): Promise<void> {
    this.log('region2hInto');
    return this.inner.region2hInto(h, o, d);
  }
  notify(h: number, s: number, v: number): Promise<void> {
    this.log('notify');
    return this.inner.notify(h, s, v);
  }
  wait(h: number, s: number, t: number, u: number): Promise<void> {
    this.log('wait');
    return this.inner.wait(h, s, t, u);
  }
  launch(k: string, a: readonly bigint[]): Promise<void> {
    this.log('launch');
    return this.inner.launch(k, a);
  }
  synchronize(): Promise<void> {
    this.log('synchronize');
    return this.inner.synchronize();
  }
  shutdown(): Promise<void> {
    this.log('shutdown');
    return this.inner.shutdown();
  }
}

/** A Uint8Array whose own byteLength getter claims `claimed`. */
function lyingLength(view: Uint8Array, claimed: number): Uint8Array {
  Object.defineProperty(view, 'byteLength', { get: () => claimed });
  return view;
}

function detachedDataView(): DataView {
  const buffer = new ArrayBuffer(8);
  const view = new DataView(buffer);
  structuredClone(buffer, { transfer: [buffer] });
  return view;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('createWorker at level 2 with an injected backend', () => {
  it('opens, copies, signals, waits and closes (spec 10 example)', async () => {
    const t = createTestBackend({ withKernels: true, deviceBase: 0x2000_0000n });
    const worker = await createWorker({ level: 2, backend: t.backend });
    expect(worker.level).toBe(2);
    expect(worker.workerIds).toEqual([0]);
    expect(worker.platformOf()).toBe('test-shared');
    expect(worker.platformOf(0)).toBe('test-shared');
    expect(() => worker.platformOf(7)).toThrow(InvalidArgumentError);
    const region = await worker.openMappedRegion(32, { signalCount: 2, flags: 0, workerId: 0 });
    expect(region).toBeInstanceOf(MappedRegion);
    expect(typeof region.handle).toBe('bigint');
    expect(region.handle).not.toBe(0n);
    expect(region).toMatchObject({ workerId: 0, dataBytes: 32, signalCount: 2, flags: 0, closed: false });

    const info = await worker.mappedRegionInfo(region);
    expect(info).toEqual({
      hostDataPtr: 0n,
      deviceDataPtr: 0x2000_0000n + BigInt(dataOffsetOf(2)),
      hostSignalPtr: 0n,
      deviceSignalPtr: 0x2000_0000n + 64n,
      dataBytes: 32,
      signalCount: 2,
      totalBytes: dataOffsetOf(2) + 64,
      flags: 0,
    });

    await worker.mappedRegionDatacopyH2Region(region, 4, new Uint8Array([1, 2, 3]));
    expect([...(await worker.mappedRegionDatacopyRegion2H(region, 3, 5))]).toEqual([0, 1, 2, 3, 0]);
    // Copy-into honours the view's window and leaves the bytes around it alone.
    const backing = new Uint8Array(8).fill(0xee);
    await worker.mappedRegionDatacopyRegion2HInto(region, 4, new DataView(backing.buffer, 2, 3));
    expect([...backing]).toEqual([0xee, 0xee, 1, 2, 3, 0xee, 0xee, 0xee]);
    await expect(worker.mappedRegionDatacopyRegion2HInto(region, 30, new Uint8Array(3))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(worker.mappedRegionDatacopyRegion2HInto(region, 0, 'abc' as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await worker.mappedRegionNotify(region, 0, 1);
    await worker.mappedRegionWait(region, 0, 1, 1000);
    await expect(worker.mappedRegionWait(region, 1, 1, 1000)).rejects.toBeInstanceOf(WaitTimeoutError);
    await worker.launch('round-trip', [info.deviceDataPtr, info.deviceSignalPtr, 1, 16], { workerId: 0 });
    await worker.synchronize({ workerId: 0 });
    expect(t.calls.find((c) => c.op === 'launch')?.args).toEqual([info.deviceDataPtr, info.deviceSignalPtr, 1n, 16n]);

    await worker.closeMappedRegion(region);
    expect(region.closed).toBe(true);
    expect(t.allocations[0].released).toBe(1);
    await worker.close();
    expect(t.destroyed).toBe(1);
  });

  it('defaults signalCount to 1 and takes the device id from the backend instance', async () => {
    const t = createTestBackend();
    (t.backend as { deviceId: number }).deviceId = 3;
    const worker = await createWorker({ backend: t.backend });
    expect(worker.workerIds).toEqual([3]);
    const region = await worker.openMappedRegion(8n);
    expect(region).toMatchObject({ workerId: 3, signalCount: 1, dataBytes: 8 });
    await worker.close();
  });

  it('rejects a deviceId that disagrees with the backend instance, and destroys the backend', async () => {
    const t = createTestBackend();
    await expect(createWorker({ backend: t.backend, deviceId: 5 })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(t.destroyed).toBe(1);
  });

  it('rejects unknown levels and hands level 3 to the chip-child factory', async () => {
    await expect(createWorker({ level: 4 as never, backend: createTestBackend().backend })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(createWorker(null as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    // An in-process instance cannot reach a chip child: the L3 factory refuses it before spawning.
    const t = createTestBackend();
    await expect(createWorker({ level: 3, backend: t.backend, deviceIds: [0] })).rejects.toThrow(/level-3 worker needs the backend as a module name/);
    expect(t.calls).toEqual([]);
  });
});

describe('Worker argument and ownership rules (checked before any request is sent)', () => {
  let spy0: SpyEndpoint;
  let spy1: SpyEndpoint;
  let worker: Worker;
  let region: MappedRegion;

  beforeEach(async () => {
    spy0 = new SpyEndpoint(0);
    spy1 = new SpyEndpoint(1);
    worker = new Worker(3, [spy0, spy1]);
    region = await worker.openMappedRegion(16, { signalCount: 2, workerId: 1 });
    spy0.requests.length = 0;
    spy1.requests.length = 0;
  });
  afterEach(() => worker.close());

  const sent = (): string[] => [...spy0.requests, ...spy1.requests];

  it('routes region calls to the region worker and defaults other calls to the first id', async () => {
    await worker.mappedRegionNotify(region, 0, 1);
    await worker.synchronize();
    expect(spy1.requests).toEqual(['notify']);
    expect(spy0.requests).toEqual(['synchronize']);
  });

  it.each<[string, (w: Worker, r: MappedRegion) => Promise<unknown>]>([
    ['info with a mismatched workerId', (w, r) => w.mappedRegionInfo(r, { workerId: 0 })],
    ['h2region with a mismatched workerId', (w, r) => w.mappedRegionDatacopyH2Region(r, 0, new Uint8Array(1), { workerId: 0 })],
    ['region2h with a mismatched workerId', (w, r) => w.mappedRegionDatacopyRegion2H(r, 0, 1, { workerId: 0 })],
    ['notify with a mismatched workerId', (w, r) => w.mappedRegionNotify(r, 0, 1, { workerId: 0 })],
    ['wait with a mismatched workerId', (w, r) => w.mappedRegionWait(r, 0, 0, 0, { workerId: 0 })],
    ['close with a mismatched workerId', (w, r) => w.closeMappedRegion(r, { workerId: 0 })],
    ['close with a string workerId', (w, r) => w.closeMappedRegion(r, { workerId: '1' as never })],
    ['h2region past the end', (w, r) => w.mappedRegionDatacopyH2Region(r, 16, new Uint8Array(1))],
    ['h2region from a string', (w, r) => w.mappedRegionDatacopyH2Region(r, 0, 'text' as never)],
    ['h2region at offset -1', (w, r) => w.mappedRegionDatacopyH2Region(r, -1, new Uint8Array(1))],
    ['region2h nbytes NaN', (w, r) => w.mappedRegionDatacopyRegion2H(r, 0, NaN)],
    ['region2h one past the end', (w, r) => w.mappedRegionDatacopyRegion2H(r, 17, 0)],
    ['notify on signal 2 of 2', (w, r) => w.mappedRegionNotify(r, 2, 1)],
    ['notify value 2^32', (w, r) => w.mappedRegionNotify(r, 0, 2 ** 32)],
    ['wait target 1.5', (w, r) => w.mappedRegionWait(r, 0, 1.5, 0)],
    ['wait timeout -1', (w, r) => w.mappedRegionWait(r, 0, 1, -1)],
    ['a non-region', (w) => w.mappedRegionInfo({ handle: 1n, workerId: 1 } as never)],
    ['openMappedRegion with flags 1', (w) => w.openMappedRegion(16, { flags: 1 })],
    ['openMappedRegion with 0 bytes', (w) => w.openMappedRegion(0)],
    ['openMappedRegion with signalCount 0', (w) => w.openMappedRegion(16, { signalCount: 0 })],
    ['openMappedRegion on an unknown worker id', (w) => w.openMappedRegion(16, { workerId: 7 })],
    ['launch with a too long kernel name', (w) => w.launch('k'.repeat(32), [])],
    ['launch with a non-ASCII kernel name', (w) => w.launch('kérnel', [])],
    ['launch with 5 args', (w) => w.launch('k', [1, 2, 3, 4, 5])],
    ['launch with a negative arg', (w) => w.launch('k', [-1])],
    ['synchronize on an unknown worker id', (w) => w.synchronize({ workerId: 9 })],
    ['info with a misspelt option', (w, r) => w.mappedRegionInfo(r, { workerID: 1 } as never)],
    ['h2region with an unknown option', (w, r) => w.mappedRegionDatacopyH2Region(r, 0, new Uint8Array(1), { workerId: 1, sync: true } as never)],
    ['region2h with an unknown option', (w, r) => w.mappedRegionDatacopyRegion2H(r, 0, 1, { copy: false } as never)],
    ['region2hInto with an unknown option', (w, r) => w.mappedRegionDatacopyRegion2HInto(r, 0, new Uint8Array(1), { x: 1 } as never)],
    ['notify with an unknown option', (w, r) => w.mappedRegionNotify(r, 0, 1, { workerid: 1 } as never)],
    ['wait with an unknown option', (w, r) => w.mappedRegionWait(r, 0, 0, 0, { timeoutMs: 5 } as never)],
    ['close with an unknown option', (w, r) => w.closeMappedRegion(r, { force: true } as never)],
    ['openMappedRegion with an unknown option', (w) => w.openMappedRegion(16, { signalcount: 2 } as never)],
    ['launch with an unknown option', (w) => w.launch('round-trip', [], { stream: 1 } as never)],
    ['synchronize with an unknown option', (w) => w.synchronize({ timeoutMs: 1 } as never)],
    ['options as an array', (w, r) => w.mappedRegionNotify(r, 0, 1, [] as never)],
    ['a workerId of 2^32 as a bigint', (w, r) => w.mappedRegionNotify(r, 0, 1, { workerId: 2n ** 32n + 1n })],
    ['a mismatched bigint workerId', (w, r) => w.mappedRegionNotify(r, 0, 1, { workerId: 0n })],
    ['h2region from a lying view that does not fit', (w, r) => w.mappedRegionDatacopyH2Region(r, 12, lyingLength(new Uint8Array(8), 4))],
    ['h2region from a Proxy of a Uint8Array', (w, r) => w.mappedRegionDatacopyH2Region(r, 0, new Proxy(new Uint8Array(1), {}))],
    ['h2region from a DataView over a detached buffer', (w, r) => w.mappedRegionDatacopyH2Region(r, 0, detachedDataView())],
    ['region2hInto a DataView over a detached buffer', (w, r) => w.mappedRegionDatacopyRegion2HInto(r, 0, detachedDataView())],
    ['region2hInto a Proxy of a Uint8Array', (w, r) => w.mappedRegionDatacopyRegion2HInto(r, 0, new Proxy(new Uint8Array(1), {}))],
  ])('%s is EINVAL and sends nothing', async (_label, call) => {
    const error = await rejection(call(worker, region));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(sent()).toEqual([]);
  });

  it('unknown option keys are named in the message with the known ones', async () => {
    const error = (await rejection(worker.mappedRegionNotify(region, 0, 1, { wrokerId: 1 } as never))) as Error;
    expect(error.message).toMatch(/unknown option "wrokerId"; known options: workerId$/);
    const open = (await rejection(worker.openMappedRegion(16, { signals: 2 } as never))) as Error;
    expect(open.message).toBe('openMappedRegion options: unknown option "signals"; known options: signalCount, flags, workerId');
  });

  it('a workerId is a u32 compared by value: 1n names the same chip as 1, at every call', async () => {
    const big = await worker.openMappedRegion(16, { signalCount: 2, workerId: 1n });
    expect(big.workerId).toBe(1);
    for (const r of [region, big]) {
      const id = { workerId: 1n };
      await worker.mappedRegionInfo(r, id);
      await worker.mappedRegionDatacopyH2Region(r, 0, new Uint8Array([5]), id);
      expect([...(await worker.mappedRegionDatacopyRegion2H(r, 0, 1, id))]).toEqual([5]);
      await worker.mappedRegionDatacopyRegion2HInto(r, 0, new Uint8Array(1), id);
      await worker.mappedRegionNotify(r, 0, 1, id);
      await worker.mappedRegionWait(r, 0, 1, 0, id);
    }
    await worker.launch('round-trip', [], { workerId: 0n }).catch(() => undefined);
    await worker.synchronize({ workerId: 1n });
    expect(worker.platformOf(1n)).toBe('test-shared');
    await worker.closeMappedRegion(big, { workerId: 1n });
    expect(spy1.requests).toContain('close');
    expect(spy0.requests).toEqual(['launch']);
  });

  it('datacopy reads a lying view through its real window and hands the endpoint an engine-built one', async () => {
    let received: Uint8Array | undefined;
    const h2region = spy1.h2region.bind(spy1);
    spy1.h2region = (h, o, src) => {
      received = src;
      return h2region(h, o, src);
    };
    const view = lyingLength(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 4096);
    await worker.mappedRegionDatacopyH2Region(region, 8, view);
    expect(received).not.toBe(view);
    expect(received!.byteLength).toBe(8);
    expect([...(await worker.mappedRegionDatacopyRegion2H(region, 8, 8))]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const dst = lyingLength(new Uint8Array(8), 4096);
    await worker.mappedRegionDatacopyRegion2HInto(region, 8, dst);
    expect([...dst]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('a region2h result owns its memory (never a view into the Buffer pool)', async () => {
    const out = await worker.mappedRegionDatacopyRegion2H(region, 0, 16);
    expect(out.byteOffset).toBe(0);
    expect(out.buffer.byteLength).toBe(16);
  });

  it('a closed region is EINVAL for every call, a second close included', async () => {
    await worker.closeMappedRegion(region);
    expect(region.closed).toBe(true);
    spy1.requests.length = 0;
    for (const call of [
      () => worker.mappedRegionInfo(region),
      () => worker.mappedRegionDatacopyH2Region(region, 0, new Uint8Array(1)),
      () => worker.mappedRegionDatacopyRegion2H(region, 0, 1),
      () => worker.mappedRegionNotify(region, 0, 1),
      () => worker.mappedRegionWait(region, 0, 0, 0),
      () => worker.closeMappedRegion(region),
    ]) {
      const error = await rejection(call());
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(/is closed/);
    }
    expect(sent()).toEqual([]);
  });

  it('a region of another worker is EINVAL', async () => {
    const other = new Worker(2, [new SpyEndpoint(1)]);
    const foreign = await other.openMappedRegion(16);
    const error = await rejection(worker.mappedRegionNotify(foreign, 0, 1));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(/does not belong to this worker/);
    expect(sent()).toEqual([]);
    await other.close();
  });
});

describe('Worker lifetime', () => {
  it('close releases every region; later calls are EINVAL; close is idempotent', async () => {
    const t = createTestBackend();
    const worker = await createWorker({ backend: t.backend });
    const regions = [await worker.openMappedRegion(16), await worker.openMappedRegion(32, { signalCount: 3 })];
    await worker.close();
    await worker.close();
    expect(worker.closed).toBe(true);
    expect(regions.every((r) => r.closed)).toBe(true);
    expect(t.allocations.map((a) => a.released)).toEqual([1, 1]);
    expect(t.destroyed).toBe(1);
    await expect(worker.openMappedRegion(16)).rejects.toThrow(/worker is closed/);
    await expect(worker.mappedRegionInfo(regions[0])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(worker.launch('k', [])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(worker.synchronize()).rejects.toBeInstanceOf(InvalidArgumentError);
    await regions[0][Symbol.asyncDispose]();
  });

  it('Symbol.asyncDispose closes regions and workers (await using)', async () => {
    const t = createTestBackend();
    let kept: MappedRegion | undefined;
    {
      await using worker = await createWorker({ backend: t.backend });
      {
        await using region = await worker.openMappedRegion(16);
        kept = region;
        expect(region.closed).toBe(false);
      }
      expect(kept.closed).toBe(true);
      expect(t.allocations[0].released).toBe(1);
      await worker.openMappedRegion(8);
    }
    expect(t.allocations[1].released).toBe(1);
    expect(t.destroyed).toBe(1);
  });

  it('a pending wait fails with EINVAL when the worker closes', async () => {
    const worker = await createWorker({ backend: createTestBackend().backend });
    const region = await worker.openMappedRegion(16);
    const pending = rejection(worker.mappedRegionWait(region, 0, 1, 5_000_000));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await worker.close();
    expect(await pending).toBeInstanceOf(InvalidArgumentError);
  });

  it('the Worker constructor rejects empty or duplicate endpoints', () => {
    expect(() => new Worker(2, [])).toThrow(InvalidArgumentError);
    expect(() => new Worker(3, [new SpyEndpoint(0), new SpyEndpoint(0)])).toThrow(/duplicate worker id 0/);
    expect(() => new Worker(4 as never, [new SpyEndpoint(0)])).toThrow(InvalidArgumentError);
  });
});

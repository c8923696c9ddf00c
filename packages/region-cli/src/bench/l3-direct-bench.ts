import * as path from 'node:path';
import { BACKEND_NAME as SIM_BACKEND, createBackend } from '@simpler/hal-sim';
import { L3Transport, RegionAccess, Worker, createWorker } from '@simpler/region-core';
import { BenchBudget, REQUIRED_SIZES } from './bench-budget';
import { iterationLatencies, notifyLatencies } from './l3-transport-bench';
import { concat, median } from './measure';
import { whyNotDirect } from '../backend/why-not-direct';

/** Name under which the benchmark registers its wake-up kernel with the simulator. */
export const WAKE_PROBE_KERNEL = 'wake-probe';
/** Built path of the wake-up kernel module (shipped in dist/bench). */
export const WAKE_PROBE_KERNEL_PATH = path.join(__dirname, 'wake-kernel.js');
/** How long the device idles before each publish (plus up to 1 ms of jitter), so the host's wait is asleep. */
export const WAKE_DELAY_US = 2000;

const TIMEOUT_US = 10_000_000;

/** What the same code measured on one worker: Worker API figures in µs per sample. */
export interface LevelFigures {
  /** `mappedRegionNotify` calls. */
  readonly notify: Float64Array;
  /** Round-trip iterations (64 B h2region + notify + launch + wait + region2h). */
  readonly iteration: Float64Array;
  /** Device publishes a signal → the host's `mappedRegionWait` has returned. */
  readonly wake: Float64Array;
}

/** Datacopy of a direct region at one size beside `Buffer.copy` of the same bytes, medians in ms. */
export interface DirectCopy {
  readonly bytes: number;
  readonly inMs: number;
  readonly outMs: number;
  /** In-process `Buffer.copy` of `bytes` between two ordinary buffers, timed between the two. */
  readonly copyMs: number;
}

/** Level 2 beside a level-3 direct region, measured in alternating chunks. */
export interface DirectMeasurement {
  /** The transport of the level-3 chip child (it still carries open, close, info and the first launch). */
  readonly transport: L3Transport;
  /** The level-2 figures (also the baseline of the proxied iteration). */
  readonly l2: LevelFigures;
  /** The level-3 direct figures, unless regions of this machine's simulator cannot be direct. */
  readonly direct?: LevelFigures & { readonly copies: readonly DirectCopy[] };
  /** Why regions were not direct (then `direct` is absent). */
  readonly unavailable?: string;
}

/** The simulator's options with the wake-up kernel registered. */
const WAKE_KERNELS = { kernels: { [WAKE_PROBE_KERNEL]: WAKE_PROBE_KERNEL_PATH } };

/**
 * Device → host wake-ups through the Worker API (any level): the `wake-probe` kernel publishes
 * signal 1 after idling, stamping the monotonic clock just before; the host's wait for it returns
 * and reads the clock. Both clocks are `CLOCK_MONOTONIC`, shared by every process of the machine.
 */
export async function wakeLatencies(worker: Worker, samples: number, warmup: number, access?: RegionAccess): Promise<Float64Array> {
  const total = samples + warmup;
  const region = await worker.openMappedRegion(total * 8, { signalCount: 2, ...(access ? { access } : {}) });
  try {
    const info = await worker.mappedRegionInfo(region);
    await worker.launch(WAKE_PROBE_KERNEL, [info.deviceSignalPtr, info.deviceDataPtr, BigInt(total), BigInt(WAKE_DELAY_US)]);
    const woke = new Float64Array(total);
    for (let k = 1; k <= total; k++) {
      await worker.mappedRegionNotify(region, 0, k);
      await worker.mappedRegionWait(region, 1, k, TIMEOUT_US);
      woke[k - 1] = Number(process.hrtime.bigint());
    }
    await worker.synchronize();
    const stamps = await worker.mappedRegionDatacopyRegion2H(region, 0, total * 8);
    const view = new DataView(stamps.buffer, stamps.byteOffset, stamps.byteLength);
    const out = new Float64Array(samples);
    for (let i = 0; i < samples; i++) out[i] = (woke[warmup + i]! - view.getFloat64((warmup + i) * 8, true)) / 1000;
    return out;
  } finally {
    await worker.closeMappedRegion(region);
  }
}

/** One chunk of each figure on one worker; every region is opened `direct` (what every L2 region is). */
async function chunkOf(worker: Worker, budget: BenchBudget, chunks: number): Promise<LevelFigures> {
  const rounds = Math.max(1, Math.ceil(budget.l3ControlRounds / chunks));
  const warmup = Math.min(2000, Math.max(50, rounds >> 3));
  return {
    notify: await notifyLatencies(worker, rounds, warmup, 'direct'),
    iteration: await iterationLatencies(worker, Math.max(1, Math.ceil(budget.l3IterationRounds / chunks)), 'direct'),
    wake: await wakeLatencies(worker, Math.max(1, Math.ceil(budget.l3WakeSamples / chunks)), 2, 'direct'),
  };
}

/**
 * Direct datacopy at every required size, each call timed beside an in-process `Buffer.copy` of
 * the same size (call by call, so both see the same load). region2h reads into a reused buffer.
 */
async function directCopies(worker: Worker, iters: number): Promise<DirectCopy[]> {
  const maxSize = Math.max(...REQUIRED_SIZES);
  const region = await worker.openMappedRegion(maxSize, { signalCount: 1, access: 'direct' });
  const src = Buffer.alloc(maxSize, 0x5a);
  const dst = Buffer.alloc(maxSize);
  const copies: DirectCopy[] = [];
  try {
    for (const bytes of REQUIRED_SIZES) {
      const s = src.subarray(0, bytes);
      const d = dst.subarray(0, bytes);
      const ms: [number[], number[], number[]] = [[], [], []];
      for (let i = -2; i < iters; i++) {
        const t0 = performance.now();
        await worker.mappedRegionDatacopyH2Region(region, 0, s);
        const t1 = performance.now();
        s.copy(d);
        const t2 = performance.now();
        await worker.mappedRegionDatacopyRegion2HInto(region, 0, d);
        const t3 = performance.now();
        if (i < 0) continue; // two unmeasured rounds
        ms[0].push(t1 - t0);
        ms[1].push(t2 - t1);
        ms[2].push(t3 - t2);
      }
      copies.push({ bytes, inMs: median(ms[0]), copyMs: median(ms[1]), outMs: median(ms[2]) });
    }
  } finally {
    await worker.closeMappedRegion(region);
  }
  return copies;
}

/**
 * Level 3 with direct regions (one simulator chip child over `transport`) against the same Worker
 * API code at level 2, in `budget.trials` chunks that alternate between the two so a burst of load
 * elsewhere lands on both: notify calls, round-trip iterations and device → host wake-ups; then
 * direct datacopy beside `Buffer.copy`. Where this machine's simulator regions cannot be direct,
 * only level 2 is measured and the reason is returned. Calls `onStep` after each chunk and the copies.
 */
export async function measureDirect(transport: L3Transport, budget: BenchBudget, onStep: (label: string) => void): Promise<DirectMeasurement> {
  const chunks = Math.max(1, budget.trials);
  const l2 = await createWorker({ level: 2, backend: await createBackend({ deviceId: 0, ...WAKE_KERNELS }) });
  try {
    const l3 = await createWorker({ level: 3, backend: require.resolve(SIM_BACKEND), backendOptions: WAKE_KERNELS, deviceIds: [0], transport });
    try {
      const probe = await l3.openMappedRegion(64, { signalCount: 1 });
      await l3.closeMappedRegion(probe);
      const unavailable = probe.access === 'direct' ? undefined : await whyNotDirect(l3);
      const l2Parts: LevelFigures[] = [];
      const l3Parts: LevelFigures[] = [];
      for (let c = 0; c < chunks; c++) {
        if (c % 2 === 1 && unavailable === undefined) l3Parts.push(await chunkOf(l3, budget, chunks));
        l2Parts.push(await chunkOf(l2, budget, chunks));
        if (c % 2 === 0 && unavailable === undefined) l3Parts.push(await chunkOf(l3, budget, chunks));
        onStep(`L2 and L3 direct (${transport}) latencies`);
      }
      const join = (parts: LevelFigures[]): LevelFigures => ({
        notify: concat(parts.map((p) => p.notify)),
        iteration: concat(parts.map((p) => p.iteration)),
        wake: concat(parts.map((p) => p.wake)),
      });
      if (unavailable !== undefined) {
        onStep('L3 direct datacopy (unavailable)');
        return { transport, l2: join(l2Parts), unavailable };
      }
      const copies = await directCopies(l3, Math.max(budget.l3CopyIters, 5));
      onStep('L3 direct datacopy');
      return { transport, l2: join(l2Parts), direct: { ...join(l3Parts), copies } };
    } finally {
      await l3.close();
    }
  } finally {
    await l2.close();
  }
}

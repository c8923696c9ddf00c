import { BACKEND_NAME as SIM_BACKEND } from '@simpler/hal-sim';
import { Worker, createWorker } from '@simpler/region-core';
import { BenchBudget, FULL_BUDGET, REQUIRED_SIZES, sizeLabel } from './bench-budget';
import { BenchReport, BenchRow, ThroughputPoint, benchRow } from './bench-result';
import { median } from './measure';
import { pipePingPong } from './pipe-ping-pong';
import { BenchProgress } from './run-l2-bench';
import { summarizeLatency } from '../roundtrip/latency-stats';

/** Goal of a control round trip through a chip child against the raw pipe ping-pong (tools/bench-l3.js). */
export const L3_CONTROL_GOAL = { op: '<=', ratio: 1.3 } as const;
/** Goal of 16 MiB datacopies through a chip child against in-process `Buffer.copy`. */
export const L3_BULK_GOAL = { op: '>=', ratio: 0.25 } as const;

/** Options of {@link runL3Bench}. */
export interface L3BenchOptions {
  readonly budget?: BenchBudget;
  readonly onProgress?: BenchProgress;
}

/** Number of progress steps an L3 run takes with `budget`. */
export function l3BenchSteps(_budget: BenchBudget): number {
  return 2 + REQUIRED_SIZES.length;
}

async function controlRoundTrips(worker: Worker, rounds: number, warmup: number): Promise<Float64Array> {
  const region = await worker.openMappedRegion(4096, { signalCount: 1 });
  let v = 0;
  for (let i = 0; i < warmup; i++) await worker.mappedRegionNotify(region, 0, ++v);
  const out = new Float64Array(rounds);
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await worker.mappedRegionNotify(region, 0, ++v);
    out[i] = (performance.now() - t0) * 1000;
  }
  await worker.closeMappedRegion(region);
  return out;
}

function timeCopies(iters: number, copy: () => void): number {
  for (let i = 0; i < 2; i++) copy();
  const ms: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    copy();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

async function timeCopiesAsync(iters: number, copy: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 2; i++) await copy();
  const ms: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await copy();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

/**
 * The L3 benchmark through the public Worker API (level 3, one simulator chip child), the same
 * measurements as tools/bench-l3.js: a control round trip (notify) against a raw 4096-byte pipe
 * ping-pong with a trivial child, and datacopy throughput through the side-band segment at each
 * required size against in-process `Buffer.copy` — all in this run.
 */
export async function runL3Bench(options: L3BenchOptions = {}): Promise<BenchReport> {
  const budget = options.budget ?? FULL_BUDGET;
  const total = l3BenchSteps(budget);
  let done = 0;
  const step = (label: string): void => options.onProgress?.(++done, total, label);
  options.onProgress?.(0, total, 'L3 pipe ping-pong');
  const warmup = Math.min(2000, Math.max(50, budget.l3ControlRounds >> 3));
  const raw = await pipePingPong(budget.l3ControlRounds, warmup);
  step('L3 control round trips');
  const worker = await createWorker({ level: 3, backend: require.resolve(SIM_BACKEND), deviceIds: [0] });
  const rows: BenchRow[] = [];
  const series: Record<string, ThroughputPoint[]> = { 'L3 h2region': [], 'L3 region2h': [] };
  let control: Float64Array;
  try {
    control = await controlRoundTrips(worker, budget.l3ControlRounds, warmup);
    step('L3 datacopy');
    const c = summarizeLatency(control);
    const r = summarizeLatency(raw);
    rows.push(benchRow('l3.control.notify.p50', c.p50, r.p50, 'us', '4096-byte pipe ping-pong', L3_CONTROL_GOAL));
    rows.push(benchRow('l3.control.notify.p99', c.p99, r.p99, 'us', '4096-byte pipe ping-pong'));
    const maxSize = Math.max(...REQUIRED_SIZES);
    const region = await worker.openMappedRegion(maxSize, { signalCount: 1 });
    const src = Buffer.alloc(maxSize, 0x5a);
    const dst = Buffer.alloc(maxSize);
    for (const size of REQUIRED_SIZES) {
      const s = src.subarray(0, size);
      const iters = budget.l3CopyIters;
      const inMs = await timeCopiesAsync(iters, () => worker.mappedRegionDatacopyH2Region(region, 0, s));
      // Into a reused buffer, like the baseline and the L2 figures: a fresh 16 MiB buffer per call
      // would measure first-touch page faults, not the copy.
      const sink = dst.subarray(0, size);
      const outMs = await timeCopiesAsync(iters, () => worker.mappedRegionDatacopyRegion2HInto(region, 0, sink));
      const copyMs = timeCopies(Math.max(iters, 5), () => s.copy(dst));
      const gb = (ms: number): number => size / (ms * 1e6);
      series['L3 h2region']!.push({ bytes: size, value: gb(inMs) });
      series['L3 region2h']!.push({ bytes: size, value: gb(outMs) });
      const goal = size === maxSize ? L3_BULK_GOAL : undefined;
      rows.push(benchRow(`l3.datacopy.h2region.${sizeLabel(size)}`, gb(inMs), gb(copyMs), 'GB/s', 'Buffer.copy', goal));
      rows.push(benchRow(`l3.datacopy.region2h.${sizeLabel(size)}`, gb(outMs), gb(copyMs), 'GB/s', 'Buffer.copy', goal));
      step('L3 datacopy');
    }
    await worker.closeMappedRegion(region);
  } finally {
    await worker.close();
  }
  return { rows, throughput: series, pingPong: { 'L3 notify (chip child)': control, 'raw pipe ping-pong': raw } };
}

import { createBackend } from '@simpler/hal-sim';
import { L3Transport, createWorker, defaultL3Transport } from '@simpler/region-core';
import { shmSupported } from '@simpler/shm';
import { BenchBudget, FULL_BUDGET, sizeLabel } from './bench-budget';
import { BenchReport, BenchRow, ThroughputPoint, benchRow } from './bench-result';
import { PAIR_BYTES, TransportFigures, iterationLatencies, measureTransport, medianMs } from './l3-transport-bench';
import { pipePingPong } from './pipe-ping-pong';
import { BenchProgress } from './run-l2-bench';
import { shmPingPong } from './shm-ping-pong';
import { summarizeLatency } from '../roundtrip/latency-stats';

/** Goals of the L3 figures per transport (issue 13 for shm; the pipe transport keeps its earlier ones). */
export const L3_GOALS = {
  shm: { notify: { op: '<=', ratio: 3 }, pair: { op: '>=', ratio: 0.5 }, iteration: { op: '<=', ratio: 2 } },
  pipe: { notify: { op: '<=', ratio: 1.3 }, pair: { op: '>=', ratio: 0.25 }, iteration: undefined },
} as const;

/** Options of {@link runL3Bench}. */
export interface L3BenchOptions {
  readonly budget?: BenchBudget;
  readonly onProgress?: BenchProgress;
  /** Transports to measure (default: both where shared memory works, else pipe). */
  readonly transports?: readonly L3Transport[];
}

/** The transports measured by default on this machine. */
export function defaultBenchTransports(): L3Transport[] {
  return defaultL3Transport() === 'shm' ? ['shm', 'pipe'] : ['pipe'];
}

/** Number of progress steps an L3 run takes. */
export function l3BenchSteps(_budget: BenchBudget, transports: readonly L3Transport[] = defaultBenchTransports()): number {
  return 4 + 3 * transports.length;
}

/** The baselines measured in the same run: raw ping-pongs, two in-process copies, the L2 iteration. */
interface Baselines {
  readonly pipe: Float64Array;
  readonly shm: Float64Array | undefined;
  readonly copyPairMs: number;
  readonly l2Iteration: Float64Array;
}

async function measureBaselines(budget: BenchBudget, withShm: boolean, step: (label: string) => void): Promise<Baselines> {
  const warmup = Math.min(2000, Math.max(50, budget.l3ControlRounds >> 3));
  const pipe = await pipePingPong(budget.l3ControlRounds, warmup);
  step('shared-memory ping-pong');
  const shm = withShm ? await shmPingPong(budget.l3ControlRounds, warmup) : undefined;
  step('L2 round-trip iterations');
  const l2 = await createWorker({ level: 2, backend: await createBackend({ deviceId: 0 }) });
  let l2Iteration: Float64Array;
  try {
    l2Iteration = await iterationLatencies(l2, budget.l3IterationRounds);
  } finally {
    await l2.close();
  }
  step('Buffer copies');
  const a = Buffer.alloc(PAIR_BYTES, 0x5a);
  const b = Buffer.alloc(PAIR_BYTES);
  const copyPairMs = await medianMs(Math.max(budget.l3CopyIters, 5), () => {
    a.copy(b);
    b.copy(a);
  });
  return { pipe, shm, copyPairMs, l2Iteration };
}

function transportRows(t: L3Transport, f: TransportFigures, base: Baselines): BenchRow[] {
  const goals = L3_GOALS[t];
  const raw = t === 'shm' && base.shm ? summarizeLatency(base.shm) : summarizeLatency(base.pipe);
  const rawName = t === 'shm' && base.shm ? 'shm spin ping-pong, 2 processes' : '4096-byte pipe ping-pong';
  const n = summarizeLatency(f.notify);
  const it = summarizeLatency(f.iteration);
  const l2 = summarizeLatency(base.l2Iteration);
  const gb = (bytes: number, ms: number): number => bytes / (ms * 1e6);
  const rows = [
    benchRow(`l3.${t}.notify.p50`, n.p50, raw.p50, 'us', rawName, goals.notify),
    benchRow(`l3.${t}.notify.p99`, n.p99, raw.p99, 'us', rawName),
    benchRow(`l3.${t}.round-trip.p50`, it.p50, l2.p50, 'us', 'L2 round-trip iteration', goals.iteration),
    benchRow(`l3.${t}.datacopy.pair.${sizeLabel(PAIR_BYTES)}`, gb(2 * PAIR_BYTES, f.pairMs), gb(2 * PAIR_BYTES, base.copyPairMs), 'GB/s', 'two Buffer.copy', goals.pair),
  ];
  const copyGb = gb(2 * PAIR_BYTES, base.copyPairMs);
  for (const c of f.copies) {
    rows.push(benchRow(`l3.${t}.datacopy.h2region.${sizeLabel(c.bytes)}`, gb(c.bytes, c.inMs), copyGb, 'GB/s', 'Buffer.copy 16 MiB'));
    rows.push(benchRow(`l3.${t}.datacopy.region2h.${sizeLabel(c.bytes)}`, gb(c.bytes, c.outMs), copyGb, 'GB/s', 'Buffer.copy 16 MiB'));
  }
  return rows;
}

/**
 * The L3 benchmark through the public Worker API (level 3, one simulator chip child per transport):
 * for each transport the notify round trip, the round-trip iteration (64 B h2region + notify +
 * launch + wait + region2h), datacopy at the required sizes and the 16 MiB h2region + region2h pair;
 * beside them baselines measured in the same run — a shared-memory spin ping-pong between two Node
 * processes, a 4096-byte pipe ping-pong, two in-process 16 MiB `Buffer.copy` calls and the same
 * iteration at level 2.
 */
export async function runL3Bench(options: L3BenchOptions = {}): Promise<BenchReport> {
  const budget = options.budget ?? FULL_BUDGET;
  const transports = options.transports ?? defaultBenchTransports();
  const total = l3BenchSteps(budget, transports);
  let done = 0;
  const step = (label: string): void => options.onProgress?.(++done, total, label);
  options.onProgress?.(0, total, 'L3 pipe ping-pong');
  const base = await measureBaselines(budget, shmSupported && transports.includes('shm'), step);
  const rows: BenchRow[] = [];
  const throughput: Record<string, ThroughputPoint[]> = {};
  const pingPong: Record<string, Float64Array> = {};
  for (const t of transports) {
    const f = await measureTransport(t, budget, step);
    rows.push(...transportRows(t, f, base));
    throughput[`L3 ${t} h2region`] = f.copies.map((c) => ({ bytes: c.bytes, value: c.bytes / (c.inMs * 1e6) }));
    throughput[`L3 ${t} region2h`] = f.copies.map((c) => ({ bytes: c.bytes, value: c.bytes / (c.outMs * 1e6) }));
    pingPong[`L3 notify (${t})`] = f.notify;
    pingPong[`L3 round trip (${t})`] = f.iteration;
  }
  if (base.shm) pingPong['raw shm spin, 2 processes'] = base.shm;
  pingPong['raw pipe ping-pong'] = base.pipe;
  pingPong['L2 round trip'] = base.l2Iteration;
  return { rows, throughput, pingPong };
}

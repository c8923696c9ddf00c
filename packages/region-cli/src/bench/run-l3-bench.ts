import { L3Transport, defaultL3Transport } from '@simpler/region-core';
import { shmSupported } from '@simpler/shm';
import { BenchBudget, FULL_BUDGET, sizeLabel } from './bench-budget';
import { BenchReport, BenchRow, ThroughputPoint, benchRow } from './bench-result';
import { DirectMeasurement, measureDirect } from './l3-direct-bench';
import { PAIR_BYTES, TransportFigures, measureTransport, medianMs } from './l3-transport-bench';
import { pipePingPong } from './pipe-ping-pong';
import { BenchProgress } from './run-l2-bench';
import { shmPingPong } from './shm-ping-pong';
import { summarizeLatency } from '../roundtrip/latency-stats';

/** Goals of the proxied L3 figures per transport (issue 13 for shm; the pipe transport keeps its earlier ones). */
export const L3_GOALS = {
  shm: { notify: { op: '<=', ratio: 3 }, pair: { op: '>=', ratio: 0.5 }, iteration: { op: '<=', ratio: 2 } },
  pipe: { notify: { op: '<=', ratio: 1.3 }, pair: { op: '>=', ratio: 0.25 }, iteration: undefined },
} as const;

/** Goals of the direct L3 figures (issue 14), each against its level-2 counterpart or `Buffer.copy`. */
export const L3_DIRECT_GOALS = {
  notify: { op: '<=', ratio: 2 },
  copy: { op: '>=', ratio: 0.8 },
  iteration: { op: '<=', ratio: 1.5 },
  wake: { op: '<=', ratio: 2 },
} as const;

/** Options of {@link runL3Bench}. */
export interface L3BenchOptions {
  readonly budget?: BenchBudget;
  readonly onProgress?: BenchProgress;
  /** Transports to measure (default: both where shared memory works, else pipe); direct regions use the first. */
  readonly transports?: readonly L3Transport[];
}

/** The transports measured by default on this machine. */
export function defaultBenchTransports(): L3Transport[] {
  return defaultL3Transport() === 'shm' ? ['shm', 'pipe'] : ['pipe'];
}

/** Number of progress steps an L3 run takes. */
export function l3BenchSteps(budget: BenchBudget, transports: readonly L3Transport[] = defaultBenchTransports()): number {
  return 3 + Math.max(1, budget.trials) + 1 + 3 * transports.length;
}

/** The baselines measured in the same run besides level 2: raw ping-pongs and in-process copies. */
interface Baselines {
  readonly pipe: Float64Array;
  readonly shm: Float64Array | undefined;
  readonly copyPairMs: number;
}

async function measureBaselines(budget: BenchBudget, withShm: boolean, step: (label: string) => void): Promise<Baselines> {
  const warmup = Math.min(2000, Math.max(50, budget.l3ControlRounds >> 3));
  const pipe = await pipePingPong(budget.l3ControlRounds, warmup);
  step('shared-memory ping-pong');
  const shm = withShm ? await shmPingPong(budget.l3ControlRounds, warmup) : undefined;
  step('Buffer copies');
  const a = Buffer.alloc(PAIR_BYTES, 0x5a);
  const b = Buffer.alloc(PAIR_BYTES);
  const copyPairMs = await medianMs(Math.max(budget.l3CopyIters, 5), () => {
    a.copy(b);
    b.copy(a);
  });
  step('L2 and L3 direct latencies');
  return { pipe, shm, copyPairMs };
}

const gb = (bytes: number, ms: number): number => bytes / (ms * 1e6);

/** The direct rows: each figure against the same Worker API code at level 2, or `Buffer.copy`. */
function directRows(m: DirectMeasurement): BenchRow[] {
  const d = m.direct;
  if (!d) return [];
  const goals = L3_DIRECT_GOALS;
  const n = summarizeLatency(d.notify);
  const ln = summarizeLatency(m.l2.notify);
  const w = summarizeLatency(d.wake);
  const lw = summarizeLatency(m.l2.wake);
  const rows = [
    benchRow('l3.direct.notify.p50', n.p50, ln.p50, 'us', 'L2 notify (Worker API)', goals.notify),
    benchRow('l3.direct.notify.p99', n.p99, ln.p99, 'us', 'L2 notify (Worker API)'),
    benchRow('l3.direct.round-trip.p50', summarizeLatency(d.iteration).p50, summarizeLatency(m.l2.iteration).p50, 'us', 'L2 round-trip iteration', goals.iteration),
  ];
  for (const c of d.copies) {
    const goal = c.bytes === PAIR_BYTES ? goals.copy : undefined;
    const base = `Buffer.copy ${sizeLabel(c.bytes)}`;
    rows.push(benchRow(`l3.direct.datacopy.h2region.${sizeLabel(c.bytes)}`, gb(c.bytes, c.inMs), gb(c.bytes, c.copyMs), 'GB/s', base, goal));
    rows.push(benchRow(`l3.direct.datacopy.region2h.${sizeLabel(c.bytes)}`, gb(c.bytes, c.outMs), gb(c.bytes, c.copyMs), 'GB/s', base, goal));
  }
  rows.push(benchRow('l3.direct.wake.p50', w.p50, lw.p50, 'us', 'L2 device -> host wake-up', goals.wake));
  rows.push(benchRow('l3.direct.wake.p99', w.p99, lw.p99, 'us', 'L2 device -> host wake-up'));
  return rows;
}

function transportRows(t: L3Transport, f: TransportFigures, base: Baselines, l2Iteration: Float64Array): BenchRow[] {
  const goals = L3_GOALS[t];
  const raw = t === 'shm' && base.shm ? summarizeLatency(base.shm) : summarizeLatency(base.pipe);
  const rawName = t === 'shm' && base.shm ? 'shm spin ping-pong, 2 processes' : '4096-byte pipe ping-pong';
  const n = summarizeLatency(f.notify);
  const it = summarizeLatency(f.iteration);
  const l2 = summarizeLatency(l2Iteration);
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
 * The L3 benchmark through the public Worker API with simulator chip children. Direct regions
 * (over the first transport) against the same code at level 2, in alternating chunks: notify,
 * the round-trip iteration (64 B h2region + notify + launch + wait + region2h) and the device →
 * host wake-up; direct 16 MiB h2region and region2h beside `Buffer.copy`. Then, for each
 * transport, proxied regions: the notify round trip, the iteration, datacopy at the required
 * sizes and the 16 MiB pair, beside a shared-memory spin ping-pong between two Node processes, a
 * 4096-byte pipe ping-pong, two in-process 16 MiB `Buffer.copy` calls and the level-2 iteration.
 */
export async function runL3Bench(options: L3BenchOptions = {}): Promise<BenchReport> {
  const budget = options.budget ?? FULL_BUDGET;
  const transports = options.transports ?? defaultBenchTransports();
  const total = l3BenchSteps(budget, transports);
  let done = 0;
  const step = (label: string): void => options.onProgress?.(++done, total, label);
  options.onProgress?.(0, total, 'L3 pipe ping-pong');
  const base = await measureBaselines(budget, shmSupported && transports.includes('shm'), step);
  const direct = await measureDirect(transports[0]!, budget, step);
  const rows: BenchRow[] = directRows(direct);
  const d = direct.direct;
  const proxied: { t: L3Transport; f: TransportFigures }[] = [];
  for (const t of transports) {
    const f = await measureTransport(t, budget, step);
    rows.push(...transportRows(t, f, base, direct.l2.iteration));
    proxied.push({ t, f });
  }
  // Series in reading order: level 2, then direct, then proxied per transport (dashed in the chart).
  const throughput: Record<string, ThroughputPoint[]> = {};
  const point = (bytes: number, ms: number): ThroughputPoint => ({ bytes, value: gb(bytes, ms) });
  if (d) throughput['L3 direct h2region'] = d.copies.map((c) => point(c.bytes, c.inMs));
  if (d) throughput['L3 direct region2h'] = d.copies.map((c) => point(c.bytes, c.outMs));
  for (const { t, f } of proxied) {
    throughput[`L3 ${t} h2region (proxied)`] = f.copies.map((c) => point(c.bytes, c.inMs));
    throughput[`L3 ${t} region2h (proxied)`] = f.copies.map((c) => point(c.bytes, c.outMs));
  }
  const pingPong: Record<string, Float64Array> = { 'L2 notify (Worker API)': direct.l2.notify };
  if (d) pingPong['L3 notify (direct)'] = d.notify;
  for (const { t, f } of proxied) pingPong[`L3 notify (${t}, proxied)`] = f.notify;
  if (base.shm) pingPong['raw shm spin, 2 processes'] = base.shm;
  pingPong['raw pipe ping-pong'] = base.pipe;
  pingPong['L2 round trip'] = direct.l2.iteration;
  if (d) pingPong['L3 round trip (direct)'] = d.iteration;
  for (const { t, f } of proxied) pingPong[`L3 round trip (${t}, proxied)`] = f.iteration;
  pingPong['L2 wake-up'] = direct.l2.wake;
  if (d) pingPong['L3 wake-up (direct)'] = d.wake;
  return { rows, throughput, pingPong, ...(direct.unavailable ? { notes: [`L3 direct regions were not measured: ${direct.unavailable}`] } : {}) };
}

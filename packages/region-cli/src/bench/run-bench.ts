import { BenchBudget, FULL_BUDGET } from './bench-budget';
import { BenchReport } from './bench-result';
import { BenchProgress, l2BenchSteps, runL2Bench } from './run-l2-bench';
import { L3Transport } from '@simpler/region-core';
import { defaultBenchTransports, l3BenchSteps, runL3Bench } from './run-l3-bench';

/** Options of {@link runBench}. */
export interface BenchOptions {
  /** How much work to do. */
  readonly budget?: BenchBudget;
  /** Which levels to measure (default both). */
  readonly levels?: readonly (2 | 3)[];
  /** Called after each step with the overall count. */
  readonly onProgress?: BenchProgress;
  /** L3 transports to measure (default: both where shared memory works). */
  readonly transports?: readonly L3Transport[];
}

/** Runs the L2 and/or L3 benchmarks and merges their reports (rows, chart series). */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const budget = options.budget ?? FULL_BUDGET;
  const levels = options.levels ?? [2, 3];
  const l2 = levels.includes(2) ? l2BenchSteps(budget) : 0;
  const transports = options.transports ?? defaultBenchTransports();
  const total = l2 + (levels.includes(3) ? l3BenchSteps(budget, transports) : 0);
  const merged: BenchReport = { rows: [], throughput: {}, pingPong: {}, notes: [] };
  const add = (r: BenchReport): void => {
    merged.rows.push(...r.rows);
    Object.assign(merged.throughput, r.throughput);
    Object.assign(merged.pingPong, r.pingPong);
    merged.notes!.push(...(r.notes ?? []));
  };
  if (levels.includes(2)) add(await runL2Bench({ budget, onProgress: (done, _t, label) => options.onProgress?.(done, total, label) }));
  if (levels.includes(3)) add(await runL3Bench({ budget, transports, onProgress: (done, _t, label) => options.onProgress?.(l2 + done, total, label) }));
  return merged;
}

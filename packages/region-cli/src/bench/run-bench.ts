import { BenchBudget, FULL_BUDGET } from './bench-budget';
import { BenchReport } from './bench-result';
import { BenchProgress, l2BenchSteps, runL2Bench } from './run-l2-bench';

/** Options of {@link runBench}. */
export interface BenchOptions {
  /** How much work to do. */
  readonly budget?: BenchBudget;
  /** Called after each step with the overall count. */
  readonly onProgress?: BenchProgress;
}

/** Runs every benchmark (L2 now; L3 joins through the same report shape) and merges the reports. */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const budget = options.budget ?? FULL_BUDGET;
  const total = l2BenchSteps(budget);
  return runL2Bench({ budget, onProgress: (done, _t, label) => options.onProgress?.(done, total, label) });
}

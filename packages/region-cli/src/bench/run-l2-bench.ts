import { RegionBackend } from '@simpler/abi';
import { createBackend } from '@simpler/hal-sim';
import { DeviceContext } from '@simpler/region-core';
import { BenchBudget, FULL_BUDGET } from './bench-budget';
import { BenchReport } from './bench-result';
import { measureDatacopy } from './datacopy-bench';
import { measureSmallStep } from './small-step-bench';
import { PING_PONG_KERNEL, PING_PONG_KERNEL_PATH, measurePingPong } from './ping-pong-bench';

/** Progress callback of a benchmark run: steps done, steps in all, what runs next. */
export type BenchProgress = (done: number, total: number, label: string) => void;

/** Options of {@link runL2Bench}. */
export interface L2BenchOptions {
  /** How much work to do (default: the full budget). */
  readonly budget?: BenchBudget;
  /** Called after each step. */
  readonly onProgress?: BenchProgress;
}

/** Number of progress steps an L2 run takes with `budget`. */
export function l2BenchSteps(budget: BenchBudget): number {
  return budget.trials + budget.sizes.length + 1;
}

/** A fresh simulator backend (from the CLI's own dependency) with the ping-pong kernel registered. */
function simBackend(): Promise<RegionBackend> {
  return createBackend({ deviceId: 0, kernels: { [PING_PONG_KERNEL]: PING_PONG_KERNEL_PATH } });
}

/**
 * The L2 benchmark of issue 3 on the simulator: datacopy throughput against `Buffer.copy`, one
 * small step against raw typed-array writes plus Atomics, and host ↔ device ping-pong against a raw
 * two-thread spin ping-pong — every figure beside its baseline measured in the same run.
 */
export async function runL2Bench(options: L2BenchOptions = {}): Promise<BenchReport> {
  const budget = options.budget ?? FULL_BUDGET;
  const total = l2BenchSteps(budget);
  let done = 0;
  const step = (label: string): void => options.onProgress?.(++done, total, label);
  options.onProgress?.(0, total, 'L2 ping-pong');
  // Ping-pong first: it is the most sensitive to the garbage the big datacopy buffers leave behind.
  const pong = await measurePingPong(simBackend, budget, () => step('L2 ping-pong'));
  const ctx = new DeviceContext(await simBackend());
  let copy;
  let small;
  try {
    copy = measureDatacopy(ctx, budget, () => step('L2 datacopy'));
    small = measureSmallStep(ctx, budget);
    step('L2 small step');
  } finally {
    await ctx.destroy();
  }
  return { rows: [...copy.rows, small, ...pong.rows], throughput: copy.series, pingPong: pong.samples };
}

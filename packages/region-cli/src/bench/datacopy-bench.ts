import { DeviceContext } from '@simpler/region-core';
import { BenchBudget, REQUIRED_SIZES, sizeLabel } from './bench-budget';
import { BenchRow, ThroughputPoint, benchRow } from './bench-result';
import { alternate, gbPerSecond, nsPerOp } from './measure';

/** Issue 3's goal for datacopy throughput against `Buffer.copy`. */
export const DATACOPY_GOAL = { op: '>=', ratio: 0.9 } as const;

/** Datacopy figures plus the chart series. */
export interface DatacopyMeasurement {
  readonly rows: BenchRow[];
  readonly series: Record<string, ThroughputPoint[]>;
}

/**
 * L2 datacopy throughput through the owner-process device context, both directions, at every
 * size of the budget, each beside `Buffer.copy` of the same bytes between the same kinds of
 * memory (a plain source and a `SharedArrayBuffer`-backed destination, like the simulator's region).
 * Rows are emitted for the sizes issue 3 names; the chart gets them all.
 */
export function measureDatacopy(ctx: DeviceContext, budget: BenchBudget, onStep: () => void): DatacopyMeasurement {
  const maxSize = Math.max(...budget.sizes);
  const handle = ctx.open(maxSize, 1, 0);
  const rows: BenchRow[] = [];
  const series: Record<string, ThroughputPoint[]> = { 'L2 h2region': [], 'L2 region2h': [], 'Buffer.copy': [] };
  try {
    const src = Buffer.alloc(maxSize);
    for (let i = 0; i < maxSize; i++) src[i] = (i * 7 + 3) & 0xff;
    const shared = Buffer.from(new SharedArrayBuffer(maxSize));
    const dst = Buffer.alloc(maxSize);
    for (const size of budget.sizes) {
      const s = src.subarray(0, size);
      const d = dst.subarray(0, size);
      const sh = shared.subarray(0, size);
      const h2r = alternate(
        budget.trials,
        () => gbPerSecond(size, nsPerOp(() => ctx.datacopyH2Region(handle, 0, s), budget.minTrialMs)),
        () => gbPerSecond(size, nsPerOp(() => s.copy(sh), budget.minTrialMs)),
      );
      const r2h = alternate(
        budget.trials,
        () => gbPerSecond(size, nsPerOp(() => ctx.datacopyRegion2HInto(handle, 0, d), budget.minTrialMs)),
        () => gbPerSecond(size, nsPerOp(() => sh.copy(d), budget.minTrialMs)),
      );
      series['L2 h2region']!.push({ bytes: size, value: h2r.value });
      series['L2 region2h']!.push({ bytes: size, value: r2h.value });
      series['Buffer.copy']!.push({ bytes: size, value: (h2r.baseline + r2h.baseline) / 2 });
      if (REQUIRED_SIZES.includes(size)) {
        rows.push(benchRow(`l2.datacopy.h2region.${sizeLabel(size)}`, h2r.value, h2r.baseline, 'GB/s', 'Buffer.copy', DATACOPY_GOAL));
        rows.push(benchRow(`l2.datacopy.region2h.${sizeLabel(size)}`, r2h.value, r2h.baseline, 'GB/s', 'Buffer.copy', DATACOPY_GOAL));
      }
      onStep();
    }
  } finally {
    ctx.close(handle);
  }
  return { rows, series };
}

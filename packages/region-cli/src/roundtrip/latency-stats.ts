/** Latency summary in microseconds. */
export interface LatencySummary {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** The q-quantile (0..1) of ascending-sorted samples, nearest-rank; 0 for no samples. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** p50, p99 and max of samples (any order), rounded to nanoseconds. */
export function summarizeLatency(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  return { p50: round(quantileSorted(sorted, 0.5)), p99: round(quantileSorted(sorted, 0.99)), max: round(sorted.length ? sorted[sorted.length - 1]! : 0) };
}

/** One benchmark figure beside its baseline measured in the same run (what `bench --json` prints per row). */
export interface BenchResult {
  /** Dotted name, e.g. `l2.datacopy.h2region.1MiB`. */
  readonly name: string;
  /** The measured value. */
  readonly value: number;
  /** Unit of `value` and `baseline`, e.g. `GB/s` or `us`. */
  readonly unit: string;
  /** The baseline's value in the same unit. */
  readonly baseline: number;
  /** `value / baseline`. */
  readonly ratio: number;
}

/** A result with what it is compared to and its goal, for the table and docs (not part of the JSON rows). */
export interface BenchRow extends BenchResult {
  /** What the baseline is, e.g. `Buffer.copy`. */
  readonly baselineName: string;
  /** The goal on the ratio, e.g. `>= 0.9` or `<= 2`. */
  readonly goal?: { readonly op: '>=' | '<='; readonly ratio: number };
}

/** One throughput sample of the datacopy series (for the chart). */
export interface ThroughputPoint {
  readonly bytes: number;
  /** GB/s. */
  readonly value: number;
}

/** Everything a benchmark run measured: the rows plus the series the SVG chart draws. */
export interface BenchReport {
  readonly rows: BenchRow[];
  /** Datacopy throughput against size, by series name (`L2 h2region`, `Buffer.copy`, `L3 h2region`...). */
  readonly throughput: Record<string, ThroughputPoint[]>;
  /** Ping-pong round-trip latencies in microseconds, by series name. */
  readonly pingPong: Record<string, Float64Array>;
  /** What the run could not measure here, and why (printed under the table, not in the JSON). */
  readonly notes?: string[];
}

/** True when a row meets its goal (rows without one always do). */
export function meetsGoal(row: BenchRow): boolean {
  if (!row.goal) return true;
  return row.goal.op === '>=' ? row.ratio >= row.goal.ratio : row.ratio <= row.goal.ratio;
}

/** Rounds for display and JSON: 4 significant digits. */
export function sig4(n: number): number {
  return Number.isFinite(n) ? Number(n.toPrecision(4)) : n;
}

/** Builds a row, computing the ratio. */
export function benchRow(name: string, value: number, baseline: number, unit: string, baselineName: string, goal?: BenchRow['goal']): BenchRow {
  return { name, value: sig4(value), unit, baseline: sig4(baseline), ratio: sig4(baseline === 0 ? Number.POSITIVE_INFINITY : value / baseline), baselineName, ...(goal ? { goal } : {}) };
}

/** The five-key JSON form of a row. */
export function resultOf(row: BenchRow): BenchResult {
  return { name: row.name, value: row.value, unit: row.unit, baseline: row.baseline, ratio: row.ratio };
}

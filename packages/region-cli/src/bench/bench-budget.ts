/** How much work a benchmark run does. */
export interface BenchBudget {
  /** Alternating candidate/baseline trials per figure; the median is reported. */
  readonly trials: number;
  /** Minimum duration of one throughput or step trial, milliseconds. */
  readonly minTrialMs: number;
  /** Datacopy sizes for the chart; always includes 64 KiB, 1 MiB and 16 MiB. */
  readonly sizes: readonly number[];
  /** Measured ping-pong round trips per path. */
  readonly pingPongRounds: number;
  /** Unmeasured round trips before those (JIT, thread start). */
  readonly pingPongWarmup: number;
  /** L3: measured control round trips (a notify through a chip child, and the raw pipe baseline). */
  readonly l3ControlRounds: number;
  /** L3: timed datacopies per size and direction (the median is reported). */
  readonly l3CopyIters: number;
  /** L3 (and its L2 baseline): measured round-trip iterations of 64 B h2region + notify + launch + wait + region2h. */
  readonly l3IterationRounds: number;
  /** L3 direct (and its L2 baseline): measured device → host wake-ups (each costs about 2.5 ms of device idling). */
  readonly l3WakeSamples: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** The sizes issue 3 requires figures for. */
export const REQUIRED_SIZES: readonly number[] = [64 * KiB, MiB, 16 * MiB];

/** `bench --quick`: a few seconds, for tests and a first look. */
export const QUICK_BUDGET: BenchBudget = { trials: 3, minTrialMs: 12, sizes: [4 * KiB, ...REQUIRED_SIZES], pingPongRounds: 400, pingPongWarmup: 100, l3ControlRounds: 300, l3CopyIters: 3, l3IterationRounds: 100, l3WakeSamples: 60 };

/** The full benchmark (what docs/performance.md reports). */
export const FULL_BUDGET: BenchBudget = {
  trials: 7,
  minTrialMs: 120,
  sizes: [4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB, 16 * MiB],
  pingPongRounds: 20_000,
  pingPongWarmup: 2_000,
  l3ControlRounds: 20_000,
  l3CopyIters: 40,
  l3IterationRounds: 5_000,
  l3WakeSamples: 1_000,
};

/** `65536` → `64KiB`, for result names and chart labels. */
export function sizeLabel(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB}MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB}KiB`;
  return `${bytes}B`;
}

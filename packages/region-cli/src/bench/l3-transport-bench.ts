import { BACKEND_NAME as SIM_BACKEND } from '@simpler/hal-sim';
import { L3Transport, RegionAccess, Worker, createWorker } from '@simpler/region-core';
import { BenchBudget, REQUIRED_SIZES } from './bench-budget';
import { median } from './measure';
import { RoundtripWorker } from '../roundtrip/roundtrip-worker';
import { runRoundtrip } from '../roundtrip/run-roundtrip';

/** Bytes per direction of the L3 round-trip iteration (64 B h2region + notify + launch + wait + region2h). */
export const ITERATION_BYTES = 64;
/** The size of the bulk figure: one h2region and one region2h of this many bytes. */
export const PAIR_BYTES = 16 << 20;
const TIMEOUT_US = 10_000_000;

/** What one transport measured (proxied regions: every call is a request to the chip child). */
export interface TransportFigures {
  /** Round trip of one `mappedRegionNotify` through the Worker API, µs per sample. */
  readonly notify: Float64Array;
  /** One round-trip iteration of spec section 11 with 64 bytes per direction, µs per sample. */
  readonly iteration: Float64Array;
  /** Median time of a 16 MiB h2region followed by a 16 MiB region2h, in ms. */
  readonly pairMs: number;
  /** Median time of one h2region and one region2h (into a reused buffer) at each required size, in ms. */
  readonly copies: readonly { readonly bytes: number; readonly inMs: number; readonly outMs: number }[];
}

/** `mappedRegionNotify` times through the Worker API (any level), µs per sample, after `warmup` unmeasured ones. */
export async function notifyLatencies(worker: Worker, rounds: number, warmup: number, access?: RegionAccess): Promise<Float64Array> {
  const region = await worker.openMappedRegion(4096, { signalCount: 1, ...(access ? { access } : {}) });
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

/** Median wall time of `copy` in ms, after two unmeasured calls. */
export async function medianMs(iters: number, copy: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < 2; i++) await copy();
  const ms: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await copy();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

/** The round-trip iteration of spec section 11 with 64-byte payloads, on any worker; µs per iteration. */
export async function iterationLatencies(worker: Worker, iters: number, access?: RegionAccess): Promise<Float64Array> {
  const [result] = await runRoundtrip({
    worker: worker as unknown as RoundtripWorker<unknown>,
    deviceIds: [worker.workerIds[0]!],
    iters,
    bytesPerDirection: ITERATION_BYTES,
    timeoutUs: TIMEOUT_US,
    ...(access ? { access } : {}),
  });
  if (result!.mismatch) throw new Error(`round-trip benchmark: ${result!.mismatch}`);
  return result!.latenciesUs;
}

/**
 * Every proxied L3 figure of one transport through the public Worker API, one simulator chip
 * child, regions opened with `access: 'proxied'` (so each call is a request to the child):
 * notify round trips, the round-trip iteration, datacopy at each required size (region2h into a
 * reused buffer, like the baseline: a fresh 16 MiB buffer per call would measure page faults), and
 * the 16 MiB h2region + region2h pair. Calls `onStep` after each part.
 */
export async function measureTransport(transport: L3Transport, budget: BenchBudget, onStep: (label: string) => void): Promise<TransportFigures> {
  const worker = await createWorker({ level: 3, backend: require.resolve(SIM_BACKEND), deviceIds: [0], transport });
  try {
    const warmup = Math.min(2000, Math.max(50, budget.l3ControlRounds >> 3));
    const notify = await notifyLatencies(worker, budget.l3ControlRounds, warmup, 'proxied');
    onStep(`L3 ${transport} proxied round-trip iterations`);
    const iteration = await iterationLatencies(worker, budget.l3IterationRounds, 'proxied');
    onStep(`L3 ${transport} proxied datacopy`);
    const maxSize = Math.max(...REQUIRED_SIZES, PAIR_BYTES);
    const region = await worker.openMappedRegion(maxSize, { signalCount: 1, access: 'proxied' });
    const src = Buffer.alloc(maxSize, 0x5a);
    const dst = Buffer.alloc(maxSize);
    const copies: { bytes: number; inMs: number; outMs: number }[] = [];
    for (const bytes of REQUIRED_SIZES) {
      const s = src.subarray(0, bytes);
      const d = dst.subarray(0, bytes);
      const inMs = await medianMs(budget.l3CopyIters, () => worker.mappedRegionDatacopyH2Region(region, 0, s));
      const outMs = await medianMs(budget.l3CopyIters, () => worker.mappedRegionDatacopyRegion2HInto(region, 0, d));
      copies.push({ bytes, inMs, outMs });
    }
    const s = src.subarray(0, PAIR_BYTES);
    const d = dst.subarray(0, PAIR_BYTES);
    const pairMs = await medianMs(budget.l3CopyIters, async () => {
      await worker.mappedRegionDatacopyH2Region(region, 0, s);
      await worker.mappedRegionDatacopyRegion2HInto(region, 0, d);
    });
    await worker.closeMappedRegion(region);
    onStep(`L3 ${transport} done`);
    return { notify, iteration, pairMs, copies };
  } finally {
    await worker.close();
  }
}

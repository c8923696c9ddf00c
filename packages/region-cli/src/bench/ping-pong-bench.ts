import * as path from 'node:path';
import { RegionBackend } from '@simpler/abi';
import { DeviceContext, Worker, createWorker } from '@simpler/region-core';
import { BenchBudget } from './bench-budget';
import { BenchRow, benchRow } from './bench-result';
import { concat } from './measure';
import { rawPingPong } from './raw-ping-pong';
import { summarizeLatency } from '../roundtrip/latency-stats';

/** Name under which the benchmark registers its kernel with the simulator. */
export const PING_PONG_KERNEL = 'ping-pong';
/** Built path of the ping-pong kernel module (shipped in dist/bench). */
export const PING_PONG_KERNEL_PATH = path.join(__dirname, 'ping-pong-kernel.js');
/** Issue 3's goal for the ping-pong through the owner-process context against the raw spin ping-pong. */
export const PING_PONG_SYNC_GOAL = { op: '<=', ratio: 2 } as const;
/** Issue 3's goal for the ping-pong through the async Worker API against the raw spin ping-pong. */
export const PING_PONG_ASYNC_GOAL = { op: '<=', ratio: 10 } as const;

const TIMEOUT_US = 10_000_000;

/** Creates a simulator backend with the ping-pong kernel registered (one per measured path). */
export type PingPongBackendFactory = () => Promise<RegionBackend>;

/** One chunk of ping-pong through the owner-process context: notify, then the synchronous `waitSync`. */
async function contextChunk(ctx: DeviceContext, rounds: number, warmup: number): Promise<Float64Array> {
  const h = ctx.open(64, 2, 0);
  try {
    const info = ctx.publicInfo(h);
    const total = rounds + warmup;
    ctx.launch(PING_PONG_KERNEL, [info.deviceSignalPtr, total, TIMEOUT_US]);
    const out = new Float64Array(rounds);
    for (let k = 1; k <= total; k++) {
      const t0 = performance.now();
      ctx.notify(h, 0, k);
      ctx.waitSync(h, 1, k, TIMEOUT_US);
      if (k > warmup) out[k - warmup - 1] = (performance.now() - t0) * 1000;
    }
    await ctx.synchronize();
    return out;
  } finally {
    ctx.close(h);
  }
}

/** One chunk of ping-pong through the public async Worker API (level 2): `mappedRegionNotify` then `mappedRegionWait`. */
async function workerChunk(worker: Worker, rounds: number, warmup: number): Promise<Float64Array> {
  const region = await worker.openMappedRegion(64, { signalCount: 2 });
  try {
    const info = await worker.mappedRegionInfo(region);
    const total = rounds + warmup;
    await worker.launch(PING_PONG_KERNEL, [info.deviceSignalPtr, total, TIMEOUT_US]);
    const out = new Float64Array(rounds);
    for (let k = 1; k <= total; k++) {
      const t0 = performance.now();
      await worker.mappedRegionNotify(region, 0, k);
      await worker.mappedRegionWait(region, 1, k, TIMEOUT_US);
      if (k > warmup) out[k - warmup - 1] = (performance.now() - t0) * 1000;
    }
    await worker.synchronize();
    return out;
  } finally {
    await worker.closeMappedRegion(region);
  }
}

/** The ping-pong figures (p50 latencies) and every measured round trip, by path. */
export interface PingPongMeasurement {
  readonly rows: BenchRow[];
  readonly samples: Record<string, Float64Array>;
}

/**
 * Host ↔ simulated-device ping-pong (notify → kernel sees it → kernel publishes → host wait
 * returns) through the device context and through the async Worker API, each against the raw
 * two-thread `SharedArrayBuffer` spin ping-pong. Reports p50 and p99 round-trip times.
 * Calls `onStep` once per chunk (`budget.trials` chunks).
 */
export async function measurePingPong(newBackend: PingPongBackendFactory, budget: BenchBudget, onStep: () => void): Promise<PingPongMeasurement> {
  // The rounds are split into chunks that alternate between the three paths, so a burst of load
  // from elsewhere on the machine lands on all of them instead of skewing one.
  const chunks = Math.max(1, budget.trials);
  const rounds = Math.max(1, Math.ceil(budget.pingPongRounds / chunks));
  const warmup = Math.max(1, Math.ceil(budget.pingPongWarmup / chunks));
  const ctx = new DeviceContext(await newBackend());
  const rawParts: Float64Array[] = [];
  const syncParts: Float64Array[] = [];
  const asyncParts: Float64Array[] = [];
  try {
    const worker = await createWorker({ level: 2, backend: await newBackend() });
    try {
      for (let c = 0; c < chunks; c++) {
        rawParts.push(await rawPingPong(rounds, warmup));
        syncParts.push(await contextChunk(ctx, rounds, warmup));
        asyncParts.push(await workerChunk(worker, rounds, warmup));
        onStep();
      }
    } finally {
      await worker.close();
    }
  } finally {
    await ctx.destroy();
  }
  const raw = concat(rawParts);
  const sync = concat(syncParts);
  const asyncApi = concat(asyncParts);
  const r = summarizeLatency(raw);
  const s = summarizeLatency(sync);
  const a = summarizeLatency(asyncApi);
  const base = 'SharedArrayBuffer spin ping-pong';
  return {
    rows: [
      benchRow('l2.ping-pong.context.p50', s.p50, r.p50, 'us', base, PING_PONG_SYNC_GOAL),
      benchRow('l2.ping-pong.context.p99', s.p99, r.p99, 'us', base),
      benchRow('l2.ping-pong.worker-async.p50', a.p50, r.p50, 'us', base, PING_PONG_ASYNC_GOAL),
      benchRow('l2.ping-pong.worker-async.p99', a.p99, r.p99, 'us', base),
    ],
    samples: { 'raw SAB spin': raw, 'L2 context (waitSync)': sync, 'L2 Worker (async)': asyncApi },
  };
}

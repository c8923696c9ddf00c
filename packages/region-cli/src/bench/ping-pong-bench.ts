import * as path from 'node:path';
import { RegionBackend } from '@simpler/abi';
import { DeviceContext, createWorker } from '@simpler/region-core';
import { BenchBudget } from './bench-budget';
import { BenchRow, benchRow } from './bench-result';
import { rawPingPong } from './raw-ping-pong';
import { summarizeLatency } from '../roundtrip/latency-stats';

/** Name under which the benchmark registers its kernel with the simulator. */
export const PING_PONG_KERNEL = 'ping-pong';
/** Built path of the ping-pong kernel module (shipped in dist/bench). */
export const PING_PONG_KERNEL_PATH = path.join(__dirname, 'ping-pong-kernel.js');
/** Issue 3's goals: owner-process context and async Worker API against the raw spin ping-pong. */
export const PING_PONG_SYNC_GOAL = { op: '<=', ratio: 2 } as const;
export const PING_PONG_ASYNC_GOAL = { op: '<=', ratio: 10 } as const;

const TIMEOUT_US = 10_000_000;

/** Creates a simulator backend with the ping-pong kernel registered (one per measured path). */
export type PingPongBackendFactory = () => Promise<RegionBackend>;

/** Ping-pong through the owner-process context: notify, then the synchronous `waitSync`. */
async function contextPingPong(backend: RegionBackend, rounds: number, warmup: number): Promise<Float64Array> {
  const ctx = new DeviceContext(backend);
  try {
    const h = ctx.open(64, 2, 0);
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
    ctx.close(h);
    return out;
  } finally {
    await ctx.destroy();
  }
}

/** Ping-pong through the public async Worker API (level 2): `mappedRegionNotify` then `mappedRegionWait`. */
async function workerPingPong(backend: RegionBackend, rounds: number, warmup: number): Promise<Float64Array> {
  const worker = await createWorker({ level: 2, backend });
  try {
    const region = await worker.openMappedRegion(64, { signalCount: 2 });
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
    await worker.closeMappedRegion(region);
    return out;
  } finally {
    await worker.close();
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
 */
export async function measurePingPong(newBackend: PingPongBackendFactory, budget: BenchBudget, onStep: () => void): Promise<PingPongMeasurement> {
  const { pingPongRounds: rounds, pingPongWarmup: warmup } = budget;
  const raw = await rawPingPong(rounds, warmup);
  onStep();
  const sync = await contextPingPong(await newBackend(), rounds, warmup);
  onStep();
  const asyncApi = await workerPingPong(await newBackend(), rounds, warmup);
  onStep();
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

#!/usr/bin/env node
// The round-trip iteration of spec section 11 (64 B h2region + notify + launch + wait + region2h)
// at level 2 and on a level-3 direct region, with a timer around each step: where an iteration's
// time goes. Both workers stay alive; chunks of iterations alternate between them, so load from
// elsewhere lands on both. Needs the built dist (npm run build).
// Usage: node tools/bench-iteration-steps.js [--chunks N] [--chunk-iterations N]
'use strict';

const path = require('node:path');
const { performance } = require('node:perf_hooks');

const root = path.resolve(__dirname, '..');
const { createWorker } = require(path.join(root, 'packages/region-core/dist/index.js'));
const backend = require.resolve('@simpler/hal-sim', { paths: [root] });
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const CHUNKS = flag('--chunks', 8);
const PER_CHUNK = flag('--chunk-iterations', 500);
const STEPS = ['h2region', 'notify', 'launch', 'wait', 'region2h', 'iteration'];
const N = 64;

async function setup(level) {
  const worker = await createWorker(level === 2 ? { level: 2, backend, deviceId: 0 } : { level: 3, backend, deviceIds: [0] });
  const region = await worker.openMappedRegion(2 * N, { signalCount: 2, workerId: 0 });
  const info = await worker.mappedRegionInfo(region);
  return { level, worker, region, info, seq: 0, samples: STEPS.map(() => []) };
}

async function chunk(s) {
  const { worker, region, info } = s;
  const payload = new Uint8Array(N);
  for (let k = 0; k < PER_CHUNK; k++) {
    const seq = ++s.seq;
    const t0 = performance.now();
    await worker.mappedRegionDatacopyH2Region(region, 0, payload);
    const t1 = performance.now();
    await worker.mappedRegionNotify(region, 0, seq);
    const t2 = performance.now();
    await worker.launch('round-trip', [info.deviceDataPtr, info.deviceSignalPtr, BigInt(seq), BigInt(N)], { workerId: 0 });
    const t3 = performance.now();
    await worker.mappedRegionWait(region, 1, seq, 5_000_000);
    const t4 = performance.now();
    await worker.mappedRegionDatacopyRegion2H(region, N, N);
    const t5 = performance.now();
    const times = [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t5 - t0];
    for (let i = 0; i < times.length; i++) s.samples[i].push(times[i] * 1000);
  }
}

const median = (xs) => Float64Array.from(xs).sort()[xs.length >> 1];

(async () => {
  const l2 = await setup(2);
  const l3 = await setup(3);
  try {
    for (let c = 0; c < CHUNKS; c++) {
      await chunk(l2);
      await chunk(l3);
    }
    for (const s of [l2, l3]) {
      const label = s.level === 2 ? 'L2       ' : `L3 ${s.region.access}`;
      console.log(`${label}  ` + STEPS.map((name, i) => `${name} ${median(s.samples[i]).toFixed(1)} us`).join('  '));
    }
    console.log(`iteration ratio L3/L2 (medians): ${(median(l3.samples[5]) / median(l2.samples[5])).toFixed(2)}`);
  } finally {
    await l2.worker.close();
    await l3.worker.close();
  }
})();

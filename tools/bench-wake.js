#!/usr/bin/env node
// Wake-up latency of the simulator's signal paths, SharedArrayBuffer memory against memfd memory
// in the same run (alternating trials), over the built dist. Each sample leaves the sleeper
// enough time to be really asleep (past its spin), then measures publish -> sleeper running:
//  - host publishes (DeviceContext.notify) -> device wakes in waitU32AtLeast;
//  - the same with the publisher storing without any wake (what bounded polling would give);
//  - device publishes (store32Release) -> host wakes in DeviceContext.waitSync / waitAsync;
//  - memfd only: device publishes -> a waiter in another mapping wakes from futexWaitAsync (libuv pool).
// Usage: node tools/bench-wake.js [--samples N] [--trials N] [--json]
'use strict';

const path = require('node:path');
const root = path.resolve(__dirname, '..');
const { createBackend } = require(path.join(root, 'packages/hal-sim/dist/index.js'));
const { DeviceContext } = require(path.join(root, 'packages/region-core/dist/index.js'));
const { SharedMemoryObject } = require(path.join(root, 'packages/shm/dist/index.js'));

const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const SAMPLES = Number(flag('--samples', '200'));
const TRIALS = Number(flag('--trials', '3'));
const DELAY_US = 3000;
const nap = new Int32Array(new SharedArrayBuffer(4));
const sleepMs = (ms) => Atomics.wait(nap, 0, 0, ms);
const nowNs = () => Number(process.hrtime.bigint());
// A fixed pseudo-random jitter (0-1 ms) on the publisher's delay, so a publish lands anywhere in
// a polling sleeper's slice instead of always at the same phase of its backoff.
let seed = 12345;
const jitterMs = () => ((seed = (seed * 1103515245 + 12345) >>> 0) % 1000) / 1000;

function percentiles(samples) {
  const s = Float64Array.from(samples).sort();
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

async function session(memory, body) {
  const backend = await createBackend({ deviceId: 0, memory, kernels: { 'wake-probe': path.join(__dirname, 'bench-wake-kernel.js') } });
  const ctx = new DeviceContext(backend);
  try {
    const h = ctx.open(SAMPLES * 8, 2);
    const info = ctx.publicInfo(h);
    const launch = (mode) => backend.launch('wake-probe', [info.deviceSignalPtr, info.deviceDataPtr, BigInt(mode), BigInt(SAMPLES), BigInt(DELAY_US)]);
    const stamp = (seq) => ctx.datacopyRegion2H(h, (seq - 1) * 8, 8).readDoubleLE(0);
    return await body({ backend, ctx, h, launch, stamp });
  } finally {
    await ctx.destroy();
  }
}

// Host publishes after the device has slept DELAY_US; `wake` false stores without waking it.
function hostToDevice(memory, wake) {
  return session(memory, async ({ backend, ctx, h, launch, stamp }) => {
    launch(0);
    const out = [];
    const words = wake ? undefined : rawSignals(ctx, h);
    for (let seq = 1; seq <= SAMPLES; seq++) {
      sleepMs(DELAY_US / 1000 + jitterMs());
      const t0 = nowNs();
      if (words) Atomics.store(words, 0, seq);
      else ctx.notify(h, 0, seq);
      ctx.waitSync(h, 1, seq, 10_000_000);
      out.push((stamp(seq) - t0) / 1000);
    }
    await backend.synchronize();
    return out;
  });
}

// The region's signal words as the core holds them (a benchmark-only peek at its registry).
function rawSignals(ctx, h) {
  return ctx.registry.get(h).signals;
}

function deviceToHost(memory, mode) {
  return session(memory, async ({ backend, ctx, h, launch, stamp }) => {
    launch(1);
    const out = [];
    for (let seq = 1; seq <= SAMPLES; seq++) {
      ctx.notify(h, 0, seq);
      if (mode === 'sync') ctx.waitSync(h, 1, seq, 10_000_000);
      else await ctx.waitAsync(h, 1, seq, 10_000_000);
      const t1 = nowNs();
      out.push((t1 - stamp(seq)) / 1000);
    }
    await backend.synchronize();
    return out;
  });
}

// memfd only: a second mapping of the allocation waits on its own futex through the libuv pool,
// as an L3 parent with a direct region would; the device's store32Release wakes it.
function deviceToForeignAsync() {
  return session('memfd', async ({ backend, ctx, h, launch, stamp }) => {
    const record = ctx.registry.get(h);
    const shared = record.allocation.share();
    const object = SharedMemoryObject.fromFd(require('node:fs').openSync(`/proc/self/fd/${shared.fd}`, 'r+'));
    const mapping = object.map(shared.offset + shared.length);
    object.close();
    const words = new Int32Array(mapping.buffer);
    const slot1 = shared.offset + record.signalOffset + 64;
    launch(1);
    const out = [];
    for (let seq = 1; seq <= SAMPLES; seq++) {
      ctx.notify(h, 0, seq);
      for (;;) {
        const v = Atomics.load(words, slot1 / 4);
        if (v >= seq) break;
        Atomics.add(words, shared.wake.sleepersOffset / 4, 1);
        if (Atomics.load(words, slot1 / 4) < seq) await mapping.futexWaitAsync(slot1, v, 50);
        Atomics.sub(words, shared.wake.sleepersOffset / 4, 1);
      }
      out.push((nowNs() - stamp(seq)) / 1000);
    }
    await backend.synchronize();
    mapping.unmap();
    return out;
  });
}

const CASES = [
  ['host publishes -> device wakes', (m) => hostToDevice(m, true), ['sab', 'memfd']],
  ['host stores without waking -> device notices (bounded polling)', (m) => hostToDevice(m, false), ['sab', 'memfd']],
  ['device publishes -> host waitSync wakes', (m) => deviceToHost(m, 'sync'), ['sab', 'memfd']],
  ['device publishes -> host waitAsync wakes', (m) => deviceToHost(m, 'async'), ['sab', 'memfd']],
  ['device publishes -> futexWaitAsync in another mapping wakes', () => deviceToForeignAsync(), ['memfd']],
];

async function main() {
  const results = [];
  for (const [name, run, memories] of CASES) {
    const samples = Object.fromEntries(memories.map((m) => [m, []]));
    for (let t = 0; t < TRIALS; t++) for (const m of memories) samples[m].push(...(await run(m)));
    for (const m of memories) results.push({ name, memory: m, unit: 'us', ...percentiles(samples[m]) });
  }
  if (args.includes('--json')) {
    process.stdout.write(JSON.stringify({ samples: SAMPLES * TRIALS, results }) + '\n');
    return;
  }
  const fmt = (x) => x.toFixed(1).padStart(8);
  console.log(`${SAMPLES * TRIALS} samples per row; microseconds from publish to the sleeper running`);
  console.log(`${'case'.padEnd(64)}${'memory'.padEnd(8)}     p50     p90     p99`);
  for (const r of results) console.log(`${r.name.padEnd(64)}${r.memory.padEnd(8)}${fmt(r.p50)}${fmt(r.p90)}${fmt(r.p99)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

#!/usr/bin/env node
// L3 benchmark over the built dist (build region-core first), one transport per run. Compares:
//  - control round trip: a notify through a chip child  vs  a raw ping-pong of 4096-byte frames
//    between this process and a trivial Node child over the same kind of pipes;
//  - bulk: 16 MiB h2region and region2h through a chip child  vs  in-process Buffer.copy of
//    16 MiB;
//  - with --gib N: N GiB in and out in one h2region and one region2hInto each (bounded memory: the
//    shared-memory transport moves it through its fixed data window), checked byte for byte, both
//    buffers' pages faulted in beforehand (the cost of that first touch is printed apart).
// `simpler-region bench --level 3` is the full benchmark of both transports; this is the quick tool.
// Usage: node tools/bench-l3.js [--transport shm|pipe] [--chunk-bytes N] [--iterations N] [--backend <module>] [--gib N] [--json]
// (--chunk-bytes: the shared-memory transport's chunk, shmTuning.chunkBytes)
'use strict';

const { spawn } = require('node:child_process');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const root = path.resolve(__dirname, '..');
const { ChipEndpoint } = require(path.join(root, 'packages/region-core/dist/l3/chip-endpoint.js'));
const { DEFAULT_SHM_TUNING } = require(path.join(root, 'packages/region-core/dist/l3/transport-choice.js'));

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const ITER = Number(flag('--iterations', '20000'));
const BULK = 16 << 20;
const BULK_ITER = Number(flag('--bulk-iterations', '40'));
const BACKEND = flag('--backend', require.resolve('@simpler/hal-sim', { paths: [root] }));
const TRANSPORT = flag('--transport', undefined);
const GIB = Number(flag('--gib', '0'));
const CHUNK_BYTES = flag('--chunk-bytes', undefined);

function stats(samples) {
  const s = Float64Array.from(samples).sort();
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median: at(0.5), p99: at(0.99) };
}

/** Raw baseline: the child echoes every chunk it reads; the parent waits for 4096 bytes back. */
async function rawPingPong(iterations) {
  const echo = "process.stdin.on('data', (c) => process.stdout.write(c));";
  const child = spawn(process.execPath, ['-e', echo], { stdio: ['pipe', 'pipe', 'inherit'] });
  const frame = Buffer.alloc(4096, 7);
  const samples = [];
  let got = 0;
  let done;
  child.stdout.on('data', (c) => {
    got += c.length;
    if (got >= 4096) {
      got -= 4096;
      done();
    }
  });
  const once = () =>
    new Promise((resolve) => {
      done = resolve;
      child.stdin.write(frame);
    });
  for (let i = 0; i < 2000; i++) await once(); // warm-up
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await once();
    samples.push((performance.now() - t) * 1000);
  }
  child.stdin.end();
  await new Promise((r) => child.once('exit', r));
  return stats(samples);
}

async function chipNotify(chip, iterations) {
  const h = await chip.open(4096, 1, 0);
  let v = 0;
  for (let i = 0; i < 2000; i++) await chip.notify(h, 0, ++v);
  const samples = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await chip.notify(h, 0, ++v);
    samples.push((performance.now() - t) * 1000);
  }
  await chip.close(h);
  return stats(samples);
}

function gibps(bytes, ms) {
  return bytes / (1 << 30) / (ms / 1000);
}

async function bulk(chip) {
  const h = await chip.open(BULK, 1, 0);
  const src = Buffer.alloc(BULK, 0x5a);
  for (let i = 0; i < 3; i++) {
    await chip.h2region(h, 0, src);
    await chip.region2h(h, 0, BULK);
  }
  const inMs = [];
  const outMs = [];
  const intoMs = [];
  const into = Buffer.alloc(BULK);
  for (let i = 0; i < BULK_ITER; i++) {
    let t = performance.now();
    await chip.h2region(h, 0, src);
    inMs.push(performance.now() - t);
    t = performance.now();
    await chip.region2h(h, 0, BULK);
    outMs.push(performance.now() - t);
    t = performance.now();
    await chip.region2hInto(h, 0, into);
    intoMs.push(performance.now() - t);
  }
  await chip.close(h);
  const dst = Buffer.alloc(BULK);
  for (let i = 0; i < 5; i++) src.copy(dst);
  const copyMs = [];
  for (let i = 0; i < BULK_ITER; i++) {
    const t = performance.now();
    src.copy(dst);
    copyMs.push(performance.now() - t);
  }
  return {
    in: gibps(BULK, stats(inMs).median),
    out: gibps(BULK, stats(outMs).median),
    into: gibps(BULK, stats(intoMs).median),
    copy: gibps(BULK, stats(copyMs).median),
  };
}

/** Writes one byte in every page of `bytes`: the first touch of fresh memory, in ms. */
function touchPages(bytes, value) {
  const t = performance.now();
  for (let i = 0; i < bytes.length; i += 4096) bytes[i] = value;
  return performance.now() - t;
}

/**
 * Moves `GIB` GiB in and out through one chip child and checks every byte (a sparse pattern, cheap
 * to fill). Both buffers have their pages faulted in before the copies are timed (the source by its
 * fill, the destination by a touch): the first write into fresh memory costs several seconds per
 * GiB on the development VM whoever does it, and timing it inside region2h only (as this tool once
 * did) made region2h look 15 times slower than h2region. The touch is reported on its own.
 */
async function gibInOut(chip) {
  const n = GIB * (1 << 30);
  const h = await chip.open(n, 1, 0);
  const src = Buffer.alloc(n);
  const fillMs = touchPages(src, 0);
  for (let i = 0; i < n; i += 4093) src[i] = (i * 7 + 1) & 0xff;
  const back = Buffer.alloc(n);
  const touchMs = touchPages(back, 0xff);
  let t = performance.now();
  await chip.h2region(h, 0, src);
  const inMs = performance.now() - t;
  t = performance.now();
  await chip.region2hInto(h, 0, back);
  const outMs = performance.now() - t;
  if (!back.equals(src)) throw new Error(`${GIB} GiB came back different`);
  await chip.close(h);
  return { inMs, outMs, firstTouchMs: (fillMs + touchMs) / 2, rssMiB: process.memoryUsage().rss / (1 << 20) };
}

async function main() {
  const raw = await rawPingPong(ITER);
  const shmTuning = CHUNK_BYTES === undefined ? {} : { shmTuning: { chunkBytes: Number(CHUNK_BYTES) } };
  const chip = await ChipEndpoint.spawn({ deviceId: 0, backend: BACKEND, ...(TRANSPORT ? { transport: TRANSPORT } : {}), ...shmTuning });
  try {
    if (GIB > 0) {
      const g = await gibInOut(chip);
      console.log(`${GIB} GiB over ${chip.transportKind}: h2region ${g.inMs.toFixed(0)} ms (${gibps(GIB * 2 ** 30, g.inMs).toFixed(2)} GiB/s), region2h ${g.outMs.toFixed(0)} ms (${gibps(GIB * 2 ** 30, g.outMs).toFixed(2)} GiB/s), every byte checked, parent RSS ${g.rssMiB.toFixed(0)} MiB`);
      console.log(`  (not timed above: the first touch of each fresh ${GIB} GiB buffer took ${g.firstTouchMs.toFixed(0)} ms, which a region2h into a fresh buffer pays on top)`);
    }
    const notify = await chipNotify(chip, ITER);
    const b = await bulk(chip);
    const rows = [
      ['control round trip, median (us)', notify.median, raw.median, notify.median / raw.median, '<= 1.3'],
      ['control round trip, p99 (us)', notify.p99, raw.p99, notify.p99 / raw.p99, ''],
      ['h2region 16 MiB (GiB/s)', b.in, b.copy, b.in / b.copy, '>= 0.25'],
      ['region2h 16 MiB, new buffer (GiB/s)', b.out, b.copy, b.out / b.copy, '>= 0.25'],
      ['region2h 16 MiB, into caller buf', b.into, b.copy, b.into / b.copy, '>= 0.25'],
      // The pair into a reused buffer, as `simpler-region bench` measures it: a new 16 MiB buffer per
      // call adds the first touch of fresh memory (the row above), not transport cost.
      ['in + out 32 MiB, into caller buf', 2 / (1 / b.in + 1 / b.into), b.copy, 2 / (1 / b.in + 1 / b.into) / b.copy, ''],
    ];
    if (args.includes('--json')) {
      console.log(JSON.stringify(rows));
      return;
    }
    const pad = (s, n) => String(s).padEnd(n);
    const chunk = chip.transportKind === 'shm' ? `, ${(CHUNK_BYTES === undefined ? DEFAULT_SHM_TUNING.chunkBytes : Number(CHUNK_BYTES)) >> 10} KiB chunks` : '';
    console.log(`L3 benchmark (node ${process.version}, ${chip.transportKind} transport${chunk}, backend ${path.basename(path.dirname(path.dirname(BACKEND)))}, ${ITER} round trips, ${BULK_ITER} x 16 MiB)`);
    console.log(`${pad('measure', 38)}${pad('value', 10)}${pad('baseline', 10)}${pad('ratio', 8)}goal`);
    for (const [name, v, base, ratio, goal] of rows) {
      console.log(`${pad(name, 38)}${pad(v.toFixed(2), 10)}${pad(base.toFixed(2), 10)}${pad(ratio.toFixed(2), 8)}${goal}`);
    }
    console.log('baselines: raw 4096-byte pipe ping-pong with a trivial Node child; in-process Buffer.copy of 16 MiB');
  } finally {
    await chip.shutdown();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});

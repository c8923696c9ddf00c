#!/usr/bin/env node
'use strict';
/*
 * The full soak of issue 8: long runs that must leave memory, file descriptors and /dev/shm flat.
 *
 *   npm run build && node --expose-gc tools/soak.js [--cycles 100000] [--steps 1000000]
 *                                                   [--l3-requests 10000] [--json]
 *
 * Phases (all on the simulator, @simpler/hal-sim):
 *   l2-open-close  N open/close cycles through a level-2 worker
 *   l2-steps       N small steps (64-byte datacopy h2region + notify + bounded wait) at level 2
 *   l3-requests    N requests spread over two chip children (datacopy both ways, notify, wait)
 *
 * For each phase it samples RSS, external memory (ArrayBuffers included), open fds
 * (/proc/self/fd) and /dev/shm entries before, during (10 samples) and after, after a forced GC
 * when --expose-gc is given. Exit status 1 when a resource grew beyond its tolerance.
 */
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
const { createWorker } = require('@simpler/region-core');
const { createBackend } = require('@simpler/hal-sim');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(n) || n <= 0) {
    console.error(`soak: --${name} needs a positive integer, got ${process.argv[i + 1]}`);
    process.exit(2);
  }
  return n;
}

const CYCLES = arg('cycles', 100_000);
const STEPS = arg('steps', 1_000_000);
const L3_REQUESTS = arg('l3-requests', 10_000);
const JSON_OUT = process.argv.includes('--json');
const MiB = 1024 * 1024;
/** Tolerances: memory may wobble with the GC; descriptors and segments must not move at all. */
const RSS_TOLERANCE = 32 * MiB;
const EXTERNAL_TOLERANCE = 16 * MiB;

function sample() {
  if (typeof global.gc === 'function') {
    global.gc();
    global.gc();
  }
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    heapUsed: m.heapUsed,
    fds: fs.readdirSync('/proc/self/fd').length,
    shm: fs.readdirSync('/dev/shm').filter((n) => n.startsWith(`simpler-hdmr-${process.pid}-`)).length,
    shmAll: fs.readdirSync('/dev/shm').length,
  };
}

/** Runs `body(i)` for i in [0, n), sampling resources 10 times along the way. */
async function phase(name, n, body, setup, teardown) {
  const ctx = setup ? await setup() : undefined;
  // Warm-up: the first iterations create lazily allocated pools; they are not a leak.
  const warm = Math.min(1000, Math.floor(n / 10));
  for (let i = 0; i < warm; i++) await body(i, ctx);
  const before = sample();
  const samples = [];
  const t0 = performance.now();
  const every = Math.max(1, Math.floor((n - warm) / 10));
  for (let i = warm; i < n; i++) {
    await body(i, ctx);
    if ((i - warm + 1) % every === 0) samples.push(sample());
  }
  const seconds = (performance.now() - t0) / 1000;
  const during = sample();
  if (teardown) await teardown(ctx);
  const after = sample();
  // An l3 iteration is 8 requests (4 per chip, two chips): report requests, not iterations.
  const unit = name === 'l3-requests' ? 8 : 1;
  return { name, iterations: n * unit, seconds: Number(seconds.toFixed(2)), perSecond: Math.round(((n - warm) * unit) / seconds), before, during, after, samples };
}

async function l2OpenClose() {
  return phase(
    'l2-open-close',
    CYCLES,
    async (i, w) => {
      const r = await w.openMappedRegion(64 + (i % 8192), { signalCount: 1 + (i % 4) });
      await w.closeMappedRegion(r);
    },
    async () => createWorker({ level: 2, backend: await createBackend({ deviceId: 0 }) }),
    (w) => w.close(),
  );
}

async function l2Steps() {
  const bytes = new Uint8Array(64);
  return phase(
    'l2-steps',
    STEPS,
    async (i, c) => {
      bytes[0] = i & 0xff;
      await c.w.mappedRegionDatacopyH2Region(c.r, 0, bytes);
      await c.w.mappedRegionNotify(c.r, 0, i + 1);
      await c.w.mappedRegionWait(c.r, 0, i + 1, 1_000_000);
    },
    async () => {
      const w = await createWorker({ level: 2, backend: await createBackend({ deviceId: 0 }) });
      return { w, r: await w.openMappedRegion(256, { signalCount: 2 }) };
    },
    async (c) => {
      const last = (await c.w.mappedRegionDatacopyRegion2H(c.r, 0, 1))[0];
      if (last !== ((STEPS - 1) & 0xff)) throw new Error(`l2-steps: last byte ${last} is wrong`);
      await c.w.close();
    },
  );
}

async function l3Requests() {
  const payload = Buffer.alloc(1024, 0x5a);
  const perChip = Math.ceil(L3_REQUESTS / 2 / 4); // 4 requests per iteration, two chips in parallel
  let seq = 0;
  return phase(
    'l3-requests',
    perChip,
    async (_i, c) => {
      seq++;
      await Promise.all(
        c.regions.map(async (r) => {
          await c.w.mappedRegionDatacopyH2Region(r, 0, payload);
          await c.w.mappedRegionNotify(r, 0, seq);
          await c.w.mappedRegionWait(r, 0, seq, 1_000_000);
          const back = await c.w.mappedRegionDatacopyRegion2H(r, 0, payload.length);
          if (!payload.equals(Buffer.from(back))) throw new Error('l3-requests: read back different bytes');
        }),
      );
    },
    async () => {
      const w = await createWorker({ level: 3, backend: '@simpler/hal-sim', deviceIds: [0, 1] });
      const regions = await Promise.all([0, 1].map((workerId) => w.openMappedRegion(4096, { signalCount: 1, workerId })));
      return { w, regions };
    },
    async (c) => {
      await c.w.close();
      // Pipes of exited children close asynchronously.
      await new Promise((resolve) => setTimeout(resolve, 200));
    },
  );
}

function verdict(p) {
  const problems = [];
  const { before, during, after } = p;
  if (during.rss - before.rss > RSS_TOLERANCE) problems.push(`RSS grew ${((during.rss - before.rss) / MiB).toFixed(1)} MiB`);
  const ext = during.external - before.external;
  if (ext > EXTERNAL_TOLERANCE) problems.push(`external memory grew ${(ext / MiB).toFixed(1)} MiB`);
  if (during.fds > before.fds) problems.push(`open fds grew ${before.fds} → ${during.fds}`);
  if (after.fds > before.fds) problems.push(`open fds after teardown ${after.fds} > ${before.fds}`);
  if (during.shm > before.shm) problems.push(`/dev/shm entries grew ${before.shm} → ${during.shm}`);
  if (after.shm > 0) problems.push(`${after.shm} segment(s) of ours left in /dev/shm`);
  return problems;
}

function mib(n) {
  return `${(n / MiB).toFixed(1)}`;
}

async function main() {
  const started = sample();
  const phases = [];
  for (const run of [l2OpenClose, l2Steps, l3Requests]) {
    const p = await run();
    p.problems = verdict(p);
    phases.push(p);
    if (!JSON_OUT) {
      console.log(
        `${p.name.padEnd(14)} ${String(p.iterations).padStart(8)} it ${String(p.seconds).padStart(7)} s ${String(p.perSecond).padStart(8)}/s | ` +
          `RSS ${mib(p.before.rss)} → ${mib(p.during.rss)} MiB, external ${mib(p.before.external)} → ${mib(p.during.external)} MiB, ` +
          `fds ${p.before.fds} → ${p.during.fds} → ${p.after.fds} (after close), shm ${p.before.shm} → ${p.during.shm} → ${p.after.shm}` +
          (p.problems.length ? `  PROBLEMS: ${p.problems.join('; ')}` : '  ok'),
      );
    }
  }
  const finished = sample();
  const report = {
    node: process.version,
    gc: typeof global.gc === 'function',
    cycles: CYCLES,
    steps: STEPS,
    l3Requests: L3_REQUESTS,
    start: started,
    end: finished,
    phases: phases.map(({ samples, ...rest }) => ({ ...rest, rssSamplesMiB: samples.map((s) => Number(mib(s.rss))) })),
  };
  if (JSON_OUT) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(`process: RSS ${mib(started.rss)} → ${mib(finished.rss)} MiB, fds ${started.fds} → ${finished.fds}, /dev/shm (all) ${started.shmAll} → ${finished.shmAll}`);
    if (!report.gc) console.log('(run with node --expose-gc for stable memory figures)');
  }
  const failed = phases.some((p) => p.problems.length > 0);
  process.exitCode = failed ? 1 : 0;
}

main().catch((error) => {
  console.error(`soak: ${error && error.stack ? error.stack : String(error)}`);
  process.exitCode = 1;
});

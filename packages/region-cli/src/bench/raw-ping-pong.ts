import { Worker } from 'node:worker_threads';

// The partner thread: answers ping k with pong k by spinning on plain Atomics, bailing out after 10 s idle.
const PARTNER = `
const { workerData, parentPort } = require('node:worker_threads');
const a = new Int32Array(workerData.sab);
parentPort.postMessage('ready');
for (let k = 1; k <= workerData.rounds; k++) {
  let spins = 0;
  const t0 = Date.now();
  while (Atomics.load(a, 0) < k) {
    if (++spins % 1000000 === 0 && Date.now() - t0 > 10000) process.exit(1);
  }
  Atomics.store(a, 16, k);
}
`;

/**
 * The baseline ping-pong: a `SharedArrayBuffer` spin ping-pong between this thread and another,
 * both spinning on `Atomics.load`. Resolves to the round-trip time of each measured round, in
 * microseconds.
 */
export async function rawPingPong(rounds: number, warmup: number): Promise<Float64Array> {
  const sab = new SharedArrayBuffer(128);
  const a = new Int32Array(sab);
  const total = rounds + warmup;
  const partner = new Worker(PARTNER, { eval: true, workerData: { sab, rounds: total } });
  try {
    await new Promise<void>((resolve, reject) => {
      partner.once('message', () => resolve());
      partner.once('error', reject);
    });
    const out = new Float64Array(rounds);
    const deadline = performance.now() + 30_000;
    for (let k = 1; k <= total; k++) {
      const t0 = performance.now();
      Atomics.store(a, 0, k);
      let spins = 0;
      while (Atomics.load(a, 16) < k) {
        if (++spins % 1_000_000 === 0 && performance.now() > deadline) throw new Error(`raw ping-pong: partner thread stopped answering at round ${k}`);
      }
      if (k > warmup) out[k - warmup - 1] = (performance.now() - t0) * 1000;
    }
    return out;
  } finally {
    await partner.terminate();
  }
}

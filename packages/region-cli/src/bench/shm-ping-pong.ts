import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { SharedMemoryObject, shmSupported } from '@simpler/shm';

// The partner process: answers ping k (word 0) with pong k (word 16, another cache line) by spinning
// on plain Atomics over the inherited mapping; a negative ping ends it. It finds @simpler/shm
// through NODE_PATH set to this module's own search paths.
const PARTNER = `
const { SharedMemoryObject } = require('@simpler/shm');
const a = new Int32Array(SharedMemoryObject.fromFd(3).map().buffer);
Atomics.store(a, 32, 1);
for (let k = 1; ; k++) {
  let v;
  while ((v = Atomics.load(a, 0)) < k) if (v < 0) process.exit(0);
  Atomics.store(a, 16, k);
}
`;

/**
 * The shared-memory transport's baseline: a spin ping-pong between this process and a trivial Node
 * child over one word of a shared mapping (`@simpler/shm`), both spinning on `Atomics.load` — the
 * floor for any request through a chip child. Resolves to each measured round trip in microseconds;
 * rejects with ENOTSUP where shared memory is unavailable.
 */
export async function shmPingPong(rounds: number, warmup: number): Promise<Float64Array> {
  if (!shmSupported) throw new Error('shared memory is not supported here');
  const shm = SharedMemoryObject.create(4096, { debugName: 'simpler-bench-ping' });
  const mapping = shm.map();
  const a = new Int32Array(mapping.buffer);
  const env = { ...process.env, NODE_PATH: module.paths.join(path.delimiter) };
  const child = spawn(process.execPath, ['-e', PARTNER], { stdio: ['ignore', 'ignore', 'inherit', shm.fd], env });
  shm.close();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const deadline = performance.now() + 30_000;
    while (Atomics.load(a, 32) === 0) {
      if (child.exitCode !== null || performance.now() > deadline) throw new Error('shm ping-pong: partner process did not start');
      await new Promise((r) => setTimeout(r, 5));
    }
    const out = new Float64Array(rounds);
    const total = rounds + warmup;
    for (let k = 1; k <= total; k++) {
      const t0 = performance.now();
      Atomics.store(a, 0, k);
      let spins = 0;
      while (Atomics.load(a, 16) < k) {
        if (++spins % 1_000_000 === 0 && performance.now() > deadline) throw new Error(`shm ping-pong: partner stopped answering at round ${k}`);
      }
      if (k > warmup) out[k - warmup - 1] = (performance.now() - t0) * 1000;
    }
    return out;
  } finally {
    Atomics.store(a, 0, -1);
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
    mapping.unmap();
  }
}

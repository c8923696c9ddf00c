import { spawn } from 'node:child_process';

// The trivial partner process: echoes whatever it reads.
const ECHO = "process.stdin.on('data', (c) => process.stdout.write(c));";

/**
 * The L3 control baseline: 4096-byte frames (one mailbox block) echoed by a trivial Node child over
 * the same kind of pipes a chip child uses. Resolves to each measured round trip, in microseconds.
 */
export async function pipePingPong(rounds: number, warmup: number): Promise<Float64Array> {
  const child = spawn(process.execPath, ['-e', ECHO], { stdio: ['pipe', 'pipe', 'inherit'] });
  const frame = Buffer.alloc(4096, 7);
  let pending = 0;
  let wake: (() => void) | undefined;
  let failed: Error | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.length;
    if (pending >= 4096 && wake) {
      pending -= 4096;
      const w = wake;
      wake = undefined;
      w();
    }
  });
  child.once('exit', () => {
    failed ??= new Error('pipe ping-pong: echo child exited early');
    wake?.();
  });
  const once = (): Promise<void> =>
    new Promise<void>((resolve) => {
      wake = resolve;
      child.stdin.write(frame);
    });
  try {
    const out = new Float64Array(rounds);
    for (let i = 0; i < warmup + rounds; i++) {
      const t0 = performance.now();
      await once();
      if (failed) throw failed;
      if (i >= warmup) out[i - warmup] = (performance.now() - t0) * 1000;
    }
    return out;
  } finally {
    child.stdin.end();
    child.kill();
  }
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Runs `op` repeatedly, batch by batch, until at least `minMs` passed, and returns the mean time per
 * call in nanoseconds. The batch grows so the clock is read rarely compared with the work.
 */
export function nsPerOp(op: () => void, minMs: number): number {
  op();
  let batch = 1;
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let i = 0; i < batch; i++) op();
    calls += batch;
    elapsed = performance.now() - start;
    if (elapsed < minMs / 8) batch *= 2;
  }
  return (elapsed * 1e6) / calls;
}

/**
 * Measures candidate and baseline in alternating trials (so both see the same machine load) and
 * returns the median of each, in whatever `measure` returns.
 */
export function alternate(trials: number, candidate: () => number, baseline: () => number): { value: number; baseline: number } {
  const a: number[] = [];
  const b: number[] = [];
  for (let t = 0; t < trials; t++) {
    if (t % 2 === 0) {
      a.push(candidate());
      b.push(baseline());
    } else {
      b.push(baseline());
      a.push(candidate());
    }
  }
  return { value: median(a), baseline: median(b) };
}

/** Bytes per nanosecond is GB/s. */
export function gbPerSecond(bytes: number, ns: number): number {
  return bytes / ns;
}

/** The samples of several runs, one after the other. */
export function concat(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

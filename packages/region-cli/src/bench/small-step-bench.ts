import { DeviceContext } from '@simpler/region-core';
import { BenchBudget } from './bench-budget';
import { BenchRow, benchRow } from './bench-result';
import { alternate, nsPerOp } from './measure';

/** Issue 3's goal for one small step against raw typed-array writes plus Atomics. */
export const SMALL_STEP_GOAL = { op: '<=', ratio: 3 } as const;

/**
 * One small step — 64-byte h2region, notify, probe — through the owner-process device context,
 * against the same work done raw on a `SharedArrayBuffer`: `Uint8Array.set` of the 64 bytes,
 * `Atomics.store` of the signal, `Atomics.load` compared with the target.
 */
export function measureSmallStep(ctx: DeviceContext, budget: BenchBudget): BenchRow {
  const handle = ctx.open(4096, 2, 0);
  try {
    const payload = new Uint8Array(64).map((_, i) => i);
    let seq = 0;
    let hits = 0;
    const step = (): void => {
      ctx.datacopyH2Region(handle, 0, payload);
      ctx.notify(handle, 0, ++seq);
      if (ctx.probe(handle, 0, seq)) hits++;
    };
    // The same region shape as the context's: header, two 64-byte slots, data at 192.
    const raw = new SharedArrayBuffer(192 + 4096);
    const bytes = new Uint8Array(raw);
    const words = new Int32Array(raw);
    let rawSeq = 0;
    const rawStep = (): void => {
      bytes.set(payload, 192);
      Atomics.store(words, 16, ++rawSeq);
      if (Atomics.load(words, 16) >>> 0 >= rawSeq) hits++;
    };
    const r = alternate(
      budget.trials,
      () => nsPerOp(step, budget.minTrialMs),
      () => nsPerOp(rawStep, budget.minTrialMs),
    );
    if (hits === 0) throw new Error('small-step benchmark: no probe ever hit');
    return benchRow('l2.small-step.h2region64+notify+probe', r.value, r.baseline, 'ns', 'Uint8Array.set + Atomics', SMALL_STEP_GOAL);
  } finally {
    ctx.close(handle);
  }
}

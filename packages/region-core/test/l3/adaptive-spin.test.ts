import { AdaptiveSpin, ChunkWaitSpin, MIN_CHUNK_SPIN_US } from '../../src/l3/adaptive-spin';

describe('AdaptiveSpin', () => {
  it('halves its budget after each wait that had to sleep, down to off, and restores it after one that paid', () => {
    const spin = new AdaptiveSpin(64);
    expect(spin.budgetUs).toBe(64);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      spin.record(false);
      seen.push(spin.budgetUs);
    }
    expect(seen).toEqual([32, 16, 8, 4, 2, 0]);
    spin.record(true);
    expect(spin.budgetUs).toBe(64);
  });

  it('while off, spins the full budget once every 32 waits to find out whether spinning pays again', () => {
    const spin = new AdaptiveSpin(64);
    for (let i = 0; i < 6; i++) spin.record(false);
    const budgets = Array.from({ length: 64 }, () => spin.budgetUs);
    expect(budgets.filter((b) => b === 64)).toHaveLength(2);
    expect(budgets.filter((b) => b === 0)).toHaveLength(62);
  });
});

describe('ChunkWaitSpin', () => {
  it('spins at most twice the last chunk copy of its own side', () => {
    const spin = new ChunkWaitSpin(500);
    expect(spin.budgetUs).toBe(500);
    spin.copied(40);
    expect(spin.budgetUs).toBe(80);
    spin.copied(400);
    expect(spin.budgetUs).toBe(500);
  });

  it(`never below ${MIN_CHUNK_SPIN_US} µs for a tiny chunk, nor above what the adaptive budget allows`, () => {
    const spin = new ChunkWaitSpin(500);
    spin.copied(1);
    expect(spin.budgetUs).toBe(MIN_CHUNK_SPIN_US);
    const small = new ChunkWaitSpin(10);
    small.copied(1);
    expect(small.budgetUs).toBe(10);
  });

  it('probes with the capped budget while spinning is off: a probe on a shared core costs two chunk copies, not the full budget', () => {
    const spin = new ChunkWaitSpin(500);
    spin.copied(30);
    for (let i = 0; i < 10; i++) spin.record(false);
    const budgets = Array.from({ length: 32 }, () => spin.budgetUs);
    expect(Math.max(...budgets)).toBe(60);
    expect(budgets.filter((b) => b > 0)).toHaveLength(1);
  });
});

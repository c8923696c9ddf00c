import { AdaptiveSpin } from '../src/timing/adaptive-spin';

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

/** How strongly one new observation moves the average (1/8: the last dozen or so waits count). */
const WEIGHT = 1 / 8;

/**
 * A spin budget that follows how long waits actually take. While the average wait fits in
 * `maxUs`, a side spins the full budget (the answer will most likely come while it spins); once
 * waits take longer (a loaded machine, a peer that thinks between requests), spinning would only
 * burn a core that the peer may need, so it sleeps at once — until waits get short again.
 *
 * @example
 * const spin = new AdaptiveSpin(50);
 * const t0 = nowUs(); if (!spinUntil(ready, spin.budgetUs)) sleep(); ... spin.record(nowUs() - t0);
 */
export class AdaptiveSpin {
  private averageUs = 0;

  constructor(
    /** The largest budget, in µs (0 = never spin). */
    readonly maxUs: number,
  ) {}

  /** The budget for the next wait, in µs. */
  get budgetUs(): number {
    return this.averageUs <= this.maxUs ? this.maxUs : 0;
  }

  /**
   * Records how long a wait took, spun or slept, in µs. A wait counts at most twice the budget:
   * one long pause (a peer busy elsewhere, a slow command) must not stop the spinning for long.
   */
  record(waitedUs: number): void {
    const capped = waitedUs < 2 * this.maxUs ? waitedUs : 2 * this.maxUs;
    this.averageUs += (capped - this.averageUs) * WEIGHT;
  }
}

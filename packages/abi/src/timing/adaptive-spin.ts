/** While spinning is off, one wait in this many spins the full budget anyway, to notice when it pays again. */
const PROBE_EVERY = 32;
/** Below this many µs a halved budget is worth nothing: spinning turns off. */
const MIN_BUDGET_US = 2;

/**
 * A spin budget that follows whether spinning pays. A wait that ends while spinning restores the
 * full budget; one that had to sleep halves it, down to off. The case this guards against was
 * measured on the 2-core development machine: when the peer process runs on the same core (the
 * doorbell that woke us often lands us on the peer's core), our spinning keeps the peer off the CPU
 * until the spin ends, so every request costs the whole budget plus a wake-up. While off, every
 * {@link PROBE_EVERY}th wait spins the full budget to find out whether the peer has a core again.
 *
 * @example
 * const spin = new AdaptiveSpin(50);
 * const caught = spinUntil(ready, spin.budgetUs); if (!caught) sleep(); ... spin.record(caught);
 */
export class AdaptiveSpin {
  private budget: number;
  private sinceProbe = 0;

  constructor(
    /** The largest budget, in µs (0 = never spin). */
    readonly maxUs: number,
  ) {
    this.budget = maxUs;
  }

  /** The budget for the next wait, in µs. */
  get budgetUs(): number {
    if (this.budget > 0) return this.budget;
    if (++this.sinceProbe < PROBE_EVERY) return 0;
    this.sinceProbe = 0;
    return this.maxUs;
  }

  /** Records whether the last wait ended while spinning (true) or only after sleeping (false). */
  record(caughtSpinning: boolean): void {
    if (caughtSpinning) this.budget = this.maxUs;
    else this.budget = this.budget / 2 >= MIN_BUDGET_US ? this.budget / 2 : 0;
  }
}

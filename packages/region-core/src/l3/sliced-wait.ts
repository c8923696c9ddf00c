import type { InvalidArgumentError, WaitTimeoutError } from '@simpler/abi';
import { now, waitAbandonedError, waitTimeoutError } from '../context/wait-strategy';

/**
 * Longest piece of a wait the L3 parent asks a chip for in one request, in microseconds. A chip
 * serves one request at a time and cannot be interrupted, so this bounds how long a close of the
 * region (or of the worker), or any request queued behind the wait, can be kept waiting.
 */
export const WAIT_SLICE_US = 25_000;

/**
 * A bounded wait as the L3 parent runs it: the caller's timeout, cut into requests of at most
 * {@link WAIT_SLICE_US}, against one deadline on the parent's monotonic clock that starts when
 * the first slice is sent. A wait that fits in one slice is one request, as before.
 *
 * @example
 * const w = new SlicedWait(handle, 0, 1, 60_000_000);
 * frame.setArg(3, w.nextTimeoutUs(now())); // after each EAGAIN: w.expired(now()) ? w.timeoutError(...) : send again
 */
export class SlicedWait {
  private started = -1;
  private deadline = Infinity;

  constructor(
    /** Region handle. */
    readonly handle: number,
    /** Signal slot. */
    readonly signalId: number,
    /** Value the slot must reach. */
    readonly target: number,
    /** The caller's timeout in microseconds (> 0). */
    readonly timeoutUs: number,
  ) {}

  /**
   * ARG3 of the next request: the whole timeout when it fits one slice, else one slice or what
   * is left of the caller's time; 0 (a last look) once the deadline passed while it was queued.
   */
  nextTimeoutUs(time: number): number {
    if (this.started < 0) {
      this.started = time;
      this.deadline = time + this.timeoutUs / 1000;
      return this.timeoutUs < WAIT_SLICE_US ? this.timeoutUs : WAIT_SLICE_US;
    }
    const left = Math.ceil((this.deadline - time) * 1000);
    if (left <= 0) return 0;
    return left < WAIT_SLICE_US ? left : WAIT_SLICE_US;
  }

  /** True once the caller's deadline passed: a missed slice is then the caller's `EAGAIN`. */
  expired(time: number): boolean {
    return time >= this.deadline;
  }

  /** The caller's `EAGAIN`, worded as at L2, with the value the chip saw last. */
  timeoutError(observed: number, time: number = now()): WaitTimeoutError {
    return waitTimeoutError(this.handle, this.signalId, this.target, observed, this.timeoutUs, time - this.started);
  }

  /** The `EINVAL` of a wait whose region or worker closed while it was pending (as at L2). */
  abandoned(): InvalidArgumentError {
    return waitAbandonedError(this.handle, this.signalId);
  }
}

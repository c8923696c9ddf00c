import { performance } from 'node:perf_hooks';
import { BackendAllocation, InvalidArgumentError, WaitTimeoutError, describe, rejectUnknownKeys } from '@simpler/abi';
import { backendFailure } from '../backend/backend-failure';
import { WAIT_TUNING_KEYS } from '../options/option-keys';

/**
 * How long a wait spins before it blocks or yields. Spinning answers a fast peer in well under a
 * microsecond while a sleeping thread takes tens of microseconds to wake, so a short spin pays
 * off; beyond it the cost is a burnt core (sync) or a blocked event loop (async).
 */
export interface WaitTuning {
  /** Spin budget of a blocking wait, in microseconds. */
  readonly syncSpinUs: number;
  /** Spin budget of an async wait before it yields to the event loop, in microseconds. */
  readonly asyncSpinUs: number;
  /** Longest single block/sleep slice, in milliseconds (a peer may store without Atomics.notify). */
  readonly maxSliceMs: number;
}

/** Defaults used by every DeviceContext unless overridden. */
export const DEFAULT_WAIT_TUNING: WaitTuning = Object.freeze({ syncSpinUs: 50, asyncSpinUs: 10, maxSliceMs: 2 });

/** Validates wait tuning overrides against {@link WAIT_TUNING_LIMITS} (values outside stall the event loop). */
export function checkWaitTuning(overrides: unknown): WaitTuning {
  if (overrides === undefined) return DEFAULT_WAIT_TUNING;
  if (typeof overrides !== 'object' || overrides === null) {
    throw new InvalidArgumentError(`waitTuning must be an object, got ${describe(overrides)}`);
  }
  rejectUnknownKeys(overrides, WAIT_TUNING_KEYS);
  const tuning = { ...DEFAULT_WAIT_TUNING, ...overrides } as Record<keyof WaitTuning, unknown>;
  for (const key of ['syncSpinUs', 'asyncSpinUs', 'maxSliceMs'] as const) {
    const v = tuning[key];
    const [min, max] = WAIT_TUNING_LIMITS[key];
    if (typeof v !== 'number' || !(v >= min && v <= max)) {
      const range = max === Number.MAX_VALUE ? `>= ${min}` : `in ${min}..${max}`;
      throw new InvalidArgumentError(`waitTuning.${key} must be a finite number ${range}, got ${describe(v)}`);
    }
  }
  return tuning as unknown as WaitTuning;
}

/** First block/sleep slice after the spin, in milliseconds; doubles up to `maxSliceMs`. */
export const FIRST_SLICE_MS = 0.05;

/**
 * Accepted range of each {@link WaitTuning} field. A slice cap below the first slice would make
 * the backoff pointless, and V8 rounds an `Atomics.waitAsync` timeout under 1 ns to zero, which
 * completes synchronously: an async wait then loops in microtasks and starves the event loop
 * until its deadline. Above a second a peer that stores without notifying goes unseen too long.
 * An async spin beyond a millisecond is the event-loop stall the async wait exists to avoid.
 */
export const WAIT_TUNING_LIMITS: Readonly<Record<keyof WaitTuning, readonly [min: number, max: number]>> = Object.freeze({
  syncSpinUs: [0, Number.MAX_VALUE],
  asyncSpinUs: [0, 1000],
  maxSliceMs: [FIRST_SLICE_MS, 1000],
});

/** Monotonic milliseconds. */
export const now: () => number = performance.now.bind(performance);

// A private shared word nobody ever notifies: Atomics.wait on it is a precise blocking sleep.
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the calling thread for `ms` milliseconds (sub-millisecond precision). */
export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

/** Yields to the event loop: a macrotask turn for tiny delays, a timer otherwise. */
export function sleepAsync(ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (ms < 1) setImmediate(resolve);
    else setTimeout(resolve, ms);
  });
}

/**
 * One sleep of a wait on memory that is not a SharedArrayBuffer (no `Atomics.wait` there): the
 * allocation's own `sleepSignal`, which its publishers wake, or else a plain sleep (the wait polls).
 */
export function sleepOnSignal(backendName: string, allocation: BackendAllocation, offset: number, observed: number, ms: number): void {
  const sleep = allocation.sleepSignal;
  if (sleep === undefined) return sleepSync(ms);
  try {
    sleep.call(allocation, offset, observed, ms);
  } catch (error) {
    throw backendFailure(backendName, `sleepSignal(${offset})`, error);
  }
}

/** {@link sleepOnSignal} for async waits: `sleepSignalAsync`, else a timer; never a blocked event loop. */
export async function sleepOnSignalAsync(backendName: string, allocation: BackendAllocation, offset: number, observed: number, ms: number): Promise<void> {
  const sleep = allocation.sleepSignalAsync;
  if (sleep === undefined) return sleepAsync(ms);
  try {
    await sleep.call(allocation, offset, observed, ms);
  } catch (error) {
    throw backendFailure(backendName, `sleepSignalAsync(${offset})`, error);
  }
}

type WaitAsyncFn = (array: Int32Array, index: number, value: number, timeout?: number) => { async: boolean; value: Promise<unknown> | string };
const atomicsWaitAsync: WaitAsyncFn | undefined = (Atomics as unknown as { waitAsync?: WaitAsyncFn }).waitAsync;

/** True when `Atomics.waitAsync` is available in this runtime. */
export const HAS_WAIT_ASYNC = typeof atomicsWaitAsync === 'function';

/**
 * Sleeps until the shared word at `index` changes from `observed`, is notified, or `ms` pass,
 * without blocking the event loop. Falls back to a timer when waitAsync is missing.
 */
export function waitWordAsync(signals: Int32Array, index: number, observed: number, ms: number): Promise<unknown> | undefined {
  if (!atomicsWaitAsync) return sleepAsync(ms);
  const result = atomicsWaitAsync(signals, index, observed, ms);
  return result.async ? (result.value as Promise<unknown>) : undefined;
}

/** The next slice of a backoff: doubles, capped by the maximum and by the time left. */
export function nextSlice(slice: number, maxMs: number, remainingMs: number): number {
  const doubled = slice * 2;
  const capped = doubled > maxMs ? maxMs : doubled;
  return capped > remainingMs ? remainingMs : capped;
}

// The slot value each timeout saw, kept off the error object so it adds nothing to the public
// surface; a chip child sends it back in the reply's RESULT (docs/l3-protocol.md).
const observedAtTimeout = new WeakMap<object, number>();

/** The `EAGAIN` of a wait that reached its deadline (or a probe that missed). */
export function waitTimeoutError(handle: number, signalId: number, target: number, observed: number, timeoutUs: number, elapsedMs: number): WaitTimeoutError {
  let error: WaitTimeoutError;
  if (timeoutUs === 0) {
    error = new WaitTimeoutError(`probe of signal slot ${signalId} (region handle ${handle}) missed: value ${observed} < target ${target}`);
  } else {
    const elapsedUs = Math.round(elapsedMs * 1000);
    error = new WaitTimeoutError(
      `wait on signal slot ${signalId} (region handle ${handle}) timed out after ${elapsedUs} us (timeout ${timeoutUs} us): ` +
        `target ${target}, last observed value ${observed}`,
    );
  }
  observedAtTimeout.set(error, observed);
  return error;
}

/** The slot value a {@link waitTimeoutError} reported, or undefined for any other error. */
export function observedValueOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null ? observedAtTimeout.get(error) : undefined;
}

/** The `EINVAL` of a wait whose region was closed (or whose worker closed) while it was pending. */
export function waitAbandonedError(handle: number, signalId: number): InvalidArgumentError {
  return new InvalidArgumentError(`region handle ${handle} was closed while a wait on signal slot ${signalId} was pending`);
}

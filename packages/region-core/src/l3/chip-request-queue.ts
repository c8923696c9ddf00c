import { performance } from 'node:perf_hooks';
import { BackendError, ERRNO, InvalidArgumentError, MailboxFrame, MailboxState, isRegionError, regionErrorForErrno } from '@simpler/abi';
import { now } from '../context/wait-strategy';
import type { SlicedWait } from './sliced-wait';

const WATCHDOG_MS = 200;

/** What a {@link ChipRequestQueue} needs from the endpoint that drives it. */
export interface ChipRequestHost {
  /** Worker id, for messages. */
  readonly workerId: number;
  /** Process id of the chip child, for the message of a missed deadline. */
  readonly pid: number | undefined;
  /** Sends one request block to the child. */
  send(frame: Uint8Array): void;
  /** Gives back the carrier space of a failed transfer. */
  giveBack(): void;
  /** Fails the whole endpoint (a protocol fault or a missed deadline). */
  fail(error: Error): void;
  /** Keeps the event loop alive (`true`) or lets it go. */
  setReferenced(on: boolean): void;
}

/** Fills the request frame; may finish asynchronously (a payload to stage first). */
export type PrepareRequest = (f: MailboxFrame) => void | Promise<void>;

interface Pending {
  readonly prepare: PrepareRequest;
  readonly finish: (f: MailboxFrame) => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly what: string;
  /** A payload travels through the carrier: a failure gives its space back. */
  readonly transfer: boolean;
  /** A wait with a timeout, sent to the chip in slices. */
  readonly wait: SlicedWait | undefined;
}

/** The `EINVAL` of a request to a worker its caller closed. */
export function workerClosedError(workerId: number): InvalidArgumentError {
  return new InvalidArgumentError(`worker ${workerId} is closed`);
}

/**
 * The requests of one chip child: one in flight at a time, FIFO, each bounded by the request
 * budget (checked by a watchdog), replies matched to the request in flight, and a bounded wait
 * sent in slices that go back to the end of the queue between them.
 *
 * @example
 * const q = new ChipRequestQueue(host, 60_000); q.watch();
 * await q.request('notify', (f) => { f.command = MailboxCommand.NOTIFY; f.setArg(0, h); }, () => undefined);
 */
export class ChipRequestQueue {
  private readonly requestFrame = new MailboxFrame();
  private readonly queue: Pending[] = [];
  /** Regions whose close was asked for: waits on them end at their next slice boundary. */
  private readonly closingRegions = new Set<number>();
  private inFlight: Pending | undefined;
  private deadline = Infinity;
  private failure: Error | undefined;
  private closed = false;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: ChipRequestHost,
    /** Bound on any one reply beyond a wait slice's own timeout, in ms (0 = none). */
    private readonly budgetMs: number,
  ) {}

  /** Starts the watchdog that fails the host when a reply is overdue; it never holds the process. */
  /** True when no request is queued or in flight: everything sent so far was answered. */
  get idle(): boolean {
    return this.inFlight === undefined && this.queue.length === 0;
  }

  watch(): void {
    this.watchdog = setInterval(() => this.checkDeadline(), WATCHDOG_MS);
    this.watchdog.unref();
  }

  /**
   * Queues a request: `prepare` fills the frame when its turn comes, `finish` turns a successful
   * reply into the value. `transfer` marks a payload in the carrier; `wait` a sliced wait.
   */
  request<T>(
    what: string,
    prepare: PrepareRequest,
    finish: (f: MailboxFrame) => T | Promise<T>,
    transfer = false,
    wait: SlicedWait | undefined = undefined,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      if (this.closed) return reject(workerClosedError(this.host.workerId));
      this.queue.push({ prepare, finish, resolve: resolve as (v: unknown) => void, reject, what, transfer, wait });
      this.pump();
    });
  }

  /** Marks a region closing: a wait on it ends with `EINVAL` at its next slice boundary. */
  beginRegionClose(handle: number): void {
    this.closingRegions.add(handle);
  }

  /** The close of a region settled. */
  endRegionClose(handle: number): void {
    this.closingRegions.delete(handle);
  }

  /** True while a close of the region is pending. */
  regionClosing(handle: number): boolean {
    return this.closingRegions.has(handle);
  }

  /** Matches a `CONTROL_DONE` reply (or anything else the ready child sent) to the request in flight. */
  receive(f: MailboxFrame): void {
    const item = this.inFlight;
    const id = this.host.workerId;
    if (item === undefined || f.state !== MailboxState.CONTROL_DONE) {
      this.host.fail(new BackendError(`worker ${id}: chip child sent an unexpected frame (state ${f.state})`));
      return;
    }
    this.deadline = Infinity;
    if (f.command !== this.requestFrame.command) {
      this.host.fail(new BackendError(`worker ${id}: chip child answered command ${f.command} to request ${this.requestFrame.command}`));
      return;
    }
    if (f.error !== 0) {
      if (item.wait !== undefined && f.error === ERRNO.EAGAIN) this.sliceMissed(item, item.wait, f.result);
      else this.complete(item, regionErrorForErrno(f.error, f.errorMessage), undefined);
      return;
    }
    let value: unknown;
    try {
      value = item.finish(f);
    } catch (error) {
      this.complete(item, error, undefined);
      return;
    }
    if (value instanceof Promise) value.then((v) => this.complete(item, undefined, v), (e: unknown) => this.complete(item, e, undefined));
    else this.complete(item, undefined, value);
  }

  /**
   * The caller closed the worker: pending requests fail at once with `EINVAL` (a wait with the
   * same message as at L2), later ones with {@link workerClosedError}.
   */
  close(): void {
    this.closed = true;
    const id = this.host.workerId;
    this.rejectPending((item) => item.wait?.abandoned() ?? new InvalidArgumentError(`worker ${id} was closed while its ${item.what} request was pending`));
  }

  /** Fails everything pending and later with `error` and stops the watchdog. */
  fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    if (this.watchdog) clearInterval(this.watchdog);
    this.rejectPending(() => error);
  }

  private complete(item: Pending, error: unknown, value: unknown): void {
    if (this.inFlight !== item) return; // already failed by a fault
    this.inFlight = undefined;
    if (error === undefined) {
      item.resolve(value);
    } else {
      // A failed transfer may have filled /dev/shm (on either side): other workers need that room.
      if (item.transfer) this.host.giveBack();
      item.reject(isRegionError(error) ? error : this.localFailure(item, error));
    }
    this.pump();
  }

  /**
   * A slice of a wait ended below target (RESULT = the value the chip saw last): `EINVAL` if the
   * region is closing, the caller's `EAGAIN` once its deadline passed, else another slice, after
   * whatever was queued meanwhile (a wait yields the chip between slices).
   */
  private sliceMissed(item: Pending, w: SlicedWait, observed: number): void {
    const time = now();
    if (this.closingRegions.has(w.handle)) return this.complete(item, w.abandoned(), undefined);
    if (w.expired(time)) return this.complete(item, w.timeoutError(observed, time), undefined);
    this.inFlight = undefined;
    this.queue.push(item);
    this.pump();
  }

  /** A failure on this side of the transport (segment I/O) as a typed error; a full /dev/shm is already `ENOMEM`. */
  private localFailure(item: Pending, error: unknown): Error {
    const message = `worker ${this.host.workerId}: ${item.what} failed in the parent: ${error instanceof Error ? error.message : String(error)}`;
    return new BackendError(message, { cause: error });
  }

  private pump(): void {
    if (this.inFlight !== undefined || this.failure !== undefined) return;
    const item = this.queue.shift();
    if (item === undefined) {
      this.host.setReferenced(false);
      return;
    }
    this.host.setReferenced(true);
    this.inFlight = item;
    const f = this.requestFrame.clearFields();
    f.state = MailboxState.CONTROL_REQUEST;
    let prepared: void | Promise<void>;
    try {
      prepared = item.prepare(f);
    } catch (error) {
      this.complete(item, error, undefined);
      return;
    }
    if (prepared instanceof Promise) prepared.then(() => this.transmit(item), (e: unknown) => this.complete(item, e, undefined));
    else this.transmit(item);
  }

  private transmit(item: Pending): void {
    if (this.inFlight !== item) return;
    const budget = this.budgetMs;
    // A wait slice may take its own timeout (ARG3) before the reply is due.
    const slice = item.wait !== undefined ? this.requestFrame.arg(3) / 1000 : 0;
    this.deadline = budget > 0 ? performance.now() + budget + slice : Infinity;
    this.host.send(this.requestFrame.bytes);
  }

  private checkDeadline(): void {
    if (this.inFlight !== undefined && performance.now() > this.deadline) {
      this.host.fail(new BackendError(`worker ${this.host.workerId}: chip child (pid ${this.host.pid}) did not answer ${this.inFlight.what} in time`));
    }
  }

  /** Settles every request in flight or queued with an error; nothing is pending afterwards. */
  private rejectPending(errorFor: (item: Pending) => Error): void {
    const pending = this.inFlight ? [this.inFlight, ...this.queue] : [...this.queue];
    this.inFlight = undefined;
    this.queue.length = 0;
    this.deadline = Infinity;
    for (const item of pending) item.reject(errorFor(item));
  }
}

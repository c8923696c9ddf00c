import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  BackendError,
  ERRNO,
  InvalidArgumentError,
  MailboxCommand,
  MailboxFrame,
  MailboxState,
  UnsupportedError,
  decodeInfo,
  isRegionError,
  isValidCopyRange,
  regionErrorForErrno,
} from '@simpler/abi';
import type { Endpoint, EndpointInfo, RegionAccess } from '../worker/endpoint';
import { FrameTransport, PipeFrameTransport } from './frame-transport';
import type { ParentPayloadCarrier } from './payload-carrier';
import { SegmentCarrier } from './segment-carrier';
import { checkSegmentPrefix, defaultSegmentPrefix, viewByteLength } from './sideband-segment';
import { L3Transport } from './shm-layout';
import { ShmTuning, ShmParentLink } from './shm-parent-link';
import { defaultTransport, shmTuningOf } from './transport-choice';
import { trackEndpoint, untrackEndpoint } from './process-cleanup';
import { SlicedWait } from './sliced-wait';
import { now } from '../context/wait-strategy';

/** The raw reply to a share request (docs/l3-protocol.md section 10), not yet checked. */
export interface ShareReply {
  /** ARG0: the child's descriptor number. */
  readonly fd: bigint;
  /** ARG1: offset of the region in the object. */
  readonly offset: bigint;
  /** ARG2: bytes of the region. */
  readonly length: bigint;
  /** ARG3: offset of the futex sleeper count, or all ones for memory whose sleepers poll. */
  readonly wake: bigint;
  /** RESULT: inode number of the object. */
  readonly inode: bigint;
}

/** Options of {@link ChipEndpoint.spawn}. */
export interface ChipEndpointOptions {
  /** Device id the child owns (also the worker id). */
  readonly deviceId: number;
  /** Backend module name or absolute path, resolved by the child from its working directory. */
  readonly backend: string;
  /** JSON-serialisable options for the backend factory. */
  readonly backendOptions?: Readonly<Record<string, unknown>>;
  /** Bound on the init handshake, in ms (default 30 000). */
  readonly initTimeoutMs?: number;
  /** Bound on any one reply beyond a wait's own timeout, in ms (default 60 000; 0 = none). */
  readonly requestTimeoutMs?: number;
  /** How long close waits for the child to exit before SIGKILL, in ms (default 2 000). */
  readonly shutdownGraceMs?: number;
  /** The child's stderr: inherited (default), forwarded through this process, or dropped. */
  readonly stderr?: 'inherit' | 'pipe' | 'ignore';
  /** Segment-name prefix (default `simpler-hdmr-<pid>-`). */
  readonly segmentPrefix?: string;
  /** Path of chip-child-main.js (default: the one built next to this module). */
  readonly childMain?: string;
  /** What carries frames and payloads (default `'shm'` where shared memory is available, else `'pipe'`). */
  readonly transport?: L3Transport;
  /** Spin budgets and chunk size of the shared-memory transport (defaults in `shm-layout`). */
  readonly shmTuning?: Partial<ShmTuning>;
}

const WATCHDOG_MS = 200;
/** After 'exit', how long to wait for the pipes to drain before failing requests anyway. */
const EXIT_DRAIN_MS = 300;

interface Pending {
  readonly prepare: (f: MailboxFrame) => void | Promise<void>;
  readonly finish: (f: MailboxFrame) => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly budgetMs: number;
  readonly what: string;
  /** A payload travels through the carrier: a failure gives its space back. */
  readonly transfer: boolean;
  /** A wait with a timeout, sent to the chip in slices. */
  readonly wait: SlicedWait | undefined;
}

/** Finds the compiled child entry point, also when this module runs from sources (ts-jest). */
export function defaultChildMain(): string {
  const beside = path.join(__dirname, 'chip-child-main.js');
  if (existsSync(beside)) return beside;
  return path.resolve(__dirname, '..', '..', 'dist', 'l3', 'chip-child-main.js');
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by signal ${signal}` : `exited with code ${code}`;
}

/**
 * The L3 endpoint: one chip child process reached through 4096-byte mailbox blocks (pipes or a
 * shared control block), with one request in flight at a time (FIFO; a long wait goes in slices
 * and lets the queue run between them), payloads carried by a side-band segment or the
 * shared-memory data window, and every failure of the child turned into `BackendError` for the
 * pending and later requests (`EINVAL` once the caller closed it).
 *
 * @example
 * const chip = await ChipEndpoint.spawn({ deviceId: 0, backend: '@simpler/hal-sim' });
 * const h = await chip.open(4096, 2, 0); await chip.notify(h, 0, 1); await chip.shutdown();
 */
export class ChipEndpoint implements Endpoint {
  readonly workerId: number;
  /** Platform the child's backend reported in its init-done frame (`unknown` if it named none). */
  platform = 'unknown';
  private readonly requestFrame = new MailboxFrame();
  private readonly replyFrame = new MailboxFrame();
  private readonly queue: Pending[] = [];
  private readonly sizes = new Map<number, number>();
  /** Regions whose close was asked for: waits on them end at their next slice boundary. */
  private readonly closingRegions = new Set<number>();
  private readonly lostListeners: ((error: Error) => void)[] = [];
  private inFlight: Pending | undefined;
  private deadline = Infinity;
  private failure: Error | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private ready = false;
  private referenced = true;
  private closing: Promise<void> | undefined;
  private exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;
  private initSettle: { resolve: () => void; reject: (e: Error) => void } | undefined;

  private constructor(
    private readonly options: ChipEndpointOptions,
    private readonly child: ChildProcess,
    private readonly transport: FrameTransport,
    private readonly carrier: ParentPayloadCarrier,
    /** What carries this child's frames and payloads. */
    readonly transportKind: L3Transport,
  ) {
    this.workerId = options.deviceId;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Spawns the child and resolves once it reported init done (state 6). */
  static async spawn(options: ChipEndpointOptions): Promise<ChipEndpoint> {
    const prefix = checkSegmentPrefix(options.segmentPrefix ?? defaultSegmentPrefix(process.pid));
    const argv = [options.childMain ?? defaultChildMain(), '--device-id', String(options.deviceId), '--backend', options.backend];
    if (options.backendOptions !== undefined) argv.push('--backend-options', JSON.stringify(options.backendOptions));
    if (options.segmentPrefix !== undefined) argv.push('--segment-prefix', prefix);
    const kind = options.transport ?? defaultTransport();
    const shm = kind === 'shm' ? ShmParentLink.create(shmTuningOf(options.shmTuning)) : undefined;
    const stderr = options.stderr ?? 'inherit';
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, shm ? [...argv, ...shm.argv] : argv, { stdio: ['pipe', 'pipe', stderr, ...(shm?.stdio ?? [])], windowsHide: true });
    } catch (error) {
      shm?.abandon();
      throw error;
    }
    if (stderr === 'pipe') child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    const transport = shm ?? new PipeFrameTransport({ input: child.stdout!, output: child.stdin! });
    const carrier = shm ?? new SegmentCarrier(prefix);
    const endpoint = new ChipEndpoint({ ...options, segmentPrefix: prefix }, child, transport, carrier, kind);
    shm?.connect(child, (error) => endpoint.fail(new BackendError(`worker ${endpoint.workerId}: ${error.message}`, { cause: error })));
    endpoint.attach();
    try {
      await endpoint.handshake(options.initTimeoutMs ?? 30_000);
    } catch (error) {
      await endpoint.shutdown();
      throw error;
    }
    return endpoint;
  }

  /** Process id of the chip child. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Name of this pair's side-band segment, once one was created (pipe transport only). */
  get segmentName(): string | undefined {
    return this.carrier instanceof SegmentCarrier ? this.carrier.segmentName : undefined;
  }

  /** The error every request now fails with, when the child is lost. */
  get lost(): Error | undefined {
    return this.failure;
  }

  private attach(): void {
    const child = this.child;
    trackEndpoint(this);
    this.transport.onFrame((frame) => this.receive(frame));
    child.on('error', (error) => this.fail(new BackendError(`worker ${this.workerId}: chip child failed: ${error.message}`)));
    child.once('exit', (code, signal) => {
      this.exitStatus = { code, signal };
      setTimeout(() => this.childGone(), EXIT_DRAIN_MS).unref();
    });
    child.once('close', () => this.childGone());
    this.watchdog = setInterval(() => this.checkDeadline(), WATCHDOG_MS);
    this.watchdog.unref();
  }

  private handshake(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new BackendError(`worker ${this.workerId}: chip child did not report init done within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (error?: Error): void => {
        clearTimeout(timer);
        this.initSettle = undefined;
        if (error) reject(error);
        else resolve();
      };
      this.initSettle = { resolve: () => done(), reject: done };
    });
  }

  private receive(frame: Uint8Array): void {
    // After shutdown began every request is settled already; a late reply is no protocol error.
    if (this.closing !== undefined) return;
    const f = this.replyFrame;
    f.bytes.set(frame);
    if (!this.ready) {
      if (f.state === MailboxState.INIT_DONE) {
        this.ready = true;
        if (f.nameTerminated && f.name !== '') this.platform = f.name;
        this.setReferenced(false);
        this.initSettle?.resolve();
      } else if (f.state === MailboxState.CONTROL_DONE && f.error < 0) {
        this.fail(regionErrorForErrno(f.error, `worker ${this.workerId}: ${f.errorMessage}`));
      } else {
        this.fail(new BackendError(`worker ${this.workerId}: chip child sent state ${f.state} instead of init done`));
      }
      return;
    }
    const item = this.inFlight;
    if (item === undefined || f.state !== MailboxState.CONTROL_DONE) {
      this.fail(new BackendError(`worker ${this.workerId}: chip child sent an unexpected frame (state ${f.state})`));
      return;
    }
    this.deadline = Infinity;
    if (f.command !== this.requestFrame.command) {
      this.fail(new BackendError(`worker ${this.workerId}: chip child answered command ${f.command} to request ${this.requestFrame.command}`));
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

  private complete(item: Pending, error: unknown, value: unknown): void {
    if (this.inFlight !== item) return; // already failed by a fault
    this.inFlight = undefined;
    if (error === undefined) {
      item.resolve(value);
    } else {
      // A failed transfer may have filled /dev/shm (on either side): other workers need that room.
      if (item.transfer) this.carrier.giveBack();
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
    const message = `worker ${this.workerId}: ${item.what} failed in the parent: ${error instanceof Error ? error.message : String(error)}`;
    return new BackendError(message, { cause: error });
  }

  private request<T>(
    what: string,
    budgetMs: number,
    prepare: Pending['prepare'],
    finish: (f: MailboxFrame) => T | Promise<T>,
    transfer = false,
    wait: SlicedWait | undefined = undefined,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      if (this.closing) return reject(this.closedError());
      this.queue.push({ prepare, finish, resolve: resolve as (v: unknown) => void, reject, budgetMs, what, transfer, wait });
      this.pump();
    });
  }

  private closedError(): InvalidArgumentError {
    return new InvalidArgumentError(`worker ${this.workerId} is closed`);
  }

  private pump(): void {
    if (this.inFlight !== undefined || this.failure !== undefined) return;
    const item = this.queue.shift();
    if (item === undefined) {
      this.setReferenced(false);
      return;
    }
    this.setReferenced(true);
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
    const budget = item.budgetMs;
    // A wait slice may take its own timeout (ARG3) before the reply is due.
    const slice = item.wait !== undefined ? this.requestFrame.arg(3) / 1000 : 0;
    this.deadline = budget > 0 ? performance.now() + budget + slice : Infinity;
    this.transport.send(this.requestFrame.bytes);
  }

  private checkDeadline(): void {
    if (this.inFlight !== undefined && performance.now() > this.deadline) {
      this.fail(new BackendError(`worker ${this.workerId}: chip child (pid ${this.child.pid}) did not answer ${this.inFlight.what} in time`));
    }
  }

  /** Keeps the event loop alive only while a request is outstanding (stderr too, when piped). */
  private setReferenced(on: boolean): void {
    if (this.referenced === on) return;
    this.referenced = on;
    const streams = [this.child.stdin, this.child.stdout, this.child.stderr] as unknown as ({ ref?: () => void; unref?: () => void } | null)[];
    if (on) {
      this.child.ref();
      for (const s of streams) s?.ref?.();
    } else {
      this.child.unref();
      for (const s of streams) s?.unref?.();
    }
  }

  private childGone(): void {
    const status = this.exitStatus;
    if (status === undefined && this.child.exitCode === null && this.child.signalCode === null) return;
    const code = status?.code ?? this.child.exitCode;
    const signal = status?.signal ?? this.child.signalCode;
    // An exit the caller asked for (close) is not a lost child.
    if (this.closing !== undefined) return this.fail(this.closedError());
    this.fail(new BackendError(`worker ${this.workerId}: chip child (pid ${this.child.pid}) ${describeExit(code, signal)}`));
  }

  /** Fails everything pending and later with `error`; kills the child if it still runs. */
  fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    if (this.watchdog) clearInterval(this.watchdog);
    this.initSettle?.reject(error);
    this.rejectPending(() => error);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    this.transport.close();
    this.carrier.dispose();
    this.setReferenced(false);
    untrackEndpoint(this);
    for (const listener of this.lostListeners.splice(0)) listener(error);
  }

  /** Settles every request in flight or queued with an error; nothing is pending afterwards. */
  private rejectPending(errorFor: (item: Pending) => Error): void {
    const pending = this.inFlight ? [this.inFlight, ...this.queue] : [...this.queue];
    this.inFlight = undefined;
    this.queue.length = 0;
    this.deadline = Infinity;
    for (const item of pending) item.reject(errorFor(item));
  }

  private get budget(): number {
    return this.options.requestTimeoutMs ?? 60_000;
  }

  /** Called once when the child is lost or the endpoint closed (after pending requests failed). */
  onLost(listener: (error: Error) => void): void {
    if (this.failure !== undefined) listener(this.failure);
    else this.lostListeners.push(listener);
  }

  /** Every region of a chip endpoint is proxied; asking for `'direct'` is `ENOTSUP`. */
  accessOf(): RegionAccess {
    return 'proxied';
  }

  /** Asks the child how its memory of a region can be mapped here (command 34). */
  share(handle: number): Promise<ShareReply> {
    return this.request(
      'share',
      this.budget,
      (f) => {
        f.command = MailboxCommand.SHARE;
        f.setArg(0, handle);
      },
      (f) => ({ fd: f.argBig(0), offset: f.argBig(1), length: f.argBig(2), wake: f.argBig(3), inode: f.resultBig }),
    );
  }

  open(dataBytes: number, signalCount: number, flags: number, access?: RegionAccess): Promise<number> {
    if (access === 'direct') {
      return Promise.reject(new UnsupportedError(`worker ${this.workerId}: access 'direct' is not available for this chip: its regions are proxied`));
    }
    return this.request(
      'open',
      this.budget,
      (f) => {
        f.command = MailboxCommand.OPEN;
        f.setArg(0, dataBytes);
        f.setArg(1, signalCount);
        f.setArg(2, flags);
      },
      (f) => {
        const handle = f.result;
        // Handles are non-zero tokens below 2^53; anything else is a broken child, not a region.
        if (!Number.isSafeInteger(handle) || handle === 0) {
          throw new BackendError(`worker ${this.workerId}: chip child returned an invalid region handle for open`);
        }
        this.sizes.set(handle, dataBytes);
        return handle;
      },
    );
  }

  async close(handle: number): Promise<void> {
    // Waits on this region end at their next slice boundary instead of holding the close up.
    this.closingRegions.add(handle);
    try {
      await this.control('close', this.budget, MailboxCommand.CLOSE, handle, 0, 0, 0);
      this.sizes.delete(handle);
    } finally {
      this.closingRegions.delete(handle);
    }
  }

  /** A command whose arguments are all in ARG0..ARG3 and whose reply carries nothing but the error. */
  private control(what: string, budgetMs: number, command: number, a0: number, a1: number, a2: number, a3: number): Promise<void> {
    return this.request(
      what,
      budgetMs,
      (f) => {
        f.command = command;
        f.setArg(0, a0);
        f.setArg(1, a1);
        f.setArg(2, a2);
        f.setArg(3, a3);
      },
      () => undefined,
    );
  }

  info(handle: number): Promise<EndpointInfo> {
    return this.request(
      'info',
      this.budget,
      (f) => this.carrier.prepareInfo(f, handle),
      async (f) => {
        const i = decodeInfo(await this.carrier.finishInfo(f));
        // Host pointers never leave the owner process; report 0n whatever a peer wrote.
        return {
          hostDataPtr: 0n,
          deviceDataPtr: i.device_data_ptr,
          dataBytes: Number(i.data_bytes),
          hostSignalPtr: 0n,
          deviceSignalPtr: i.device_signal_ptr,
          signalCount: i.signal_count,
          totalBytes: Number(i.total_bytes),
          flags: i.flags,
        };
      },
    );
  }

  /** Whether to size the segment for a copy: only for a known region and a valid range. */
  private fits(handle: number, offset: number, nbytes: number): boolean {
    const size = this.sizes.get(handle);
    return size !== undefined && isValidCopyRange(size, offset, nbytes);
  }

  h2region(handle: number, offset: number, src: Uint8Array): Promise<void> {
    // The bytes are read when the request reaches the chip; their length is the call's.
    const n = viewByteLength(src);
    return this.request(
      'h2region',
      this.budget,
      // An unknown region or a bad range is the child's to reject (EINVAL): never reserve room for it.
      (f) => this.carrier.prepareH2Region(f, handle, offset, src, n, this.fits(handle, offset, n)),
      (f) => this.carrier.finishH2Region(f),
      true,
    );
  }

  region2h(handle: number, offset: number, nbytes: number): Promise<Uint8Array> {
    return this.region2hRequest(handle, offset, nbytes, undefined);
  }

  /**
   * Like {@link region2h} but fills `dst` (its whole length) instead of allocating: the fast path
   * for large reads, since a fresh multi-MiB buffer costs more in page faults than the copy.
   */
  async region2hInto(handle: number, offset: number, dst: Uint8Array): Promise<void> {
    await this.region2hRequest(handle, offset, viewByteLength(dst), dst);
  }

  /** One region2h round trip; the carrier hands the bytes over once the reply is in. */
  private region2hRequest(handle: number, offset: number, nbytes: number, dst: Uint8Array | undefined): Promise<Uint8Array> {
    return this.request(
      'region2h',
      this.budget,
      (f) => this.carrier.prepareRegion2H(f, handle, offset, nbytes, this.fits(handle, offset, nbytes), dst),
      (f) => this.carrier.finishRegion2H(f),
      true,
    );
  }

  notify(handle: number, signalId: number, value: number): Promise<void> {
    return this.control('notify', this.budget, MailboxCommand.NOTIFY, handle, signalId, value, 0);
  }

  /**
   * A probe is one request. A bounded wait goes to the chip in slices of at most
   * {@link WAIT_SLICE_US} (one request when it fits one): requests queued behind it run between
   * slices, and a close of its region or of the worker ends it with `EINVAL` at the next boundary.
   */
  wait(handle: number, signalId: number, target: number, timeoutUs: number): Promise<void> {
    if (timeoutUs === 0) return this.control('wait', this.budget, MailboxCommand.WAIT, handle, signalId, target, 0);
    const w = new SlicedWait(handle, signalId, target, timeoutUs);
    return this.request(
      'wait',
      this.budget,
      (f) => {
        if (this.closingRegions.has(handle)) throw w.abandoned();
        f.command = MailboxCommand.WAIT;
        f.setArg(0, handle);
        f.setArg(1, signalId);
        f.setArg(2, target);
        f.setArg(3, w.nextTimeoutUs(now()));
      },
      () => undefined,
      false,
      w,
    );
  }

  launch(kernel: string, args: readonly bigint[]): Promise<void> {
    if (args.length > 4) return Promise.reject(new InvalidArgumentError(`a kernel launched through a chip child takes at most 4 args, got ${args.length}`));
    return this.request(
      'launch',
      this.budget,
      (f) => {
        f.command = MailboxCommand.LAUNCH;
        f.name = kernel;
        for (let i = 0; i < 4; i++) f.setArgBig(i as 0 | 1 | 2 | 3, i < args.length ? args[i] : 0n);
      },
      () => undefined,
    );
  }

  synchronize(): Promise<void> {
    return this.control('synchronize', this.budget, MailboxCommand.SYNCHRONIZE, 0, 0, 0, 0);
  }

  /**
   * Asks the child to release everything and exit (state 3); after `shutdownGraceMs` it is
   * killed. Pending requests fail at once with `EINVAL` (the caller closed the worker, as at L2;
   * a wait with the same message as L2's). Never throws, never hangs.
   */
  shutdown(): Promise<void> {
    this.closing ??= this.stop();
    return this.closing;
  }

  /** Resolves when the child exited or `ms` passed; the timer keeps the process alive meanwhile. */
  private exitWithin(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([this.exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
  }

  private async stop(): Promise<void> {
    const child = this.child;
    const running = (): boolean => child.exitCode === null && child.signalCode === null;
    this.setReferenced(true); // a pending close keeps the process alive until it is done
    this.rejectPending((item) => item.wait?.abandoned() ?? new InvalidArgumentError(`worker ${this.workerId} was closed while its ${item.what} request was pending`));
    if (running() && this.failure === undefined) {
      const bye = new MailboxFrame();
      bye.state = MailboxState.SHUTDOWN;
      this.transport.send(bye.bytes);
      const grace = this.options.shutdownGraceMs ?? 2000;
      await this.exitWithin(grace);
    }
    if (running()) {
      child.kill('SIGKILL');
      await this.exitWithin(2000);
    }
    this.fail(this.closedError());
  }}

import type { ChildProcess } from 'node:child_process';
import {
  BackendError,
  InvalidArgumentError,
  MAILBOX_ARG_COUNT,
  MailboxCommand,
  MailboxFrame,
  MailboxState,
  UnsupportedError,
  decodeInfo,
  isValidCopyRange,
  regionErrorForErrno,
} from '@simpler/abi';
import type { Endpoint, EndpointInfo, RegionAccess } from '../worker/endpoint';
import type { ChipEndpointOptions } from './chip-endpoint-options';
import { ChipRequestQueue, workerClosedError } from './chip-request-queue';
import type { FrameTransport } from './frame-transport';
import type { ParentPayloadCarrier } from './payload-carrier';
import { SegmentCarrier } from './segment-carrier';
import { viewByteLength } from './sideband-segment';
import type { L3Transport } from './shm-layout';
import { trackEndpoint, untrackEndpoint } from './process-cleanup';
import { spawnChipChild } from './spawn-chip-child';
import { SlicedWait } from './sliced-wait';
import { now } from '../context/wait-strategy';

export type { ChipEndpointOptions } from './chip-endpoint-options';
export { defaultChildMain } from './spawn-chip-child';

/** The raw reply to a share or share-launch-queue request (docs/l3-protocol.md sections 10, 11), not yet checked. */
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

/** After 'exit', how long to wait for the pipes to drain before failing requests anyway. */
const EXIT_DRAIN_MS = 300;

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
  private readonly replyFrame = new MailboxFrame();
  private readonly requests: ChipRequestQueue;
  private readonly sizes = new Map<number, number>();
  private readonly lostListeners: ((error: Error) => void)[] = [];
  private failure: Error | undefined;
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
    this.requests = new ChipRequestQueue(
      {
        workerId: this.workerId,
        get pid() {
          return child.pid;
        },
        send: (frame) => transport.send(frame),
        giveBack: () => carrier.giveBack(),
        fail: (error) => this.fail(error),
        setReferenced: (on) => this.setReferenced(on),
      },
      options.requestTimeoutMs ?? 60_000,
    );
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Spawns the child and resolves once it reported init done (state 6). */
  static async spawn(options: ChipEndpointOptions): Promise<ChipEndpoint> {
    const { child, transport, carrier, kind, segmentPrefix, shm } = spawnChipChild(options);
    const endpoint = new ChipEndpoint({ ...options, segmentPrefix }, child, transport, carrier, kind);
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

  /** True when every request sent to the child was answered (none queued or in flight). */
  get idle(): boolean {
    return this.requests.idle;
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
    this.requests.watch();
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
    this.requests.receive(f);
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
    if (this.closing !== undefined) return this.fail(workerClosedError(this.workerId));
    this.fail(new BackendError(`worker ${this.workerId}: chip child (pid ${this.child.pid}) ${describeExit(code, signal)}`));
  }

  /** Fails everything pending and later with `error`; kills the child if it still runs. */
  fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.initSettle?.reject(error);
    this.requests.fail(error);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    this.transport.close();
    this.carrier.dispose();
    this.setReferenced(false);
    untrackEndpoint(this);
    for (const listener of this.lostListeners.splice(0)) listener(error);
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
    return this.shareRequest('share', MailboxCommand.SHARE, handle);
  }

  /** Asks the child how its backend's launch queue can be mapped here (command 35). */
  shareLaunchQueue(): Promise<ShareReply> {
    return this.shareRequest('share launch queue', MailboxCommand.SHARE_LAUNCH_QUEUE, 0);
  }

  private shareRequest(what: string, command: number, handle: number): Promise<ShareReply> {
    return this.requests.request(
      what,
      (f) => {
        f.command = command;
        f.setArg(0, handle);
      },
      (f) => ({ fd: f.argBig(0), offset: f.argBig(1), length: f.argBig(2), wake: f.argBig(3), inode: f.resultBig }),
    );
  }

  open(dataBytes: number, signalCount: number, flags: number, access?: RegionAccess): Promise<number> {
    if (access === 'direct') {
      return Promise.reject(new UnsupportedError(`worker ${this.workerId}: access 'direct' is not available for this chip: its regions are proxied`));
    }
    return this.requests.request(
      'open',
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
    this.requests.beginRegionClose(handle);
    try {
      await this.control('close', MailboxCommand.CLOSE, handle, 0, 0, 0);
      this.sizes.delete(handle);
    } finally {
      this.requests.endRegionClose(handle);
    }
  }

  /** A command whose arguments are all in ARG0..ARG3 and whose reply carries nothing but the error. */
  private control(what: string, command: number, a0: number, a1: number, a2: number, a3: number): Promise<void> {
    return this.requests.request(
      what,
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
    return this.requests.request(
      'info',
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
    return this.requests.request(
      'h2region',
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
    return this.requests.request(
      'region2h',
      (f) => this.carrier.prepareRegion2H(f, handle, offset, nbytes, this.fits(handle, offset, nbytes), dst),
      (f) => this.carrier.finishRegion2H(f),
      true,
    );
  }

  notify(handle: number, signalId: number, value: number): Promise<void> {
    return this.control('notify', MailboxCommand.NOTIFY, handle, signalId, value, 0);
  }

  /**
   * A probe is one request. A bounded wait goes to the chip in slices of at most
   * {@link WAIT_SLICE_US} (one request when it fits one): requests queued behind it run between
   * slices, and a close of its region or of the worker ends it with `EINVAL` at the next boundary.
   */
  wait(handle: number, signalId: number, target: number, timeoutUs: number): Promise<void> {
    if (timeoutUs === 0) return this.control('wait', MailboxCommand.WAIT, handle, signalId, target, 0);
    const w = new SlicedWait(handle, signalId, target, timeoutUs);
    return this.requests.request(
      'wait',
      (f) => {
        if (this.requests.regionClosing(handle)) throw w.abandoned();
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
    if (args.length > MAILBOX_ARG_COUNT) return Promise.reject(new InvalidArgumentError(`a kernel launched through a chip child takes at most ${MAILBOX_ARG_COUNT} args, got ${args.length}`));
    return this.requests.request(
      'launch',
      (f) => {
        f.command = MailboxCommand.LAUNCH;
        f.name = kernel;
        for (let i = 0; i < MAILBOX_ARG_COUNT; i++) f.setArgBig(i as 0 | 1 | 2 | 3, i < args.length ? args[i] : 0n);
      },
      () => undefined,
    );
  }

  synchronize(): Promise<void> {
    return this.control('synchronize', MailboxCommand.SYNCHRONIZE, 0, 0, 0, 0);
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
    this.requests.close();
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
    this.fail(workerClosedError(this.workerId));
  }}

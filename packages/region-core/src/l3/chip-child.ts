import { existsSync, fstatSync, unlinkSync } from 'node:fs';
import {
  BackendError,
  ERRNO,
  INFO_LAYOUT,
  InvalidArgumentError,
  MailboxCommand,
  MailboxFrame,
  MailboxState,
  SidebandOp,
  encodeInfo,
  isRegionError,
} from '@simpler/abi';
import type { DeviceContext } from '../context/device-context';
import { observedValueOf } from '../context/wait-strategy';
import { shareBackendLaunchQueue } from '../context/region-sharing';
import type { FrameTransport } from './frame-transport';
import type { ChildPayloadCarrier } from './payload-carrier';
import { ChildSegment, removeSegmentsWithPrefix } from './sideband-segment';

/** What the chip child needs from its device context (the owner-process `DeviceContext`). */
export type ChipContext = Pick<
  DeviceContext,
  'backend' | 'open' | 'close' | 'publicInfo' | 'share' | 'h2regionWith' | 'region2hWith' | 'notify' | 'probe' | 'waitSync' | 'waitAsync' | 'launch' | 'synchronize' | 'destroy'
>;

/** Hooks of a {@link ChipChild} into its process. */
export interface ChipChildHooks {
  /** Ends the process (the child calls it exactly once). */
  exit(code: number): void;
  /** Writes one diagnostic line (stderr). */
  log(line: string): void;
  /** True once the process that spawned the child has exited (absent: never known, no sweep). */
  parentExited?(): boolean;
}

const STATE_OFFSET = 0;
/** ARG3 of a share reply for memory whose sleepers poll (no futex to wake): all ones. */
const WAKE_BY_POLLING = 0xffff_ffff_ffff_ffffn;

/** The reply to a share or share-launch-queue request: ARG0..ARG3 and RESULT. */
interface ShareAnswer {
  readonly fd: number;
  readonly offset: number;
  readonly length: number;
  readonly wake: bigint;
  readonly inode: bigint;
}

/** The inode of a descriptor this child hands out, so the parent can check what it opened through /proc. */
function inodeOf(fd: number, what: string, whose: string): bigint {
  try {
    return fstatSync(fd, { bigint: true }).ino;
  } catch (error) {
    throw new BackendError(`${what}: fstat of ${whose} descriptor ${fd} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
const RESERVED_OFFSET = 56;
/** How long a shutdown waits for the context to release everything before exiting anyway. */
const DESTROY_GRACE_MS = 5000;
/** Size of the seen-segment set at which names whose files are gone are dropped from it. */
const SEEN_SEGMENTS_PRUNE_AT = 64;
/**
 * After the end of stdin, how long to look for the parent's exit. The kernel closes a dying
 * process's files a moment before it re-parents its children; a parent that closed stdin and
 * lives on is never seen to exit, and its namespace is left alone.
 */
const PARENT_EXIT_WAIT_MS = 1000;
const PARENT_EXIT_POLL_MS = 10;

function readI32(bytes: Uint8Array, at: number): number {
  return bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24);
}

function isZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * The serving loop of a chip child: reads request frames from a transport, runs them on the
 * device context in arrival order, and answers each with exactly one frame. Malformed input is
 * answered with `EINVAL`; nothing a peer sends can end the loop except a shutdown frame or the
 * end of the stream.
 *
 * @example
 * const child = new ChipChild(new DeviceContext(backend), transport, 'simpler-hdmr-1234-', hooks);
 * child.start();
 */
export class ChipChild {
  private request = new MailboxFrame();
  private reply = new MailboxFrame();
  private readonly info = new Uint8Array(INFO_LAYOUT.size);
  private readonly backlog: Uint8Array[] = [];
  private busy = false;
  private stopping = false;
  /** Every segment name this child opened: unlinked for a parent that died without doing it. */
  private readonly seenSegments = new Set<string>();
  private pruneSeenAt = SEEN_SEGMENTS_PRUNE_AT;
  /** The description a successful share request answers with (its reply carries it in ARG0..ARG3 and RESULT). */
  private shared: ShareAnswer | undefined;

  constructor(
    private readonly ctx: ChipContext,
    private readonly transport: FrameTransport,
    private readonly segmentPrefix: string,
    private readonly hooks: ChipChildHooks,
    /** Where payloads travel when not in side-band segments (the shared-memory data window). */
    private readonly carrier?: ChildPayloadCarrier,
  ) {}

  /** Announces readiness (state 6) and starts serving. */
  start(): void {
    this.transport.onFrame((frame) => this.receive(frame));
    this.transport.onClose(() => void this.stop(true));
    const f = this.reply.clearFields();
    f.state = MailboxState.INIT_DONE;
    // Project extension: the init-done frame names the backend's platform (e.g. "a2a3sim").
    f.name = this.ctx.backend.platform;
    this.send();
  }

  private receive(frame: Uint8Array): void {
    if (this.stopping) return;
    if (readI32(frame, STATE_OFFSET) === MailboxState.SHUTDOWN) {
      // Acted on at once: a request still queued or in progress gets no reply.
      void this.stop(false);
      return;
    }
    if (this.busy) {
      this.backlog.push(frame.slice());
      return;
    }
    this.request.bytes.set(frame);
    this.serve();
  }

  /** Serves the frame in `this.request`; async commands mark the child busy until they settle. */
  private serve(): void {
    let outcome: number | Promise<number>;
    try {
      outcome = this.dispatch(this.request);
    } catch (error) {
      this.answer(0, error);
      return;
    }
    if (typeof outcome === 'number') {
      this.answer(outcome, undefined);
      return;
    }
    this.busy = true;
    outcome.then(
      (result) => this.answer(result, undefined),
      (error: unknown) => this.answer(0, error),
    ).finally(() => this.drain());
  }

  private drain(): void {
    this.busy = false;
    while (!this.busy && !this.stopping && this.backlog.length > 0) {
      this.request.bytes.set(this.backlog.shift()!);
      this.serve();
    }
  }

  /** Validates the frame and runs its command; returns RESULT, or a promise of it. */
  private dispatch(f: MailboxFrame): number | Promise<number> {
    const state = f.state;
    if (state !== MailboxState.CONTROL_REQUEST) throw new InvalidArgumentError(`unsupported frame state ${state}: the child serves control requests (state 4) and shutdown (state 3)`);
    if (f.error !== 0) throw new InvalidArgumentError(`the error field of a request must be 0, got ${f.error}`);
    if (!isZero(f.bytes, RESERVED_OFFSET, RESERVED_OFFSET + 8)) throw new InvalidArgumentError('the reserved field at offset 56 must be 0');
    if (!f.nameTerminated) throw new InvalidArgumentError('the name field (offset 64, 32 bytes) has no NUL terminator');
    const ctx = this.ctx;
    switch (f.command) {
      case MailboxCommand.OPEN:
        return ctx.open(f.arg(0), f.arg(1), f.arg(2));
      case MailboxCommand.CLOSE:
        ctx.close(f.arg(0));
        return 0;
      case MailboxCommand.INFO:
        if (this.carrier) return this.carrier.info(f, (region) => this.encodeInfo(region));
        return this.withSegment(SidebandOp.INFO, (seg, region, offset, nbytes) => {
          if (offset !== 0 || nbytes !== INFO_LAYOUT.size) {
            throw new InvalidArgumentError(`an info side-band request has offset 0 and nbytes ${INFO_LAYOUT.size}, got offset ${offset} nbytes ${nbytes}`);
          }
          this.encodeInfo(region);
          seg.requirePayload(INFO_LAYOUT.size);
          seg.writePayload(this.info);
        });
      case MailboxCommand.DATACOPY_H2REGION:
        if (this.carrier) return this.carrier.h2region(f, ctx);
        return this.withSegment(SidebandOp.H2REGION, (seg, region, offset, nbytes) => ctx.h2regionWith(region, offset, nbytes, (dst) => {
          seg.requirePayload(dst.byteLength);
          seg.readPayload(dst);
        }));
      case MailboxCommand.DATACOPY_REGION2H:
        if (this.carrier) return this.carrier.region2h(f, ctx);
        return this.withSegment(SidebandOp.REGION2H, (seg, region, offset, nbytes) => ctx.region2hWith(region, offset, nbytes, (src) => {
          seg.requirePayload(src.byteLength);
          seg.writePayload(src);
        }));
      case MailboxCommand.NOTIFY:
        ctx.notify(f.arg(0), f.arg(1), f.arg(2));
        return 0;
      case MailboxCommand.WAIT:
        return this.wait(f.arg(0), f.arg(1), f.arg(2), f.arg(3));
      case MailboxCommand.LAUNCH: {
        const kernel = f.name;
        if (kernel.length === 0) throw new InvalidArgumentError('launch needs a kernel name in the name field');
        ctx.launch(kernel, [f.argBig(0), f.argBig(1), f.argBig(2), f.argBig(3)]);
        return 0;
      }
      case MailboxCommand.SYNCHRONIZE:
        return ctx.synchronize().then(() => 0);
      case MailboxCommand.SHARE:
        return this.share(f.arg(0));
      case MailboxCommand.SHARE_LAUNCH_QUEUE:
        return this.shareLaunchQueue();
      default:
        throw new InvalidArgumentError(`unknown command ${f.command}: expected 12..18 or 32..35`);
    }
  }

  /**
   * Describes a region's memory for the parent (docs/l3-protocol.md section 10): the descriptor
   * stays open here until the region is closed, and the inode lets the parent check that the
   * descriptor it opens through /proc is this one.
   */
  private share(handle: number): number {
    const memory = this.ctx.share(handle);
    const wake = memory.wake.kind === 'futex' ? BigInt(memory.wake.sleepersOffset) : WAKE_BY_POLLING;
    this.shared = { fd: memory.fd, offset: memory.offset, length: memory.length, wake, inode: inodeOf(memory.fd, 'share', "the region's") };
    return 0;
  }

  /** Describes the backend's launch queue for the parent (docs/l3-protocol.md section 11); `ENOTSUP` without one. */
  private shareLaunchQueue(): number {
    const queue = shareBackendLaunchQueue(this.ctx.backend);
    this.shared = { fd: queue.fd, offset: queue.offset, length: queue.length, wake: 0n, inode: inodeOf(queue.fd, 'share launch queue', "the queue's") };
    return 0;
  }

  /** The 64-byte public info of a region (host pointers 0), in a reused buffer. */
  private encodeInfo(region: number): Uint8Array {
    const i = this.ctx.publicInfo(region);
    encodeInfo(
      {
        host_data_ptr: 0,
        device_data_ptr: i.deviceDataPtr,
        data_bytes: i.dataBytes,
        host_signal_ptr: 0,
        device_signal_ptr: i.deviceSignalPtr,
        signal_count: i.signalCount,
        total_bytes: i.totalBytes,
        flags: i.flags,
      },
      this.info,
    );
    return this.info;
  }

  /** A satisfied or probing wait answers at once; a pending one leaves the event loop free. */
  private wait(handle: number, signalId: number, target: number, timeoutUs: number): number | Promise<number> {
    const ctx = this.ctx;
    if (timeoutUs === 0 || ctx.probe(handle, signalId, target)) {
      ctx.waitSync(handle, signalId, target, timeoutUs);
      return 0;
    }
    return ctx.waitAsync(handle, signalId, target, timeoutUs).then(() => 0);
  }

  /** Opens (or reuses) the named segment, validates its header, runs `body`, writes `status`. */
  private withSegment(op: number, body: (seg: ChildSegment, region: number, offset: number, nbytes: number) => void): number {
    const seg = this.segmentNamed(this.request.name);
    try {
      const r = seg.readRequest(op);
      body(seg, r.region, r.offset, r.nbytes);
      seg.writeStatus(0);
    } catch (error) {
      seg.writeStatus(isRegionError(error) ? error.errno : ERRNO.EIO);
      throw error;
    } finally {
      seg.close();
    }
    return 0;
  }

  /** Opened afresh for every request: a name may be reused for a new file, and a cached descriptor would miss it. */
  private segmentNamed(name: string): ChildSegment {
    const seg = ChildSegment.open(name, this.segmentPrefix);
    const seen = this.seenSegments;
    if (!seen.has(seg.filePath)) {
      // A client that creates a segment per round trip and unlinks it after (as the spec
      // describes) would otherwise grow this set by one name per request, forever.
      if (seen.size >= this.pruneSeenAt) {
        for (const file of seen) if (!existsSync(file)) seen.delete(file);
        this.pruneSeenAt = Math.max(SEEN_SEGMENTS_PRUNE_AT, 2 * seen.size);
      }
      seen.add(seg.filePath);
    }
    return seg;
  }

  /** Writes the reply for `this.request`: RESULT on success, errno + message on failure. */
  private answer(result: number, error: unknown): void {
    if (this.stopping) return;
    const f = this.reply.clearFields();
    const req = this.request.bytes;
    const out = f.bytes;
    for (let i = 8; i < 16; i++) out[i] = req[i]; // echo the command, even an unknown one
    f.state = MailboxState.CONTROL_DONE;
    if (error === undefined) {
      f.result = result;
      const shared = this.shared;
      if (shared !== undefined) {
        this.shared = undefined;
        f.setArg(0, shared.fd);
        f.setArg(1, shared.offset);
        f.setArg(2, shared.length);
        f.setArgBig(3, shared.wake);
        f.setResultBig(shared.inode);
      }
    } else {
      f.error = isRegionError(error) ? error.errno : ERRNO.EIO;
      f.errorMessage = error instanceof Error ? error.message : String(error);
      // A wait's EAGAIN carries the slot value it saw last: a parent that sends a long wait in
      // slices words the caller's timeout with it (docs/l3-protocol.md, section 3).
      const observed = observedValueOf(error);
      if (observed !== undefined) f.result = observed;
    }
    this.send();
  }

  private send(): void {
    this.transport.send(this.reply.bytes);
    // A pipe write that could not complete keeps a reference to the block: never rewrite it.
    if ((this.transport as { backlogged?: boolean }).backlogged) this.reply = new MailboxFrame();
  }

  /**
   * Releases everything and exits 0. `parentGone` means the stream ended without a shutdown
   * frame: the segments this child was handed are unlinked here, and once the parent is seen to
   * have exited, every segment under its prefix (also one it created but never named in a frame).
   */
  async stop(parentGone: boolean): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.backlog.length = 0;
    let sweep: Promise<void> | undefined;
    if (parentGone) {
      for (const file of this.seenSegments) {
        try {
          unlinkSync(file);
        } catch {
          // unlinked by the parent already
        }
      }
      sweep = this.sweepAfterParentExit();
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.ctx.destroy(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, DESTROY_GRACE_MS);
        }),
      ]);
    } catch (error) {
      this.hooks.log(`destroy failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      if (timer) clearTimeout(timer);
    }
    await sweep;
    this.transport.close();
    this.hooks.exit(0);
  }

  /** Removes the parent's whole segment namespace once the parent is seen to have exited. */
  private async sweepAfterParentExit(): Promise<void> {
    const exited = this.hooks.parentExited;
    if (exited === undefined) return;
    for (let waited = 0; !exited(); waited += PARENT_EXIT_POLL_MS) {
      if (waited >= PARENT_EXIT_WAIT_MS) return;
      await new Promise((resolve) => setTimeout(resolve, PARENT_EXIT_POLL_MS));
    }
    removeSegmentsWithPrefix(this.segmentPrefix);
  }
}

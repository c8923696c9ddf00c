import { AdaptiveSpin, describe, ERRNO, INFO_LAYOUT, InvalidArgumentError, isRegionError, isValidCopyRange, MailboxFrame, SidebandOp } from '@simpler/abi';
import type { ChipContext } from './chip-child';
import { countAhead } from './chunk-cursor';
import type { DataWindow } from './data-window';
import { CHILD_CHUNKS_WORD, PARENT_CHUNKS_WORD } from './shm-layout';
import { ShmMailbox, spinUntil } from './shm-mailbox';
import type { SidebandRequest } from './sideband-segment';

/** What the window server needs from the link it serves for. */
export interface WindowServerHooks {
  /** Spin budget while a chunk is late, in µs. */
  readonly spinUs: number;
  /** Rings the parent's doorbell if it sleeps. */
  ringParent(): void;
  /** Sleeps until a doorbell, which then runs `wake`; false (not asleep) when `ready` already holds. */
  sleep(wake: () => void, ready: () => boolean): boolean;
  /** True when the parent published a shutdown (state 3) over the request being served. */
  shutdownRequested(): boolean;
  /** The error a transfer ends with when the parent asked for shutdown. */
  shutdownError(): Error;
}

const NAME_OFFSET = 64;
const noop = (): void => undefined;

/**
 * Serves info, h2region and region2h out of the data window (the child side of the shared-memory
 * payload carrier). A payload of one chunk is one device-context call, exactly as from a segment;
 * a longer one is checked whole first (no partial copy of an invalid range), then moved chunk by
 * chunk while the parent fills or drains the other half. The header `status` is written as in a
 * segment.
 *
 * @example
 * const server = new ChildWindowServer(box, window, hooks);
 * const result = server.h2region(frame, ctx); // a number, or a promise while chunks arrive
 */
export class ChildWindowServer {
  private readonly spin: AdaptiveSpin;
  /** The window half the chunk being copied sits in (read by the two copy callbacks: no closure per chunk). */
  private current: Uint8Array | undefined;
  private readonly intoRegion = (dst: Uint8Array): void => dst.set(this.current!);
  private readonly outOfRegion = (src: Uint8Array): void => this.current!.set(src);
  /** What the chunk wait in progress waits for. */
  private waitingFor: () => boolean = () => true;
  private readonly readyOrStop = (): boolean => this.waitingFor() || this.hooks.shutdownRequested();

  constructor(
    private readonly box: ShmMailbox,
    private readonly window: DataWindow,
    private readonly hooks: WindowServerHooks,
  ) {
    this.spin = new AdaptiveSpin(hooks.spinUs);
  }

  /** Writes the 64 info bytes at byte 64; RESULT is 64. */
  info(f: MailboxFrame, encode: (region: number) => Uint8Array): number {
    return this.guard(f, () => {
      const r = this.window.readHeader(SidebandOp.INFO);
      if (r.offset !== 0 || r.nbytes !== INFO_LAYOUT.size) {
        throw new InvalidArgumentError(`an info side-band request has offset 0 and nbytes ${INFO_LAYOUT.size}, got offset ${r.offset} nbytes ${r.nbytes}`);
      }
      this.window.half(0, INFO_LAYOUT.size).set(encode(r.region));
      return INFO_LAYOUT.size;
    }) as number;
  }

  /** Copies the parent's chunks into the region as they arrive; RESULT is 0. */
  h2region(f: MailboxFrame, ctx: ChipContext): number | Promise<number> {
    return this.guard(f, () => {
      const r = this.window.readHeader(SidebandOp.H2REGION);
      const chunks = this.window.chunkCount(r.nbytes);
      if (chunks === 0) ctx.h2regionWith(r.region, r.offset, 0, noop);
      // Chunk 0 travels with the request: a parent that never fills one would leave us waiting forever.
      if (chunks > 0 && this.box.load(PARENT_CHUNKS_WORD) === 0) {
        throw new InvalidArgumentError('parent_chunks is 0: an h2region request is published after chunk 0 is in the data window');
      }
      if (chunks > 1) checkRange(ctx, r, true);
      return this.consume(r, chunks, ctx);
    });
  }

  /** Copies the region into the window chunk by chunk as the parent frees halves; RESULT is nbytes. */
  region2h(f: MailboxFrame, ctx: ChipContext): number | Promise<number> {
    return this.guard(f, () => {
      const r = this.window.readHeader(SidebandOp.REGION2H);
      const chunks = this.window.chunkCount(r.nbytes);
      if (chunks === 0) ctx.region2hWith(r.region, r.offset, 0, noop);
      if (chunks > 1) checkRange(ctx, r, false);
      return this.produce(r, chunks, ctx);
    });
  }

  private consume(r: SidebandRequest, chunks: number, ctx: ChipContext): number | Promise<number> {
    const { box, window } = this;
    let k = 0;
    const late = (): boolean => countAhead(box.load(PARENT_CHUNKS_WORD) >>> 0, k) !== 0;
    const step = (): number | Promise<number> => {
      while (k < chunks) {
        const filled = box.load(PARENT_CHUNKS_WORD) >>> 0;
        const ready = countAhead(filled, k);
        if (ready > 2 || ready > chunks - k) throw new InvalidArgumentError(`parent_chunks ${filled} is ${ready} chunks past chunk ${k} of ${chunks}: the window holds 2`);
        if (ready === 0) {
          const waited = this.waitFor(late);
          if (waited !== true) return waited.then(step);
          continue;
        }
        const length = window.chunkLength(k, r.nbytes);
        this.current = window.half(k, length);
        ctx.h2regionWith(r.region, r.offset + k * window.chunkBytes, length, this.intoRegion);
        box.store(CHILD_CHUNKS_WORD, ++k);
        if (k < chunks) this.hooks.ringParent();
      }
      return 0;
    };
    return step();
  }

  private produce(r: SidebandRequest, chunks: number, ctx: ChipContext): number | Promise<number> {
    const { box, window } = this;
    let k = 0;
    const freed = (): boolean => countAhead(k, box.load(PARENT_CHUNKS_WORD) >>> 0) < 2;
    const step = (): number | Promise<number> => {
      while (k < chunks) {
        const released = box.load(PARENT_CHUNKS_WORD) >>> 0;
        const held = countAhead(k, released);
        if (held > 2) throw new InvalidArgumentError(`parent_chunks ${released} claims more chunks taken than the ${k} filled`);
        if (held === 2) {
          const waited = this.waitFor(freed);
          if (waited !== true) return waited.then(step);
          continue;
        }
        const length = window.chunkLength(k, r.nbytes);
        this.current = window.half(k, length);
        ctx.region2hWith(r.region, r.offset + k * window.chunkBytes, length, this.outOfRegion);
        box.store(CHILD_CHUNKS_WORD, ++k);
        if (k < chunks) this.hooks.ringParent();
      }
      return r.nbytes;
    };
    return step();
  }

  /**
   * Spins for `ready` (adaptively: on a shared core spinning only keeps the parent from copying),
   * then sleeps until doorbells make it hold; a shutdown ends the wait with an error.
   */
  private waitFor(ready: () => boolean): true | Promise<void> {
    const h = this.hooks;
    this.waitingFor = ready;
    const readyOrStop = this.readyOrStop;
    const caught = spinUntil(readyOrStop, this.spin.budgetUs);
    this.spin.record(caught);
    if (caught) {
      if (h.shutdownRequested()) throw h.shutdownError();
      return true;
    }
    return new Promise<void>((resolve, reject) => {
      const settle = (): void => (h.shutdownRequested() ? reject(h.shutdownError()) : resolve());
      const sleep = (): void => {
        if (!h.sleep(wake, readyOrStop)) settle();
      };
      // Woken by a doorbell: the parent moved, so what we wait for is there (or a shutdown is).
      const wake = (): void => {
        if (readyOrStop()) settle();
        else sleep();
      };
      sleep();
    });
  }

  /** Runs `body` and writes the header status: 0, or the errno it failed with. */
  private guard(f: MailboxFrame, body: () => number | Promise<number>): number | Promise<number> {
    let out: number | Promise<number>;
    try {
      if (f.bytes[NAME_OFFSET] !== 0) {
        throw new InvalidArgumentError(`with the shared-memory transport payloads travel in the data window: the name field must be empty, got ${describe(f.name)}`);
      }
      out = body();
    } catch (error) {
      this.failed(error);
      throw error;
    }
    if (typeof out === 'number') {
      this.window.writeStatus(0);
      return out;
    }
    return out.then(
      (result) => {
        this.window.writeStatus(0);
        return result;
      },
      (error: unknown) => {
        this.failed(error);
        throw error;
      },
    );
  }

  private failed(error: unknown): void {
    this.window.writeStatus(isRegionError(error) ? error.errno : ERRNO.EIO);
  }
}

/** Rejects a bad range before any chunk is copied, with the owner-process core's own error. */
function checkRange(ctx: ChipContext, r: SidebandRequest, h2region: boolean): void {
  const size = ctx.publicInfo(r.region).dataBytes;
  if (isValidCopyRange(size, r.offset, r.nbytes)) return;
  // Either call throws before touching any byte; it words the error exactly as at L2.
  if (h2region) ctx.h2regionWith(r.region, r.offset, r.nbytes, noop);
  else ctx.region2hWith(r.region, r.offset, r.nbytes, noop);
}

import { writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { AdaptiveSpin, BackendError, InvalidArgumentError, MAILBOX_BYTES, MailboxFrame, MailboxState } from '@simpler/abi';
import type { SharedMapping, SharedMemoryObject } from '@simpler/shm';
import { ChildWindowServer } from './child-window-server';
import type { ChipContext } from './chip-child';
import { DataWindow } from './data-window';
import type { FrameTransport } from './frame-transport';
import type { ChildPayloadCarrier } from './payload-carrier';
import { CHILD_SLEEPING_WORD, CONTROL_BLOCK_BYTES, DOORBELL_BYTE, PARENT_SLEEPING_WORD } from './shm-layout';
import { requireShm } from './shm-loader';
import { ShmMailbox, spinUntil } from './shm-mailbox';
import { FrameCallbacks } from './frame-callbacks';

/** Where a chip child finds its shared-memory link. */
export interface ShmChildLinkOptions {
  /** Descriptor of the control block (default 3). */
  readonly controlFd: number;
  /** Descriptor of the data window (default 4). */
  readonly windowFd: number;
  /** How long to spin for the next request (or a late chunk) before sleeping, in µs. */
  readonly spinUs: number;
  /** Where doorbell bytes (and end-of-file: parent gone) arrive: the child's stdin. */
  readonly input: Readable;
  /** Descriptor the init frame and doorbell bytes are written to: the child's stdout (1). */
  readonly outputFd: number;
}

const DOORBELL = Uint8Array.of(DOORBELL_BYTE);
/** Thrown into a chunked transfer when the parent asked for shutdown in the middle of it. */
const SHUTDOWN_REQUESTED = 'shutdown requested during a transfer';

/** 0: nothing published yet; 5: our own reply, not replaced yet. Anything else is the parent's to be served. */
function isRequestState(state: number): boolean {
  return state !== MailboxState.IDLE && state !== MailboxState.CONTROL_DONE;
}

/**
 * The chip child's end of the shared-memory transport. The init frame goes out on stdout as with
 * pipes; from then on requests are read from the control block and replies written into it, and
 * the pipes carry only doorbell bytes (and end-of-file when the parent dies). After each reply the
 * child spins up to `spinUs` for the next request (not at all while that does not pay, see
 * `AdaptiveSpin`), then sleeps in its event loop until a doorbell.
 *
 * @example
 * const link = ShmChildLink.open({ controlFd: 3, windowFd: 4, spinUs: 500, input: process.stdin, outputFd: 1 });
 * new ChipChild(ctx, link, prefix, hooks, link).start();
 */
export class ShmChildLink extends FrameCallbacks implements FrameTransport, ChildPayloadCarrier {
  private readonly box: ShmMailbox;
  private readonly server: ChildWindowServer;
  private readonly request = new Uint8Array(MAILBOX_BYTES);
  private readonly shutdownFrame = new MailboxFrame();
  private initSent = false;
  /** A request was handed to the child and its reply is not written yet. */
  private serving = false;
  private polling = false;
  /** What the next doorbell continues: the request loop, or a transfer waiting for a chunk. */
  private wake: (() => void) | undefined;
  private readonly spin: AdaptiveSpin;
  /** Since the last reply the child had to sleep (its spin for the next request did not pay). */
  private sleptSinceReply = false;
  private replied = false;
  private readonly hasRequest = (): boolean => isRequestState(this.box.state());
  private readonly pollTask = (): void => this.poll();

  private constructor(
    private readonly mappings: SharedMapping[],
    private readonly options: ShmChildLinkOptions,
  ) {
    super();
    this.box = new ShmMailbox(mappings[0].buffer);
    this.spin = new AdaptiveSpin(options.spinUs);
    this.server = new ChildWindowServer(this.box, new DataWindow(mappings[1].buffer), {
      spinUs: options.spinUs,
      ringParent: () => this.ringIfSleeping(),
      sleep: (wake, ready) => this.sleepUntilDoorbell(wake, ready),
      shutdownRequested: () => this.box.state() === MailboxState.SHUTDOWN,
      shutdownError: () => new BackendError(SHUTDOWN_REQUESTED),
    });
    this.shutdownFrame.state = MailboxState.SHUTDOWN;
  }

  /** Maps the inherited control block and data window; typed errors for a bad descriptor or size. */
  static open(options: ShmChildLinkOptions): ShmChildLink {
    const shm = requireShm('chip child --transport shm');
    const objects: SharedMemoryObject[] = [];
    const mappings: SharedMapping[] = [];
    try {
      objects.push(shm.SharedMemoryObject.fromFd(options.controlFd), shm.SharedMemoryObject.fromFd(options.windowFd));
      const blockBytes = objects[0].size;
      if (blockBytes !== CONTROL_BLOCK_BYTES) {
        throw new InvalidArgumentError(`the control block (fd ${options.controlFd}) must be ${CONTROL_BLOCK_BYTES} bytes, got ${blockBytes}`);
      }
      for (const o of objects) mappings.push(o.map());
      const link = new ShmChildLink(mappings, options);
      for (const o of objects) o.close(); // the mappings stay
      return link;
    } catch (error) {
      for (const m of mappings) m.unmap();
      for (const o of objects) if (!o.closed) o.close();
      throw error;
    }
  }

  send(frame: Uint8Array): void {
    if (this.closed) return;
    if (!this.initSent) {
      // The init frame (or an init failure) travels on the pipe, as with the pipe transport.
      this.initSent = true;
      this.writeOut(frame);
      this.startInput();
      queueMicrotask(this.pollTask);
      return;
    }
    this.serving = false;
    const error = frame[4] | frame[5] | frame[6] | frame[7];
    this.box.writeFields(frame, error !== 0);
    const found = this.box.exchangeState(MailboxState.CONTROL_REQUEST, MailboxState.CONTROL_DONE);
    if (found === MailboxState.SHUTDOWN) return this.deliverShutdown();
    // A malformed state was answered with EINVAL: the reply replaces it all the same.
    if (found !== MailboxState.CONTROL_REQUEST) this.box.publish(MailboxState.CONTROL_DONE);
    this.replied = true;
    this.sleptSinceReply = false;
    this.ringIfSleeping();
    // A reply written from a callback (after an async command) resumes the loop once that unwinds.
    if (!this.polling) queueMicrotask(this.pollTask);
  }

  close(): void {
    if (this.closed) return;
    this.options.input.removeAllListeners('data');
    this.options.input.pause();
    for (const m of this.mappings) m.unmap();
    this.finish();
  }

  info(f: MailboxFrame, encode: (region: number) => Uint8Array): number {
    return this.server.info(f, encode);
  }

  h2region(f: MailboxFrame, ctx: ChipContext): number | Promise<number> {
    return this.server.h2region(f, ctx);
  }

  region2h(f: MailboxFrame, ctx: ChipContext): number | Promise<number> {
    return this.server.region2h(f, ctx);
  }

  protected override finish(error?: Error): void {
    this.wake = undefined;
    super.finish(error);
  }

  private startInput(): void {
    const input = this.options.input;
    input.on('data', () => this.onDoorbell());
    input.on('end', () => this.finish());
    input.on('close', () => this.finish());
    input.on('error', (e: Error) => this.finish(e));
  }

  private onDoorbell(): void {
    if (this.closed) return;
    this.box.store(CHILD_SLEEPING_WORD, 0);
    const wake = this.wake;
    this.wake = undefined;
    if (wake) return wake();
    // Awake but not waiting for anything: busy with an async command. Only a shutdown matters now.
    if (this.box.state() === MailboxState.SHUTDOWN) this.deliverShutdown();
  }

  /** Serves requests while they come within the spin budget, then sleeps until a doorbell. */
  private poll(): void {
    if (this.polling || this.closed || this.serving) return;
    this.polling = true;
    try {
      while (!this.closed && !this.serving) {
        if (!spinUntil(this.hasRequest, this.spin.budgetUs)) {
          if (this.sleepUntilDoorbell(this.pollTask, this.hasRequest)) {
            this.sleptSinceReply = true;
            return;
          }
        }
        this.deliver();
      }
    } finally {
      this.polling = false;
    }
  }

  /**
   * Sleeps: raises the flag, then looks once more (the parent checks the flag after it publishes).
   * True when asleep (`wake` runs on the next doorbell), false when something arrived meanwhile.
   */
  private sleepUntilDoorbell(wake: () => void, ready: () => boolean): boolean {
    this.box.store(CHILD_SLEEPING_WORD, 1);
    if (ready()) {
      this.box.store(CHILD_SLEEPING_WORD, 0);
      return false;
    }
    this.wake = wake;
    return true;
  }

  private deliver(): void {
    if (this.replied) this.spin.record(!this.sleptSinceReply);
    const state = this.box.state();
    this.box.readFrame(this.request, state);
    this.serving = true;
    this.frameCb(this.request);
  }

  private deliverShutdown(): void {
    this.serving = true;
    this.frameCb(this.shutdownFrame.bytes);
  }

  private ringIfSleeping(): void {
    if (this.box.load(PARENT_SLEEPING_WORD) !== 0) this.writeOut(DOORBELL, true);
  }

  /** One blocking write to stdout; a doorbell that finds the pipe full is dropped (the parent has unread ones). */
  private writeOut(bytes: Uint8Array, doorbell = false): void {
    let done = 0;
    while (done < bytes.byteLength) {
      try {
        done += writeSync(this.options.outputFd, bytes, done, bytes.byteLength - done);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' && doorbell) return;
        if (code !== 'EAGAIN') return this.finish(error as Error);
      }
    }
  }
}

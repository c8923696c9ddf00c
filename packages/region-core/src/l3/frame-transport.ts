import { writeSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { MAILBOX_BYTES } from '@simpler/abi';
import { FrameCallbacks } from './frame-callbacks';

/**
 * The seam between the control protocol and whatever carries its 4096-byte blocks.
 * Nothing above it knows about pipes, so a shared-memory mailbox can carry the same blocks.
 *
 * A frame handed to an `onFrame` callback is only valid during that call: the transport
 * reuses the memory behind it, so a callback that keeps a frame must copy it.
 */
export interface FrameTransport {
  /** Sends one block of exactly {@link MAILBOX_BYTES} bytes, in one write. */
  send(frame: Uint8Array): void;
  /** Registers the receiver of complete frames, in arrival order. */
  onFrame(cb: (frame: Uint8Array) => void): void;
  /** Registers a callback for the end of the incoming stream (peer gone or transport closed). */
  onClose(cb: (error?: Error) => void): void;
  /** Stops sending and receiving. Idempotent. */
  close(): void;
}

/**
 * Cuts a byte stream into exact 4096-byte frames. Whole frames inside a chunk are handed out as
 * views of the chunk (no copy); only a frame split across chunks is gathered into one reused block.
 *
 * @example
 * const a = new FrameAssembler((f) => handle(f)); stream.on('data', (c) => a.push(c));
 */
export class FrameAssembler {
  private readonly partial = new Uint8Array(MAILBOX_BYTES);
  private partialLength = 0;

  constructor(private readonly deliver: (frame: Uint8Array) => void) {}

  /** Bytes of an incomplete frame currently held. */
  get pendingBytes(): number {
    return this.partialLength;
  }

  /** Feeds one chunk of the stream; delivers every frame it completes. */
  push(chunk: Uint8Array): void {
    let at = 0;
    const length = chunk.byteLength;
    if (this.partialLength > 0) {
      const take = Math.min(MAILBOX_BYTES - this.partialLength, length);
      this.partial.set(chunk.subarray(0, take), this.partialLength);
      this.partialLength += take;
      at = take;
      if (this.partialLength < MAILBOX_BYTES) return;
      this.partialLength = 0;
      this.deliver(this.partial);
    }
    while (length - at >= MAILBOX_BYTES) {
      this.deliver(chunk.subarray(at, at + MAILBOX_BYTES));
      at += MAILBOX_BYTES;
    }
    if (at < length) {
      this.partial.set(chunk.subarray(at), 0);
      this.partialLength = length - at;
    }
  }
}

/** Where a pipe transport's frames come from and go to. */
export interface PipeEnds {
  /** The stream frames are read from. */
  readonly input: Readable;
  /** The stream frames are written to. */
  readonly output: Writable;
  /**
   * The file descriptor behind `output`, when frames may be written to it directly with one
   * blocking `write(2)` (the child's stdout): this skips the stream machinery on the hot path.
   * On `EAGAIN` (a non-blocking pipe) the transport falls back to the stream for good.
   */
  readonly outputFd?: number;
}

/**
 * A {@link FrameTransport} over a pair of byte streams: a child's stdout/stdin on the parent
 * side, or `process.stdin`/`process.stdout` inside the chip child.
 *
 * @example
 * const t = new PipeFrameTransport({ input: child.stdout!, output: child.stdin! });
 * t.onFrame((f) => reply.bytes.set(f)); t.send(request.bytes);
 */
export class PipeFrameTransport extends FrameCallbacks implements FrameTransport {
  private directFd: number;
  private readonly assembler = new FrameAssembler((f) => this.frameCb(f));

  constructor(private readonly ends: PipeEnds) {
    super();
    this.directFd = ends.outputFd ?? -1;
    ends.input.on('data', (chunk: Uint8Array) => this.assembler.push(chunk));
    ends.input.on('end', () => this.finish());
    ends.input.on('close', () => this.finish());
    ends.input.on('error', (e: Error) => this.finish(e));
    // A write to a dead peer reports EPIPE here; the close callbacks deal with the loss.
    ends.output.on('error', (e: Error) => this.finish(e));
  }

  /** True while the output can still take frames. */
  get writable(): boolean {
    return !this.closed && this.ends.output.writable;
  }

  /** True when the last `send` could not be handed to the OS at once (the caller should not reuse its block). */
  get backlogged(): boolean {
    return this.directFd < 0 && this.ends.output.writableLength > 0;
  }

  send(frame: Uint8Array): void {
    if (frame.byteLength !== MAILBOX_BYTES) throw new RangeError(`a frame is ${MAILBOX_BYTES} bytes, got ${frame.byteLength}`);
    if (this.closed || !this.ends.output.writable) return;
    if (this.directFd >= 0) {
      let done = 0;
      try {
        while (done < frame.byteLength) done += writeSync(this.directFd, frame, done, frame.byteLength - done);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return this.finish(error as Error);
        this.directFd = -1; // never mix again: the stream keeps its own order from here on
        this.ends.output.write(frame.slice(done));
        return;
      }
    }
    this.ends.output.write(frame);
  }

  close(): void {
    if (this.closed) return;
    try {
      this.ends.output.end();
    } catch {
      // process.stdout may refuse to end; the process is about to exit anyway.
    }
    this.ends.input.removeAllListeners('data');
    this.ends.input.pause();
    this.finish();
  }

}

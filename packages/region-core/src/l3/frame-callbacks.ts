/**
 * The callback half of a {@link FrameTransport} that every transport shares: one frame receiver,
 * close callbacks run exactly once, and a late `onClose` still told (asynchronously).
 *
 * @example
 * class MyTransport extends FrameCallbacks { send(f: Uint8Array) { ... } close() { this.finish(); } }
 */
export abstract class FrameCallbacks {
  /** Receiver of complete frames; the subclass calls it for each one. */
  protected frameCb: (frame: Uint8Array) => void = () => undefined;
  /** True once {@link finish} ran. */
  protected closed = false;
  private closeCbs: ((error?: Error) => void)[] = [];

  /** Registers the receiver of complete frames, in arrival order. */
  onFrame(cb: (frame: Uint8Array) => void): void {
    this.frameCb = cb;
  }

  /** Registers a callback for the end of the incoming stream (peer gone or transport closed). */
  onClose(cb: (error?: Error) => void): void {
    if (this.closed) queueMicrotask(() => cb());
    else this.closeCbs.push(cb);
  }

  /** Marks the transport closed and runs every close callback once; later calls do nothing. */
  protected finish(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    const cbs = this.closeCbs;
    this.closeCbs = [];
    for (const cb of cbs) cb(error);
  }
}

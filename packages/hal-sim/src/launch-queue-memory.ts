import { closeSync } from 'node:fs';
import { LQ_DOORBELL, LaunchQueueOwner, SharedLaunchQueue, UnsupportedError, launchQueueBytes } from '@simpler/abi';
import type { SharedMapping, SharedMemoryObject } from '@simpler/shm';
import { CTL_QUEUE_HANDOFF, HANDOFF_HOST, HANDOFF_PENDING } from './device-protocol';
import type { ShmModule } from './shm-loader';

/** Slots of a simulator's launch queue: launches beyond it wait on the host, in order. */
export const LAUNCH_QUEUE_CAPACITY = 1024;
/** While launches wait for room, the host looks for room this often (ms). */
const HELD_RETRY_MS = 1;

/** How the device thread reaches the queue: its own duplicate of the memfd, or the same SharedArrayBuffer. */
export type DeviceQueueEnd =
  | { readonly kind: 'memfd'; readonly fd: number; readonly byteLength: number }
  | { readonly kind: 'sab'; readonly buffer: SharedArrayBuffer; readonly byteLength: number };

interface HeldLaunch {
  readonly kernel: number;
  readonly args: readonly bigint[];
}

/**
 * The host's end of the simulator's launch queue (`@simpler/abi` launch-queue): every launch goes
 * through it, from this process or from an L3 parent that mapped it. With `@simpler/shm` it lives
 * in a sealed memfd (shareable, the device sleeps on a futex in it); without, in a
 * SharedArrayBuffer (the device sleeps with `Atomics.wait`). When the ring is full, launches wait
 * here in order (`held`, which keeps other producers out) and go in as the device frees slots.
 */
export class HostLaunchQueue {
  private readonly held: HeldLaunch[] = [];
  private retry: NodeJS.Timeout | undefined;
  private released = false;

  private constructor(
    readonly owner: LaunchQueueOwner,
    readonly deviceEnd: DeviceQueueEnd,
    private readonly control: Int32Array,
    private readonly object: SharedMemoryObject | undefined,
    private readonly mapping: SharedMapping | undefined,
  ) {}

  /** Creates the queue memory (memfd when `shm` is given) and formats it. */
  static create(shm: ShmModule | undefined, control: Int32Array): HostLaunchQueue {
    const bytes = launchQueueBytes(LAUNCH_QUEUE_CAPACITY);
    if (shm === undefined) {
      const buffer = new SharedArrayBuffer(bytes);
      LaunchQueueOwner.format(buffer, 0, LAUNCH_QUEUE_CAPACITY);
      const words = new Int32Array(buffer);
      const owner = new LaunchQueueOwner(buffer, 0, bytes, () => void Atomics.notify(words, LQ_DOORBELL >> 2));
      return new HostLaunchQueue(owner, { kind: 'sab', buffer, byteLength: bytes }, control, undefined, undefined);
    }
    const object = shm.SharedMemoryObject.create(bytes, { debugName: 'simpler-sim-launch-queue', sealSize: true });
    let mapping: SharedMapping | undefined;
    let dup: SharedMemoryObject | undefined;
    try {
      mapping = object.map(undefined, 0, { backing: 'heap' });
      dup = object.dup();
      LaunchQueueOwner.format(mapping.buffer, mapping.byteOffset, LAUNCH_QUEUE_CAPACITY);
      const own = mapping;
      const owner = new LaunchQueueOwner(own.buffer, own.byteOffset, bytes, () => void own.futexWake(LQ_DOORBELL));
      return new HostLaunchQueue(owner, { kind: 'memfd', fd: dup.fd, byteLength: bytes }, control, object, own);
    } catch (error) {
      dup?.close();
      mapping?.unmap();
      object.close();
      throw error;
    }
  }

  /** Launches kernel id `kernel`: into the ring, or held in order while it is full. */
  push(kernel: number, args: readonly bigint[]): void {
    if (this.held.length === 0 && this.owner.push(kernel, args, true) === 'queued') return;
    this.held.push({ kernel, args });
    this.owner.setHeld(this.held.length);
    this.flush();
  }

  /** Launches reserved in the ring plus those held here: what `synchronize` waits for. */
  get launched(): number {
    return (this.owner.tail + this.held.length) | 0;
  }

  /** Moves held launches into the ring while it has room; looks again soon while some remain. */
  flush(): void {
    let moved = 0;
    while (moved < this.held.length && !this.owner.closed && this.owner.push(this.held[moved].kernel, this.held[moved].args, true) === 'queued') moved++;
    if (moved > 0) this.held.splice(0, moved);
    this.owner.setHeld(this.held.length);
    if (this.held.length > 0 && this.retry === undefined && !this.owner.closed) {
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.flush();
      }, HELD_RETRY_MS);
      // Held kernels do not keep the process alive, as queued ones do not (the device is unref'd).
      this.retry.unref();
    }
  }

  /** What another process needs to map the queue; `ENOTSUP` for SharedArrayBuffer memory. */
  share(): SharedLaunchQueue {
    if (this.object === undefined) {
      throw new UnsupportedError('the launch queue lives in a SharedArrayBuffer (no @simpler/shm here): it cannot be shared');
    }
    return { fd: this.object.fd, offset: 0, length: this.deviceEnd.byteLength };
  }

  /** No more launches: producers elsewhere see `closed`, held ones are dropped. */
  close(): void {
    this.owner.close();
    this.held.length = 0;
    this.owner.setHeld(0);
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.retry = undefined;
  }

  /** Closes the queue and gives its memory back (after the device thread is gone or told to stop). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.close();
    // The device thread closes its duplicate itself once it has taken it.
    if (this.deviceEnd.kind === 'memfd' && Atomics.compareExchange(this.control, CTL_QUEUE_HANDOFF, HANDOFF_PENDING, HANDOFF_HOST) === HANDOFF_PENDING) {
      closeSync(this.deviceEnd.fd);
    }
    this.mapping?.unmap();
    this.object?.close();
  }
}

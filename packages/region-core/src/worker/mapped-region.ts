import type { RegionAccess } from './endpoint';

/** What a MappedRegion needs from the worker that opened it. */
export interface MappedRegionOwner {
  /** True while the region is open in this owner. */
  isOpen(region: MappedRegion): boolean;
  /** Closes the region through the owner. */
  closeMappedRegion(region: MappedRegion): Promise<void>;
}

/**
 * A region opened through a {@link Worker}: a small wrapper, not a pointer. Pass it back to the
 * worker's `mappedRegion*` calls; they go to `workerId`'s chip.
 *
 * @example
 * await using region = await worker.openMappedRegion(4096, { signalCount: 2 });
 * await worker.mappedRegionNotify(region, 0, 1);
 */
export class MappedRegion {
  /** Opaque non-zero u64 token naming the region in its owner process. */
  readonly handle: bigint;
  /** The worker id (device) the region lives on. */
  readonly workerId: number;
  /** Bytes of the data area. */
  readonly dataBytes: number;
  /** Number of signal slots. */
  readonly signalCount: number;
  /** Region flags (0). */
  readonly flags: number;
  /**
   * `'direct'`: datacopy, notify and wait run in this process against its own mapping of the
   * region (always at L2; at L3 when the chip's backend can share its memory). `'proxied'`:
   * every call is a request to the chip child that owns the region.
   */
  readonly access: RegionAccess;
  readonly #owner: MappedRegionOwner;

  /** Created by `Worker.openMappedRegion`; not meant to be constructed by users. */
  constructor(owner: MappedRegionOwner, handle: number, workerId: number, dataBytes: number, signalCount: number, flags: number, access: RegionAccess = 'proxied') {
    this.#owner = owner;
    this.handle = BigInt(handle);
    this.workerId = workerId;
    this.dataBytes = dataBytes;
    this.signalCount = signalCount;
    this.flags = flags;
    this.access = access;
  }

  /** True once the region was closed (directly, by `await using`, or by closing its worker). */
  get closed(): boolean {
    return !this.#owner.isOpen(this);
  }

  /** Closes the region through its worker; a no-op when it is already closed. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.closed) await this.#owner.closeMappedRegion(this);
  }
}

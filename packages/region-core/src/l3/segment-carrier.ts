import { BackendError, INFO_LAYOUT, MailboxCommand, MailboxFrame, SidebandOp } from '@simpler/abi';
import type { ParentPayloadCarrier } from './payload-carrier';
import { ParentSegment } from './sideband-segment';

/** Payloads above this leave the segment's memory to the OS after the request. */
const SHRINK_ABOVE_BYTES = 64 << 20;

/**
 * The pipe transport's payload carrier: one reused side-band segment per parent–child pair
 * (spec 9.3), created on first use, named in the frame's `name` field.
 *
 * @example
 * const carrier = new SegmentCarrier('simpler-hdmr-1234-');
 * carrier.prepareInfo(frame, handle); // send, await the reply, then: carrier.finishInfo(frame)
 */
export class SegmentCarrier implements ParentPayloadCarrier {
  private segment: ParentSegment | undefined;
  private nbytes = 0;
  private dst: Uint8Array | undefined;
  private disposed = false;

  constructor(private readonly prefix: string) {}

  /** Name of the segment, once one was created. */
  get segmentName(): string | undefined {
    return this.segment?.name;
  }

  private segmentFor(): ParentSegment {
    if (this.disposed) throw new BackendError('the side-band segment of this chip child is already released');
    this.segment ??= ParentSegment.create(this.prefix);
    return this.segment;
  }

  prepareInfo(f: MailboxFrame, handle: number): void {
    const seg = this.segmentFor();
    seg.prepare(SidebandOp.INFO, handle, 0, INFO_LAYOUT.size, true);
    f.command = MailboxCommand.INFO;
    f.name = seg.name;
  }

  finishInfo(): Promise<Uint8Array> {
    return this.segmentFor().readPayload(INFO_LAYOUT.size);
  }

  async prepareH2Region(f: MailboxFrame, handle: number, offset: number, src: Uint8Array, nbytes: number, fits: boolean): Promise<void> {
    const seg = this.segmentFor();
    // A request the child will reject (EINVAL) must never grow the segment.
    seg.prepare(SidebandOp.H2REGION, handle, offset, nbytes, fits);
    this.nbytes = nbytes;
    if (fits && nbytes > 0) await seg.writePayload(src, nbytes);
    f.command = MailboxCommand.DATACOPY_H2REGION;
    f.name = seg.name;
  }

  finishH2Region(): void {
    if (this.nbytes > SHRINK_ABOVE_BYTES) this.segment?.shrink();
  }

  prepareRegion2H(f: MailboxFrame, handle: number, offset: number, nbytes: number, fits: boolean, dst: Uint8Array | undefined): void {
    const seg = this.segmentFor();
    seg.prepare(SidebandOp.REGION2H, handle, offset, nbytes, fits);
    this.nbytes = nbytes;
    this.dst = dst;
    f.command = MailboxCommand.DATACOPY_REGION2H;
    f.name = seg.name;
  }

  async finishRegion2H(): Promise<Uint8Array> {
    const seg = this.segmentFor();
    const dst = this.dst;
    this.dst = undefined;
    let out: Uint8Array;
    if (dst) {
      await seg.readPayloadInto(dst, this.nbytes);
      out = dst;
    } else {
      out = await seg.readPayload(this.nbytes);
    }
    if (this.nbytes > SHRINK_ABOVE_BYTES) this.segment?.shrink();
    return out;
  }

  giveBack(): void {
    this.segment?.shrink();
  }

  dispose(): void {
    this.disposed = true;
    this.dst = undefined;
    this.segment?.dispose();
  }
}

import type { MailboxFrame } from '@simpler/abi';
import type { ChipContext } from './chip-child';

/**
 * How an L3 parent moves the payloads of info (14), h2region (15) and region2h (16): a side-band
 * segment in `/dev/shm` with the pipe transport, the data window with the shared-memory one. One
 * request is in flight at a time, so a carrier may keep per-request state between `prepare*` and
 * `finish*`. `fits` is false when the parent already knows the child will reject the request
 * (unknown region or bad range): the carrier then reserves nothing for its payload.
 */
export interface ParentPayloadCarrier {
  /** Fills `f` (command, name) and the carrier for an info request. */
  prepareInfo(f: MailboxFrame, handle: number): void;
  /** After a successful reply: the 64-byte info record. */
  finishInfo(f: MailboxFrame): Uint8Array | Promise<Uint8Array>;
  /**
   * Fills `f` and hands over `src`, lent until the request settles: it must keep `nbytes` (its
   * length at the call) until its bytes are copied, else the request is `EINVAL`.
   */
  prepareH2Region(f: MailboxFrame, handle: number, offset: number, src: Uint8Array, nbytes: number, fits: boolean): void | Promise<void>;
  /** After a successful reply. */
  finishH2Region(f: MailboxFrame): void;
  /** Fills `f` for a region2h of `nbytes`; `dst` (exactly `nbytes` long until filled, else `EINVAL`) receives them, or the carrier allocates. */
  prepareRegion2H(f: MailboxFrame, handle: number, offset: number, nbytes: number, fits: boolean, dst: Uint8Array | undefined): void;
  /** After a successful reply: the bytes (in `dst` when one was given). */
  finishRegion2H(f: MailboxFrame): Uint8Array | Promise<Uint8Array>;
  /** After a failed transfer: gives back the space its payload took (a full `/dev/shm` starves other workers). Never throws. */
  giveBack(): void;
  /** Releases what the carrier holds. Idempotent; never throws. */
  dispose(): void;
}

/** The chip child's side of a {@link ParentPayloadCarrier}; each method returns RESULT (or a promise of it). */
export interface ChildPayloadCarrier {
  /** Serves info: `encode` gives the 64 public info bytes of a region. */
  info(f: MailboxFrame, encode: (region: number) => Uint8Array): number;
  /** Serves h2region into `ctx`. */
  h2region(f: MailboxFrame, ctx: ChipContext): number | Promise<number>;
  /** Serves region2h out of `ctx`. */
  region2h(f: MailboxFrame, ctx: ChipContext): number | Promise<number>;
}

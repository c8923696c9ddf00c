import type { RegionInfoRecord } from '../context/region-record';

/**
 * How a region's data and signal calls run: `'direct'` in this process against memory it maps
 * (every L2 region; an L3 region whose backend can share its memory), `'proxied'` as requests
 * to the chip child that owns the region.
 */
export type RegionAccess = 'direct' | 'proxied';

/**
 * What a Worker needs from one device ("chip"): the seam between the public async API and
 * either an in-process device context (L2) or a chip child process (L3).
 * Arguments arrive already validated for type and range by the Worker; the endpoint (or the
 * device context behind it) still enforces every region rule, so a peer cannot bypass them.
 */
export interface Endpoint {
  /** Worker id of this chip (its device id). */
  readonly workerId: number;
  /** Platform of the chip's backend (e.g. `a2a3sim`, `a2a3`, `a5`); `unknown` if it did not say. */
  readonly platform: string;
  /**
   * Opens a region; resolves to its handle (a non-zero u64 token, as a number below 2^53).
   * `access` asks for a mode (undefined: direct where possible); one the chip cannot give is
   * `ENOTSUP` (`'direct'`) or `EINVAL` (`'proxied'` at L2).
   */
  open(dataBytes: number, signalCount: number, flags: number, access?: RegionAccess): Promise<number>;
  /** The access mode of an open region of this endpoint. */
  accessOf(handle: number): RegionAccess;
  /** Closes a region. */
  close(handle: number): Promise<void>;
  /** Public info of a region (host pointers already 0n). */
  info(handle: number): Promise<EndpointInfo>;
  /** Copies host bytes into the data area. */
  h2region(handle: number, offset: number, src: Uint8Array): Promise<void>;
  /** Copies data-area bytes out into a new buffer. */
  region2h(handle: number, offset: number, nbytes: number): Promise<Uint8Array>;
  /** Copies `dst.byteLength` data-area bytes at `offset` into `dst` (no allocation). */
  region2hInto(handle: number, offset: number, dst: Uint8Array): Promise<void>;
  /** Publishes `value` into a signal slot. */
  notify(handle: number, signalId: number, value: number): Promise<void>;
  /** Waits until the slot value is >= target, bounded by timeoutUs (0 = probe). */
  wait(handle: number, signalId: number, target: number, timeoutUs: number): Promise<void>;
  /** Queues a device kernel. */
  launch(kernel: string, args: readonly bigint[]): Promise<void>;
  /** Waits for every queued kernel. */
  synchronize(): Promise<void>;
  /** Releases every region and the device; never hangs. */
  shutdown(): Promise<void>;
}

/** Region info as an endpoint reports it: the public form, host pointers 0n. */
export type EndpointInfo = RegionInfoRecord;

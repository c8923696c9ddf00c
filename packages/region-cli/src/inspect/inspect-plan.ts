import type { L3Transport, RegionAccess } from '@simpler/region-core';

/** What `inspect` does to its region, checked against the region's size before anything opens. */
export interface InspectPlan {
  readonly dataBytes: number;
  readonly signalCount: number;
  /** Bytes to copy in (datacopy h2region), if any. */
  readonly payload?: Uint8Array;
  /** Data offset of the write. */
  readonly offset: number;
  /** Signals to publish after the write, in order. */
  readonly notify: readonly { readonly signalId: number; readonly value: number }[];
  /** Most data bytes to show. */
  readonly maxBytes: number;
  /** Level 3: the access mode asked for (undefined: direct where the backend can share its memory). */
  readonly access?: RegionAccess;
  /** Level 3: what carries requests to the chip child (undefined: the default). */
  readonly transport?: L3Transport;
}

/**
 * The slice of the `@simpler/region-core` Worker the round trip uses (spec section 10), described
 * structurally so the job also runs against any object with the same shape.
 */
export interface RoundtripWorker<R = unknown> {
  openMappedRegion(dataBytes: number, options: { signalCount: number; flags?: number; workerId?: number; access?: 'direct' | 'proxied' }): Promise<R>;
  mappedRegionInfo(region: R): Promise<{ readonly deviceDataPtr: bigint; readonly deviceSignalPtr: bigint }>;
  mappedRegionDatacopyH2Region(region: R, offset: number, bytes: Uint8Array): Promise<void>;
  mappedRegionDatacopyRegion2H(region: R, offset: number, nbytes: number): Promise<Uint8Array>;
  mappedRegionNotify(region: R, signalId: number, value: number): Promise<void>;
  mappedRegionWait(region: R, signalId: number, target: number, timeoutUs: number): Promise<void>;
  launch(kernel: string, args: readonly bigint[], options?: { workerId?: number }): Promise<void>;
  synchronize(options?: { workerId?: number }): Promise<void>;
  closeMappedRegion(region: R): Promise<void>;
}

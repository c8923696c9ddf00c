import { fillExpected, fillPayload, firstMismatch } from './roundtrip-payload';
import { RoundtripWorker } from './roundtrip-worker';

/** Name of the device kernel of spec section 11. */
export const ROUND_TRIP_KERNEL_NAME = 'round-trip';

/** Inputs of {@link runRoundtrip}. */
export interface RoundtripOptions {
  /** The worker (L2: one device; L3: every id in `deviceIds`). */
  readonly worker: RoundtripWorker<unknown>;
  /** Device ids to run on, concurrently. */
  readonly deviceIds: readonly number[];
  /** Iterations per device (`seq = 1 .. iters`). */
  readonly iters: number;
  /** Bytes per direction `n` (the region's data area is `2n`). */
  readonly bytesPerDirection: number;
  /** Bound of each host wait for signal 1, in microseconds. */
  readonly timeoutUs: number;
  /** Called after every verified iteration (any device). */
  readonly onIteration?: () => void;
  /** Level 3: the access mode to open the regions with (default: direct where possible). */
  readonly access?: 'direct' | 'proxied';
}

/** The outcome on one device. */
export interface DeviceRoundtripResult {
  readonly deviceId: number;
  /** Iterations whose output matched exactly. */
  readonly verified: number;
  /** Wall time of each verified iteration (h2region through region2h), microseconds. */
  readonly latenciesUs: Float64Array;
  /** Why the device stopped early (first mismatch), if it did. */
  readonly mismatch?: string;
}

/**
 * Runs the round trip of spec section 11 on every device at once, one region per device reused for
 * all iterations: payload in, notify(0, seq), launch `round-trip`, wait(1, seq), read back and
 * compare every byte; then synchronize and close. A data mismatch stops that device and is reported
 * in its result; region errors (timeouts, backend failures) propagate after the regions are closed.
 */
export async function runRoundtrip(options: RoundtripOptions): Promise<DeviceRoundtripResult[]> {
  return Promise.all(options.deviceIds.map((id) => runOnDevice(options, id)));
}

async function runOnDevice(o: RoundtripOptions, deviceId: number): Promise<DeviceRoundtripResult> {
  const { worker, iters, timeoutUs } = o;
  const n = o.bytesPerDirection;
  const region = await worker.openMappedRegion(2 * n, { signalCount: 2, flags: 0, workerId: deviceId, ...(o.access ? { access: o.access } : {}) });
  const latencies = new Float64Array(iters);
  let verified = 0;
  let mismatch: string | undefined;
  try {
    const info = await worker.mappedRegionInfo(region);
    const payload = new Uint8Array(n);
    const expected = new Uint8Array(n);
    const bigN = BigInt(n);
    for (let seq = 1; seq <= iters; seq++) {
      fillPayload(payload, seq);
      fillExpected(expected, payload, seq);
      const t0 = performance.now();
      await worker.mappedRegionDatacopyH2Region(region, 0, payload);
      await worker.mappedRegionNotify(region, 0, seq);
      await worker.launch(ROUND_TRIP_KERNEL_NAME, [info.deviceDataPtr, info.deviceSignalPtr, BigInt(seq), bigN], { workerId: deviceId });
      await worker.mappedRegionWait(region, 1, seq, timeoutUs);
      const out = await worker.mappedRegionDatacopyRegion2H(region, n, n);
      const t1 = performance.now();
      const bad = firstMismatch(out, expected);
      if (bad >= 0) {
        mismatch = `device ${deviceId}, iteration ${seq}: output byte ${bad} is ${hex(out[bad])}, expected ${hex(expected[bad])}`;
        break;
      }
      latencies[verified++] = (t1 - t0) * 1000;
      o.onIteration?.();
    }
    await worker.synchronize({ workerId: deviceId });
  } catch (error) {
    // The first failure is what the user needs; a close failing after it would only hide it.
    await worker.closeMappedRegion(region).catch(() => undefined);
    throw error;
  }
  await worker.closeMappedRegion(region);
  return { deviceId, verified, latenciesUs: latencies.subarray(0, verified), ...(mismatch === undefined ? {} : { mismatch }) };
}

function hex(v: number | undefined): string {
  return v === undefined ? 'missing' : `0x${v.toString(16).padStart(2, '0')}`;
}

import { withWorker } from '../backend/with-worker';
import { U32_MAX, computeRegionLayout, isRegionError } from '@simpler/abi';
import { MappedRegion, Worker, createWorker, defaultL3Transport } from '@simpler/region-core';
import type { CliBackendChoice } from '../backend/select-backend';
import { backendSpecifier } from '../backend/open-backend';
import type { CliIo } from '../cli-io';
import type { InspectReport } from './inspect-report';
import type { InspectPlan } from './inspect-plan';

/** True when the slot is already >= target (a probe: a wait with timeout 0). */
async function reaches(worker: Worker, region: MappedRegion, signalId: number, target: number): Promise<boolean> {
  try {
    await worker.mappedRegionWait(region, signalId, target, 0);
    return true;
  } catch (error) {
    if (isRegionError(error) && error.code === 'EAGAIN') return false;
    throw error;
  }
}

/**
 * A signal's value through the public API alone: probes bisect the u32 range (at most 33 probes;
 * one for a slot still at 0), since the header and slots of an L3 region are in the chip child.
 */
export async function signalValueByProbes(worker: Worker, region: MappedRegion, signalId: number): Promise<number> {
  if (!(await reaches(worker, region, signalId, 1))) return 0;
  let low = 1; // the slot is >= low
  let high = U32_MAX + 1; // and < high
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (await reaches(worker, region, signalId, mid)) low = mid;
    else high = mid;
  }
  return low;
}

/**
 * Level 3: one chip child owns the region; this process drives it through the public Worker API
 * in the access mode asked for (direct where the backend can share its memory, by default).
 * The layout is computed from the region info, the signals found by probes, the data read back.
 */
export async function inspectWorkerRegion(plan: InspectPlan, choice: CliBackendChoice, io: CliIo): Promise<InspectReport> {
  const transport = plan.transport ?? defaultL3Transport();
  const worker = await createWorker({ level: 3, backend: backendSpecifier(choice, io.cwd), backendOptions: choice.backendOptions, deviceIds: [0], transport });
  return withWorker(worker, async () => {
    const region = await worker.openMappedRegion(plan.dataBytes, { signalCount: plan.signalCount, ...(plan.access ? { access: plan.access } : {}) });
    if (plan.payload) await worker.mappedRegionDatacopyH2Region(region, plan.offset, plan.payload);
    for (const n of plan.notify) await worker.mappedRegionNotify(region, n.signalId, n.value);
    const info = await worker.mappedRegionInfo(region);
    const layout = computeRegionLayout(info.dataBytes, info.signalCount);
    const signals: number[] = [];
    for (let i = 0; i < info.signalCount; i++) signals.push(await signalValueByProbes(worker, region, i));
    const shown = Math.min(plan.maxBytes, info.dataBytes);
    const data = await worker.mappedRegionDatacopyRegion2H(region, 0, shown);
    await worker.closeMappedRegion(region);
    return {
      backend: choice.backend,
      platform: worker.platformOf(0),
      level: 3,
      transport,
      access: region.access,
      layout: { signalCount: layout.signalCount, signalOffset: layout.signalOffset, dataOffset: layout.dataOffset, dataBytes: layout.dataBytes, totalBytes: layout.totalBytes },
      deviceDataPtr: `0x${info.deviceDataPtr.toString(16)}`,
      deviceSignalPtr: `0x${info.deviceSignalPtr.toString(16)}`,
      signals,
      data: { offset: 0, length: shown, hex: Buffer.from(data).toString('hex') },
    };
  });
}

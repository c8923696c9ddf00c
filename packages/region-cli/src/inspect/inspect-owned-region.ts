import { BackendAllocation, decodeRegionHeader } from '@simpler/abi';
import { DeviceContext } from '@simpler/region-core';
import type { CliBackendChoice } from '../backend/select-backend';
import { openBackend } from '../backend/open-backend';
import { captureAllocations } from '../backend/capture-backend';
import type { CliIo } from '../cli-io';
import type { InspectHeader, InspectReport } from './inspect-report';
import type { InspectPlan } from './inspect-plan';

function headerOf(raw: Uint8Array): InspectHeader {
  const h = decodeRegionHeader(raw, 0);
  return {
    // Number(): the decoded record's static type widens u32 fields to bigint; at run time they are numbers.
    magic: Number(h.magic),
    version: Number(h.version),
    flags: Number(h.flags),
    signalCount: Number(h.signal_count),
    signalOffset: Number(h.signal_offset),
    dataOffset: Number(h.data_offset),
    dataBytes: Number(h.data_bytes),
    totalBytes: Number(h.total_bytes),
    reservedZero: h.reserved.every((r) => r === 0n),
  };
}

function readRegion(device: DeviceContext, handle: number, allocation: BackendAllocation, backend: string, maxBytes: number): InspectReport {
  const info = device.publicInfo(handle);
  allocation.invalidate?.(0, info.totalBytes);
  const raw = allocation.bytes;
  const header = headerOf(raw);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const signals: number[] = [];
  for (let i = 0; i < header.signalCount; i++) signals.push(view.getUint32(header.signalOffset + i * 64, true));
  const shown = Math.min(maxBytes, info.dataBytes);
  const data = device.datacopyRegion2H(handle, 0, shown);
  return {
    backend,
    platform: device.backend.platform,
    level: 2,
    access: 'direct',
    header,
    deviceDataPtr: `0x${info.deviceDataPtr.toString(16)}`,
    deviceSignalPtr: `0x${info.deviceSignalPtr.toString(16)}`,
    signals,
    data: { offset: 0, length: shown, hex: Buffer.from(data).toString('hex') },
  };
}

/**
 * Level 2: opens the region in this process (the owner), writes and notifies as planned, and reads
 * the header and signals from region memory itself — the CLI wraps the backend to keep the
 * allocation, since the public datacopy API reaches only the data area.
 */
export async function inspectOwnedRegion(plan: InspectPlan, choice: CliBackendChoice, io: CliIo): Promise<InspectReport> {
  const capture = captureAllocations(await openBackend(choice, 0, io.env, io.cwd));
  const device = new DeviceContext(capture.backend);
  try {
    const handle = device.open(plan.dataBytes, plan.signalCount, 0);
    if (plan.payload) device.datacopyH2Region(handle, plan.offset, plan.payload);
    for (const n of plan.notify) device.notify(handle, n.signalId, n.value);
    const report = readRegion(device, handle, capture.allocations[capture.allocations.length - 1]!, choice.backend, plan.maxBytes);
    device.close(handle);
    return report;
  } finally {
    await device.destroy();
  }
}

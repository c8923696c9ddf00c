import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { decodeRegionHeader, isValidCopyRange } from '@simpler/abi';
import { DeviceContext } from '@simpler/region-core';
import { CommandContext } from '../command-context';
import { UsageError } from '../usage-error';
import { hexBytesOption, integerOption, notifyOption } from '../parse/int-option';
import { addBackendFlags } from '../backend/backend-flags';
import { selectBackend } from '../backend/select-backend';
import { openBackend } from '../backend/open-backend';
import { captureAllocations } from '../backend/capture-backend';
import { colourFor } from '../output/colour';
import { hexDump } from '../output/hex-dump';

interface InspectFlags {
  backend?: string;
  platform?: string;
  config?: string;
  dataBytes: number;
  signalCount: number;
  writeFile?: string;
  writeHex?: Uint8Array;
  offset: number;
  notify: { signalId: number; value: number }[];
  maxBytes: number;
  json?: boolean;
}

/** What `inspect --json` prints. */
export interface InspectReport {
  readonly backend: string;
  readonly platform: string;
  readonly header: { magic: number; version: number; flags: number; signalCount: number; signalOffset: number; dataOffset: number; dataBytes: number; totalBytes: number; reservedZero: boolean };
  readonly deviceDataPtr: string;
  readonly deviceSignalPtr: string;
  readonly signals: number[];
  readonly data: { offset: number; length: number; hex: string };
}

function collectNotify(value: string, previous: { signalId: number; value: number }[] = []): { signalId: number; value: number }[] {
  return [...previous, notifyOption(value)];
}

function payloadOf(flags: InspectFlags, cwd: string): Uint8Array | undefined {
  if (flags.writeFile !== undefined && flags.writeHex !== undefined) throw new UsageError('--write-file and --write-hex cannot be used together');
  if (flags.writeHex !== undefined) return flags.writeHex;
  if (flags.writeFile === undefined) return undefined;
  try {
    return readFileSync(path.resolve(cwd, flags.writeFile));
  } catch (e) {
    throw new UsageError(`--write-file ${flags.writeFile}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Adds `inspect`: open a region, optionally write and notify, then show header, signals and data. */
export function registerInspectCommand(program: Command, ctx: CommandContext): void {
  const cmd = program.command('inspect').description('open a region, optionally write bytes and notify, then print its header, signals and a hex view of the data');
  addBackendFlags(cmd)
    .addOption(new Option('--data-bytes <n>', 'data area size').argParser(integerOption(1, 2 ** 32, true)).default(4096))
    .addOption(new Option('--signal-count <k>', 'signal slots').argParser(integerOption(1, 4096)).default(2))
    .option('--write-file <file>', 'copy this file into the data area (datacopy h2region)')
    .addOption(new Option('--write-hex <hex>', 'copy these bytes into the data area, e.g. deadbeef').argParser(hexBytesOption))
    .addOption(new Option('--offset <n>', 'data offset of the write').argParser(integerOption(0, Number.MAX_SAFE_INTEGER, true)).default(0))
    .addOption(new Option('--notify <id:value>', 'notify a signal after the write (repeatable, in order)').argParser(collectNotify).default([]))
    .addOption(new Option('--max-bytes <n>', 'show at most this many data bytes').argParser(integerOption(0, 2 ** 30, true)).default(512))
    .option('--json', 'print the header, signals and data as JSON')
    .action(async (flags: InspectFlags) => {
      ctx.io.out(await inspect(flags, ctx));
    });
}

async function inspect(flags: InspectFlags, ctx: CommandContext): Promise<string> {
  const { io } = ctx;
  const payload = payloadOf(flags, io.cwd);
  if (payload && !isValidCopyRange(flags.dataBytes, flags.offset, payload.length)) {
    throw new UsageError(`--offset ${flags.offset} with ${payload.length} bytes does not fit the ${flags.dataBytes}-byte data area (--data-bytes)`);
  }
  for (const n of flags.notify) {
    if (n.signalId >= flags.signalCount) throw new UsageError(`--notify ${n.signalId}:${n.value}: signal id must be below --signal-count ${flags.signalCount}`);
  }
  const choice = selectBackend(flags, io.env, io.cwd);
  const capture = captureAllocations(await openBackend(choice, 0, io.env, io.cwd));
  const device = new DeviceContext(capture.backend);
  try {
    const handle = device.open(flags.dataBytes, flags.signalCount, 0);
    if (payload) device.datacopyH2Region(handle, flags.offset, payload);
    for (const n of flags.notify) device.notify(handle, n.signalId, n.value);
    const report = readRegion(device, handle, capture.allocations[capture.allocations.length - 1]!, choice.backend, flags.maxBytes);
    device.close(handle);
    return flags.json ? JSON.stringify(report) + '\n' : renderInspect(report, flags, ctx);
  } finally {
    await device.destroy();
  }
}

function readRegion(device: DeviceContext, handle: number, allocation: { bytes: Uint8Array; invalidate?(o: number, n: number): void }, backend: string, maxBytes: number): InspectReport {
  const info = device.publicInfo(handle);
  allocation.invalidate?.(0, info.totalBytes);
  const raw = allocation.bytes;
  const h = decodeRegionHeader(raw, 0);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const signalOffset = Number(h.signal_offset);
  const signals: number[] = [];
  for (let i = 0; i < Number(h.signal_count); i++) signals.push(view.getUint32(signalOffset + i * 64, true));
  const shown = Math.min(maxBytes, info.dataBytes);
  const data = device.datacopyRegion2H(handle, 0, shown);
  return {
    backend,
    platform: device.backend.platform,
    header: {
      // Number(): the decoded record's static type widens u32 fields to bigint; at run time they are numbers.
      magic: Number(h.magic),
      version: Number(h.version),
      flags: Number(h.flags),
      signalCount: Number(h.signal_count),
      signalOffset,
      dataOffset: Number(h.data_offset),
      dataBytes: Number(h.data_bytes),
      totalBytes: Number(h.total_bytes),
      reservedZero: h.reserved.every((r) => r === 0n),
    },
    deviceDataPtr: `0x${info.deviceDataPtr.toString(16)}`,
    deviceSignalPtr: `0x${info.deviceSignalPtr.toString(16)}`,
    signals,
    data: { offset: 0, length: shown, hex: Buffer.from(data).toString('hex') },
  };
}

function renderInspect(r: InspectReport, flags: InspectFlags, ctx: CommandContext): string {
  const c = colourFor(ctx.io);
  const h = r.header;
  const magicText = Buffer.from([h.magic >>> 24, (h.magic >>> 16) & 0xff, (h.magic >>> 8) & 0xff, h.magic & 0xff]).toString('latin1');
  const kv = (k: string, v: string | number): string => `  ${k.padEnd(18)}${v}\n`;
  let out = `${c.bold('region')} on ${r.backend} (${r.platform}), device 0\n`;
  out += `${c.bold('header')} ${c.dim('(region offset 0, 64 bytes, read from region memory)')}\n`;
  out += kv('magic', `0x${h.magic.toString(16).padStart(8, '0')} "${magicText}"`);
  out += kv('version', h.version) + kv('flags', h.flags) + kv('signal_count', h.signalCount) + kv('signal_offset', h.signalOffset);
  out += kv('data_offset', h.dataOffset) + kv('data_bytes', h.dataBytes) + kv('total_bytes', h.totalBytes);
  out += kv('reserved', h.reservedZero ? 'zero' : c.red('NOT ZERO'));
  out += `${c.bold('device addresses')}\n` + kv('device_data_ptr', r.deviceDataPtr) + kv('device_signal_ptr', r.deviceSignalPtr);
  out += `${c.bold('signals')}\n`;
  r.signals.forEach((v, i) => (out += kv(`[${i}]`, v)));
  const more = h.dataBytes > r.data.length ? ` (first ${r.data.length} of ${h.dataBytes} bytes; --max-bytes to see more)` : ` (${h.dataBytes} bytes)`;
  out += `${c.bold('data')}${c.dim(more)}\n`;
  out += hexDump(Buffer.from(r.data.hex, 'hex'), 0).replace(/^/gm, '  ').replace(/ {2}$/, '');
  if (flags.writeFile !== undefined || flags.writeHex !== undefined) out += c.dim(`wrote ${flags.writeFile ?? 'hex bytes'} at offset ${flags.offset}\n`);
  return out;
}


import type { L3Transport, RegionAccess } from '@simpler/region-core';
import { Colour } from '../output/colour';
import { hexDump } from '../output/hex-dump';

/** The region header as decoded from region memory (level 2: the CLI owns the region). */
export interface InspectHeader {
  readonly magic: number;
  readonly version: number;
  readonly flags: number;
  readonly signalCount: number;
  readonly signalOffset: number;
  readonly dataOffset: number;
  readonly dataBytes: number;
  readonly totalBytes: number;
  readonly reservedZero: boolean;
}

/** The region layout computed from the region's info (level 3: the header lives in the chip child). */
export interface InspectLayout {
  readonly signalCount: number;
  readonly signalOffset: number;
  readonly dataOffset: number;
  readonly dataBytes: number;
  readonly totalBytes: number;
}

/** What `inspect --json` prints. */
export interface InspectReport {
  readonly backend: string;
  readonly platform: string;
  /** 2: the CLI owns the region; 3: a chip child does. */
  readonly level: 2 | 3;
  /** Level 3: what carries requests to the chip child. */
  readonly transport?: L3Transport;
  /** Where the region's datacopy, notify and wait ran: `direct` in this process, `proxied` through the chip child. */
  readonly access: RegionAccess;
  /** Level 2: the header read from region memory. */
  readonly header?: InspectHeader;
  /** Level 3: the layout computed by `@simpler/abi` (the header itself is in the chip child's memory). */
  readonly layout?: InspectLayout;
  readonly deviceDataPtr: string;
  readonly deviceSignalPtr: string;
  readonly signals: number[];
  readonly data: { offset: number; length: number; hex: string };
}

/** What the text form says about each access mode. */
const ACCESS_MEANING: Readonly<Record<RegionAccess, string>> = {
  direct: 'datacopy, notify and wait ran in this process, against its own mapping of the region',
  proxied: 'datacopy, notify and wait were requests to the chip child that owns the region',
};

function headerText(h: InspectHeader, kv: (k: string, v: string | number) => string, c: Colour): string {
  const magicText = Buffer.from([h.magic >>> 24, (h.magic >>> 16) & 0xff, (h.magic >>> 8) & 0xff, h.magic & 0xff]).toString('latin1');
  let out = `${c.bold('header')} ${c.dim('(region offset 0, 64 bytes, read from region memory)')}\n`;
  out += kv('magic', `0x${h.magic.toString(16).padStart(8, '0')} "${magicText}"`);
  out += kv('version', h.version) + kv('flags', h.flags) + kv('signal_count', h.signalCount) + kv('signal_offset', h.signalOffset);
  out += kv('data_offset', h.dataOffset) + kv('data_bytes', h.dataBytes) + kv('total_bytes', h.totalBytes);
  return out + kv('reserved', h.reservedZero ? 'zero' : c.red('NOT ZERO'));
}

function layoutText(l: InspectLayout, kv: (k: string, v: string | number) => string, c: Colour): string {
  let out = `${c.bold('layout')} ${c.dim("(computed from the region info; the header itself is in the chip child's memory)")}\n`;
  out += kv('signal_count', l.signalCount) + kv('signal_offset', l.signalOffset) + kv('data_offset', l.dataOffset);
  return out + kv('data_bytes', l.dataBytes) + kv('total_bytes', l.totalBytes);
}

/** The readable form of an inspect report; `wrote` names what was written, if anything. */
export function renderInspect(r: InspectReport, c: Colour, wrote?: { what: string; offset: number }): string {
  const kv = (k: string, v: string | number): string => `  ${k.padEnd(18)}${v}\n`;
  const where = r.level === 3 ? `level 3 (${r.transport ?? 'default transport'})` : 'level 2';
  let out = `${c.bold('region')} on ${r.backend} (${r.platform}), device 0, ${where}\n`;
  out += `access: ${c.bold(r.access)}  ${c.dim(`(${ACCESS_MEANING[r.access]})`)}\n`;
  if (r.header) out += headerText(r.header, kv, c);
  if (r.layout) out += layoutText(r.layout, kv, c);
  out += `${c.bold('device addresses')}\n` + kv('device_data_ptr', r.deviceDataPtr) + kv('device_signal_ptr', r.deviceSignalPtr);
  out += `${c.bold('signals')}${r.level === 3 ? c.dim(' (found by non-blocking waits)') : ''}\n`;
  r.signals.forEach((v, i) => (out += kv(`[${i}]`, v)));
  const dataBytes = r.header?.dataBytes ?? r.layout?.dataBytes ?? r.data.length;
  const more = dataBytes > r.data.length ? ` (first ${r.data.length} of ${dataBytes} bytes; --max-bytes to see more)` : ` (${dataBytes} bytes)`;
  out += `${c.bold('data')}${c.dim(more)}\n`;
  out += hexDump(Buffer.from(r.data.hex, 'hex'), 0).replace(/^/gm, '  ').replace(/ {2}$/, '');
  if (wrote) out += c.dim(`wrote ${wrote.what} at offset ${wrote.offset}\n`);
  return out;
}

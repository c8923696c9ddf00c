import { RegionLayout } from '@simpler/abi';
import { Colour } from './colour';

function bytes(n: number): string {
  return n === 1 ? '1 byte' : `${n} bytes`;
}

/**
 * Draws a region as stacked boxes (header | signal slots | data | padding) with the offset of each
 * boundary on the left, for the terminal form of `layout`.
 */
export function drawRegion(layout: RegionLayout, c: Colour): string {
  const signalsEnd = layout.signalOffset + layout.signalCount * 64;
  const dataEnd = layout.dataOffset + layout.dataBytes;
  const sections: { label: string; detail: string; start: number; style: (s: string) => string }[] = [
    { label: 'header', detail: `magic HDMR, version 1, ${bytes(64)}`, start: 0, style: c.cyan },
    {
      label: layout.signalCount === 1 ? 'signal slot 0' : `signal slots 0..${layout.signalCount - 1}`,
      detail: `${layout.signalCount} x 64 bytes`,
      start: layout.signalOffset,
      style: c.magenta,
    },
  ];
  if (layout.dataOffset > signalsEnd) sections.push({ label: 'alignment', detail: bytes(layout.dataOffset - signalsEnd), start: signalsEnd, style: c.dim });
  sections.push({ label: 'data', detail: bytes(layout.dataBytes), start: layout.dataOffset, style: c.green });
  if (layout.totalBytes > dataEnd) sections.push({ label: 'padding', detail: `${bytes(layout.totalBytes - dataEnd)} of zero`, start: dataEnd, style: c.dim });
  const inner = Math.max(34, ...sections.map((s) => s.label.length + s.detail.length + 5));
  const offW = Math.max(...sections.map((s) => String(s.start).length), String(layout.totalBytes).length) + 7;
  const edge = (left: string, right: string, offset: number | null): string =>
    (offset === null ? ' '.repeat(offW) : `offset ${offset}`.padEnd(offW)) + ` ${left}${'─'.repeat(inner)}${right}`;
  const lines = [edge('┌', '┐', 0)];
  sections.forEach((s, i) => {
    if (i > 0) lines.push(edge('├', '┤', s.start));
    const text = ` ${s.label}  ${s.detail}`;
    lines.push(`${' '.repeat(offW)} │${s.style(c.bold(` ${s.label}`))}  ${c.dim(s.detail)}${' '.repeat(inner - text.length)}│`);
  });
  lines.push(edge('└', '┘', layout.totalBytes));
  lines.push(`${' '.repeat(offW)} total ${bytes(layout.totalBytes)}`);
  return lines.join('\n') + '\n';
}

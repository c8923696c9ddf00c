/** Classic hex view: offset, 16 bytes in hex, printable ASCII; runs of identical all-zero lines collapse to `*`. */
export function hexDump(bytes: Uint8Array, baseOffset = 0): string {
  const lines: string[] = [];
  let previousZero = false;
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, Math.min(at + 16, bytes.length));
    const zero = row.every((b) => b === 0) && row.length === 16;
    if (zero && previousZero && at + 16 < bytes.length) {
      if (lines[lines.length - 1] !== '*') lines.push('*');
      continue;
    }
    previousZero = zero;
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0'));
    const left = hex.slice(0, 8).join(' ');
    const right = hex.slice(8).join(' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${(baseOffset + at).toString(16).padStart(8, '0')}  ${left.padEnd(23)}  ${right.padEnd(23)}  |${ascii}|`);
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}

import { stripAnsi } from './colour';

/** Column alignment of {@link renderTable}. */
export type Align = 'left' | 'right';

/** Renders rows as a plain-text table with a header rule; cells may carry ANSI colour. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const widths = header.map((h, i) => Math.max(stripAnsi(h).length, ...rows.map((r) => stripAnsi(r[i] ?? '').length)));
  const pad = (cell: string, i: number): string => {
    const gap = ' '.repeat(widths[i]! - stripAnsi(cell).length);
    return align[i] === 'right' ? gap + cell : cell + gap;
  };
  const line = (cells: readonly string[]): string => cells.map((c, i) => pad(c, i)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

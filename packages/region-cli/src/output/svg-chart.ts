import { sizeLabel } from '../bench/bench-budget';
import { BenchRow, ThroughputPoint, meetsGoal } from '../bench/bench-result';

/** What the benchmark chart draws. */
export interface ChartData {
  /** Datacopy throughput (GB/s) against size, by series. */
  readonly throughput: Readonly<Record<string, readonly ThroughputPoint[]>>;
  /**
   * Latency samples (us), by series: ping-pongs and notify calls in one panel; series whose name
   * says `round trip` or `wake` (iterations, device → host wake-ups) in the next.
   */
  readonly pingPong: Readonly<Record<string, ArrayLike<number>>>;
  /** Subtitle, e.g. the command and date. */
  readonly subtitle?: string;
  /** The figures; those with a goal are drawn as ratio bars beside their goal. */
  readonly rows?: readonly BenchRow[];
}

const W = 1000;
const PANEL_H = 360;
const M = { left: 72, right: 240, top: 56, bottom: 52 };
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#393b79', '#ad494a'];
const GOAL_ROW_H = 26;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

/** Escapes text for XML content and attribute values. */
export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

/** Tick labels of a log time axis: `20k` rather than `20000`, so neighbouring decades do not collide. */
function fmtTime(n: number): string {
  return n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : fmt(n);
}

/** "Nice" linear ticks from 0 to at least `max`. */
function linearTicks(max: number): number[] {
  const raw = max / 5 || 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = 0; t <= max + step * 0.999; t += step) ticks.push(Number(t.toPrecision(6)));
  return ticks;
}

/** Decades (and 2x, 5x) covering `[min, max]` on a log axis. */
function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= min / 1.0001 && v <= max * 1.0001) ticks.push(Number(v.toPrecision(6)));
    }
  }
  return ticks;
}

function frame(y0: number, title: string, xLabel: string, yLabel: string): string[] {
  const x1 = W - M.right;
  const y1 = y0 + PANEL_H - M.bottom;
  return [
    `<text x="${M.left}" y="${y0 + 30}" font-size="17" font-weight="600" ${FONT}>${xmlEscape(title)}</text>`,
    `<rect x="${M.left}" y="${y0 + M.top}" width="${x1 - M.left}" height="${y1 - y0 - M.top}" fill="#fafafa" stroke="#999"/>`,
    `<text x="${(M.left + x1) / 2}" y="${y1 + 40}" font-size="13" text-anchor="middle" ${FONT}>${xmlEscape(xLabel)}</text>`,
    `<text transform="translate(20 ${(y0 + M.top + y1) / 2}) rotate(-90)" font-size="13" text-anchor="middle" ${FONT}>${xmlEscape(yLabel)}</text>`,
  ];
}

/** Proxied L3 series are dashed, so they read as the counterparts of the solid direct ones. */
function dash(name: string): string {
  return name.includes('proxied') ? ' stroke-dasharray="6 3"' : '';
}

function legend(y0: number, names: readonly string[]): string[] {
  const x = W - M.right + 16;
  return names.flatMap((name, i) => [
    `<line x1="${x}" x2="${x + 16}" y1="${y0 + M.top + 10 + i * 22}" y2="${y0 + M.top + 10 + i * 22}" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="3"${dash(name)}/>`,
    `<text x="${x + 22}" y="${y0 + M.top + 14 + i * 22}" font-size="12" ${FONT}>${xmlEscape(name)}</text>`,
  ]);
}

function throughputPanel(y0: number, data: ChartData['throughput']): string[] {
  const names = Object.keys(data).filter((n) => data[n]!.length > 0);
  const points = names.flatMap((n) => data[n]!);
  const out = frame(y0, 'Datacopy throughput against size', 'copy size (log scale)', 'throughput (GB/s)');
  if (points.length === 0) return out;
  const sizes = [...new Set(points.map((p) => p.bytes))].sort((a, b) => a - b);
  const yTicks = linearTicks(Math.max(...points.map((p) => p.value)));
  const yMax = yTicks[yTicks.length - 1]!;
  const lx = Math.log2(sizes[0]!);
  const hx = Math.log2(sizes[sizes.length - 1]!);
  const x = (b: number): number => M.left + 24 + ((Math.log2(b) - lx) / (hx - lx || 1)) * (W - M.right - M.left - 48);
  const top = y0 + M.top;
  const bottom = y0 + PANEL_H - M.bottom;
  const y = (v: number): number => bottom - (v / yMax) * (bottom - top - 8);
  for (const t of yTicks) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${M.left - 8}" y="${(y(t) + 4).toFixed(1)}" font-size="11" text-anchor="end" ${FONT}>${fmt(t)}</text>`);
  }
  for (const s of sizes) out.push(`<text x="${x(s).toFixed(1)}" y="${bottom + 18}" font-size="11" text-anchor="middle" ${FONT}>${sizeLabel(s)}</text>`);
  names.forEach((name, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const pts = [...data[name]!].sort((a, b) => a.bytes - b.bytes);
    out.push(`<polyline fill="none" stroke="${colour}" stroke-width="2"${dash(name)} points="${pts.map((p) => `${x(p.bytes).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) {
      out.push(
        `<circle class="point" data-series="${xmlEscape(name)}" data-bytes="${p.bytes}" data-value="${p.value}" cx="${x(p.bytes).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="4" fill="${colour}">` +
          `<title>${xmlEscape(`${name}, ${sizeLabel(p.bytes)}: ${p.value.toFixed(2)} GB/s`)}</title></circle>`,
      );
    }
  });
  return [...out, ...legend(y0, names)];
}

/** Series of the second latency panel: whole iterations and wake-ups, slower than single calls. */
const ITERATION_SERIES = /round trip|wake/;

function latencyPanel(y0: number, data: ChartData['pingPong'], names: readonly string[], title: string): string[] {
  const out = frame(y0, title, 'time (us, log scale)', 'fraction of samples at or below');
  if (names.length === 0) return out;
  const sorted = names.map((n) => Float64Array.from(data[n]!).sort());
  const lo = Math.max(0.01, Math.min(...sorted.map((s) => s[0]!)));
  const hi = Math.max(lo * 10, ...sorted.map((s) => s[s.length - 1]!));
  const ticks = logTicks(lo, hi);
  const lx = Math.log10(lo);
  const hx = Math.log10(hi);
  const top = y0 + M.top;
  const bottom = y0 + PANEL_H - M.bottom;
  const x = (v: number): number => M.left + ((Math.log10(Math.max(v, lo)) - lx) / (hx - lx)) * (W - M.right - M.left);
  const y = (f: number): number => bottom - f * (bottom - top - 8);
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(f).toFixed(1)}" y2="${y(f).toFixed(1)}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${M.left - 8}" y="${(y(f) + 4).toFixed(1)}" font-size="11" text-anchor="end" ${FONT}>${f}</text>`);
  }
  for (const t of ticks) out.push(`<text x="${x(t).toFixed(1)}" y="${bottom + 18}" font-size="11" text-anchor="middle" ${FONT}>${fmtTime(t)}</text>`);
  sorted.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length];
    // An empirical CDF, thinned to at most ~300 vertices per series.
    const stride = Math.max(1, Math.floor(s.length / 300));
    const pts: string[] = [];
    for (let k = 0; k < s.length; k += stride) pts.push(`${x(s[k]!).toFixed(1)},${y((k + 1) / s.length).toFixed(1)}`);
    pts.push(`${x(s[s.length - 1]!).toFixed(1)},${y(1).toFixed(1)}`);
    out.push(`<polyline class="cdf" data-series="${xmlEscape(names[i]!)}" data-samples="${s.length}" fill="none" stroke="${colour}" stroke-width="2"${dash(names[i]!)} points="${pts.join(' ')}"/>`);
    const p50 = s[Math.ceil(0.5 * s.length) - 1]!;
    out.push(`<circle class="p50" cx="${x(p50).toFixed(1)}" cy="${y(0.5).toFixed(1)}" r="4" fill="${colour}"><title>${xmlEscape(`${names[i]} p50 ${p50.toFixed(3)} us`)}</title></circle>`);
  });
  return [...out, ...legend(y0, names)];
}

/**
 * Every figure with a goal as a bar of its ratio to its baseline (log scale), with a tick at the goal:
 * green when met, orange when missed.
 */
function goalPanel(y0: number, rows: readonly BenchRow[]): string[] {
  const out = [`<text x="${M.left}" y="${y0 + 30}" font-size="17" font-weight="600" ${FONT}>Figures against their baselines (ratio, log scale; tick = goal)</text>`];
  const ratios = rows.flatMap((r) => [r.ratio, r.goal!.ratio]).filter((v) => v > 0 && Number.isFinite(v));
  const lo = Math.min(0.1, ...ratios) / 1.2;
  const hi = Math.max(10, ...ratios) * 1.2;
  const left = M.left + 230;
  const right = W - 40;
  const x = (v: number): number => left + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (right - left);
  const top = y0 + 46;
  const bottom = top + rows.length * GOAL_ROW_H;
  for (const t of logTicks(lo, hi)) {
    out.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${top}" y2="${bottom}" stroke="${t === 1 ? '#999' : '#e3e3e3'}"/>`);
    out.push(`<text x="${x(t).toFixed(1)}" y="${bottom + 16}" font-size="11" text-anchor="middle" ${FONT}>${fmt(t)}x</text>`);
  }
  rows.forEach((r, i) => {
    const y = top + i * GOAL_ROW_H;
    const met = meetsGoal(r);
    const colour = met ? '#2ca02c' : '#ff7f0e';
    const ratio = Number.isFinite(r.ratio) && r.ratio > 0 ? r.ratio : lo;
    const title = `${r.name}: ${r.value} ${r.unit} against ${r.baseline} ${r.unit} (${r.baselineName}), ratio ${r.ratio}x, goal ${r.goal!.op} ${r.goal!.ratio}x`;
    out.push(`<text x="${left - 8}" y="${y + 17}" font-size="12" text-anchor="end" ${FONT}>${xmlEscape(r.name)}</text>`);
    out.push(
      `<rect class="goal" data-name="${xmlEscape(r.name)}" data-ratio="${r.ratio}" data-goal="${xmlEscape(`${r.goal!.op} ${r.goal!.ratio}`)}" data-met="${met}" x="${left}" y="${y + 5}" width="${Math.max(1, x(ratio) - left).toFixed(1)}" height="${GOAL_ROW_H - 10}" fill="${colour}"><title>${xmlEscape(title)}</title></rect>`,
    );
    out.push(`<line x1="${x(r.goal!.ratio).toFixed(1)}" x2="${x(r.goal!.ratio).toFixed(1)}" y1="${y + 2}" y2="${y + GOAL_ROW_H - 2}" stroke="#000" stroke-width="2"/>`);
  });
  return out;
}

/**
 * Renders the benchmark chart as a standalone SVG document: datacopy throughput against size (one
 * line per series, one marked point per size) above the latency distributions (CDFs) of
 * ping-pongs and notify calls, then of round-trip iterations and wake-ups, above the figures that
 * have a goal, as ratio bars.
 */
export function renderBenchSvg(data: ChartData): string {
  const goals = (data.rows ?? []).filter((r) => r.goal !== undefined);
  const goalsH = goals.length === 0 ? 0 : 46 + goals.length * GOAL_ROW_H + 40;
  const latency = Object.keys(data.pingPong).filter((n) => data.pingPong[n]!.length > 0);
  const panels = [
    { title: 'Ping-pongs and notify calls (latency distributions)', names: latency.filter((n) => !ITERATION_SERIES.test(n)) },
    { title: 'Round-trip iterations and device → host wake-ups (latency distributions)', names: latency.filter((n) => ITERATION_SERIES.test(n)) },
  ].filter((p) => p.names.length > 0);
  if (panels.length === 0) panels.push({ title: 'Latency distributions', names: [] });
  const goalsAt = (1 + panels.length) * (PANEL_H + 20);
  const height = goalsAt + 20 + goalsH;
  const body = [
    `<rect width="${W}" height="${height}" fill="#ffffff"/>`,
    ...(data.subtitle ? [`<text x="${W - 16}" y="${height - 12}" font-size="11" text-anchor="end" fill="#666" ${FONT}>${xmlEscape(data.subtitle)}</text>`] : []),
    ...throughputPanel(0, data.throughput),
    ...panels.flatMap((p, i) => latencyPanel((i + 1) * (PANEL_H + 20), data.pingPong, p.names, p.title)),
    ...(goals.length === 0 ? [] : goalPanel(goalsAt, goals)),
  ];
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" role="img" aria-label="simpler-region benchmark">\n` +
    `<title>simpler-region benchmark</title>\n` +
    body.map((l) => `  ${l}`).join('\n') +
    `\n</svg>\n`
  );
}

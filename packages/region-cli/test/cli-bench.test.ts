import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expectUsageError, runCli } from './cli-run';

interface BenchJson {
  results: { name: string; value: number; unit: string; baseline: number; ratio: number }[];
}

/** The L3 direct figures (issue 14), each beside its L2 counterpart or Buffer.copy. */
const DIRECT_REQUIRED = [
  'l3.direct.notify.p50',
  'l3.direct.notify.p99',
  'l3.direct.round-trip.p50',
  'l3.direct.datacopy.h2region.16MiB',
  'l3.direct.datacopy.region2h.16MiB',
  'l3.direct.wake.p50',
  'l3.direct.wake.p99',
];

/** The proxied L3 figures, for each transport. */
const L3_REQUIRED = ['shm', 'pipe'].flatMap((t) => [
  `l3.${t}.notify.p50`,
  `l3.${t}.notify.p99`,
  `l3.${t}.round-trip.p50`,
  `l3.${t}.datacopy.pair.16MiB`,
  `l3.${t}.datacopy.h2region.16MiB`,
  `l3.${t}.datacopy.region2h.16MiB`,
]);

const REQUIRED = [
  'l2.datacopy.h2region.64KiB',
  'l2.datacopy.h2region.1MiB',
  'l2.datacopy.h2region.16MiB',
  'l2.datacopy.region2h.64KiB',
  'l2.datacopy.region2h.1MiB',
  'l2.datacopy.region2h.16MiB',
  'l2.small-step.h2region64+notify+probe',
  'l2.ping-pong.context.p50',
  'l2.ping-pong.worker-async.p50',
];

/** Every attribute of every element with this tag, from an SVG document (enough XML for our own output). */
function elements(svg: string, tag: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const m of svg.matchAll(new RegExp(`<${tag}\\b([^>]*?)/?>`, 'g'))) {
    const attrs: Record<string, string> = {};
    for (const a of m[1]!.matchAll(/([\w:-]+)="([^"]*)"/g)) attrs[a[1]!] = a[2]!;
    out.push(attrs);
  }
  return out;
}

/** Checks that tags open and close in a properly nested way; returns the root element name. */
function wellFormedRoot(xml: string): string {
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, '');
  const stack: string[] = [];
  let root = '';
  for (const m of body.matchAll(/<(\/?)([A-Za-z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (closing) expect(stack.pop()).toBe(name);
    else {
      if (!root) root = name!;
      else expect(stack.length).toBeGreaterThan(0);
      if (!selfClosing) stack.push(name!);
    }
  }
  expect(stack).toEqual([]);
  return root;
}

describe('simpler-region bench', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simpler-cli-bench-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--quick --json prints every required figure beside its baseline, and --svg writes a chart with a point per size', () => {
    const svgFile = path.join(dir, 'bench.svg');
    const r = runCli(['bench', '--quick', '--json', '--svg', svgFile], { timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as BenchJson;
    expect(Object.keys(report)).toEqual(['results']);
    for (const row of report.results) {
      expect(Object.keys(row)).toEqual(['name', 'value', 'unit', 'baseline', 'ratio']);
      expect(row.value).toBeGreaterThan(0);
      expect(row.baseline).toBeGreaterThan(0);
      expect(Math.abs(row.ratio - row.value / row.baseline) / row.ratio).toBeLessThan(0.01);
    }
    expect(report.results.map((x) => x.name)).toEqual(expect.arrayContaining([...REQUIRED, ...DIRECT_REQUIRED, ...L3_REQUIRED]));
    const row = (name: string): BenchJson['results'][number] => report.results.find((x) => x.name === name)!;
    expect(row('l3.direct.wake.p50').unit).toBe('us');
    expect(row('l3.direct.datacopy.region2h.16MiB').unit).toBe('GB/s');
    expect(report.results.find((x) => x.name === 'l3.shm.notify.p50')!.unit).toBe('us');
    expect(report.results.find((x) => x.name === 'l3.shm.datacopy.pair.16MiB')!.unit).toBe('GB/s');
    expect(report.results.find((x) => x.name === 'l2.datacopy.h2region.1MiB')!.unit).toBe('GB/s');
    expect(report.results.find((x) => x.name === 'l2.ping-pong.context.p50')!.unit).toBe('us');

    const svg = fs.readFileSync(svgFile, 'utf8');
    expect(wellFormedRoot(svg)).toBe('svg');
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    const points = elements(svg, 'circle').filter((c) => c['class'] === 'point');
    const series = new Set(points.map((p) => p['data-series']));
    expect(series).toEqual(new Set(['L2 h2region', 'L2 region2h', 'Buffer.copy', ...[...series].filter((s) => s!.startsWith('L3'))]));
    // Direct beside proxied: solid lines for direct, dashed for each transport's proxied regions.
    expect([...series]).toEqual(expect.arrayContaining(['L3 direct h2region', 'L3 direct region2h', 'L3 shm h2region (proxied)', 'L3 pipe region2h (proxied)']));
    const lines = elements(svg, 'polyline');
    expect(lines.filter((l) => l['data-series']?.includes('proxied')).every((l) => l['stroke-dasharray'] !== undefined)).toBe(true);
    expect(lines.filter((l) => l['data-series']?.includes('direct')).every((l) => l['stroke-dasharray'] === undefined)).toBe(true);
    for (const s of ['L2 h2region', 'Buffer.copy']) {
      const sizes = points.filter((p) => p['data-series'] === s).map((p) => Number(p['data-bytes']));
      expect(sizes).toEqual(expect.arrayContaining([4096, 65536, 1048576, 16777216]));
    }
    for (const p of points) {
      expect(Number(p['data-value'])).toBeGreaterThan(0);
      expect(Number.isFinite(Number(p['cx'])) && Number.isFinite(Number(p['cy']))).toBe(true);
    }
    const cdfs = elements(svg, 'polyline').filter((p) => p['class'] === 'cdf');
    expect(cdfs.map((c) => c['data-series'])).toEqual(
      expect.arrayContaining([
        'raw SAB spin',
        'L2 context (waitSync)',
        'L2 Worker (async)',
        'L2 notify (Worker API)',
        'L3 notify (direct)',
        'L3 notify (shm, proxied)',
        'L3 notify (pipe, proxied)',
        'raw shm spin, 2 processes',
        'raw pipe ping-pong',
        'L3 round trip (direct)',
        'L3 round trip (shm, proxied)',
        'L2 round trip',
        'L3 wake-up (direct)',
        'L2 wake-up',
      ]),
    );
    // Every figure with a goal is drawn as a ratio bar beside its goal.
    const bars = elements(svg, 'rect').filter((b) => b['class'] === 'goal');
    expect(bars.map((b) => b['data-name'])).toEqual(
      expect.arrayContaining([
        'l3.shm.notify.p50',
        'l3.shm.datacopy.pair.16MiB',
        'l3.shm.round-trip.p50',
        'l2.ping-pong.context.p50',
        'l3.direct.notify.p50',
        'l3.direct.round-trip.p50',
        'l3.direct.datacopy.h2region.16MiB',
        'l3.direct.datacopy.region2h.16MiB',
        'l3.direct.wake.p50',
      ]),
    );
    for (const b of bars) expect(['true', 'false']).toContain(b['data-met']);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('prints a table with name, value, unit, baseline and ratio when not --json', () => {
    const r = runCli(['bench', '--quick', '--level', '2'], { timeoutMs: 120_000 });
    expect(r.status).toBe(0);
    const [header, rule, ...rows] = r.stdout.trim().split('\n');
    expect(header).toMatch(/^name\s+value\s+unit\s+baseline\s+ratio\s+goal/);
    expect(rule).toMatch(/^-+/);
    expect(rows.join('\n')).toMatch(/l2\.datacopy\.h2region\.64KiB\s+[\d.]+\s+GB\/s\s+[\d.]+ \(Buffer\.copy\)\s+[\d.]+x\s+>= 0\.9x/);
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('--level 3 --transport pipe measures only that transport, with direct regions over it', () => {
    const r = runCli(['bench', '--quick', '--json', '--level', '3', '--transport', 'pipe'], { timeoutMs: 120_000 });
    expect(r.status).toBe(0);
    const names = (JSON.parse(r.stdout) as BenchJson).results.map((x) => x.name);
    expect(names).toEqual(expect.arrayContaining(['l3.pipe.notify.p50', ...DIRECT_REQUIRED]));
    expect(names.filter((n) => !n.startsWith('l3.pipe.') && !n.startsWith('l3.direct.'))).toEqual([]);
  });

  it('rejects --transport with --level 2, and an unknown transport (exit 2)', () => {
    expectUsageError(runCli(['bench', '--quick', '--level', '2', '--transport', 'shm']), '--transport');
    expectUsageError(runCli(['bench', '--quick', '--transport', 'tcp']), '--transport');
  });

  it('rejects an --svg path in a missing directory before measuring (exit 2)', () => {
    expectUsageError(runCli(['bench', '--quick', '--svg', path.join(dir, 'missing', 'x.svg')]), '--svg');
  });
});

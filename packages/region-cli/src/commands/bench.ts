import { accessSync, constants, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { integerOption } from '../parse/int-option';
import { BackendError } from '@simpler/abi';
import { L3Transport, L3_TRANSPORTS, defaultL3Transport } from '@simpler/region-core';
import { CommandContext } from '../command-context';
import { UsageError } from '../usage-error';
import { FULL_BUDGET, QUICK_BUDGET } from '../bench/bench-budget';
import { BenchReport, meetsGoal, resultOf } from '../bench/bench-result';
import { runBench } from '../bench/run-bench';
import { createProgress } from '../output/progress';
import { renderTable } from '../output/table';
import { colourFor, Colour } from '../output/colour';
import { renderBenchSvg } from '../output/svg-chart';

interface BenchFlags {
  level?: 2 | 3;
  transport?: L3Transport;
  json?: boolean;
  svg?: string;
  quick?: boolean;
}

/** The benchmark table: name, value, unit, baseline (and what it is), ratio, goal. */
export function renderBenchTable(report: BenchReport, c: Colour): string {
  const rows = report.rows.map((r) => {
    const goal = r.goal ? `${r.goal.op} ${r.goal.ratio}x` : '';
    const verdict = r.goal ? (meetsGoal(r) ? c.green('met') : c.yellow('missed')) : '';
    return [r.name, String(r.value), r.unit, `${r.baseline} (${r.baselineName})`, `${r.ratio}x`, goal, verdict];
  });
  return renderTable(['name', 'value', 'unit', 'baseline', 'ratio', 'goal', ''], rows, ['left', 'right', 'left', 'left', 'right', 'left', 'left']);
}

/** Fails fast (usage error) when the chart could not be written, before minutes of measuring. */
function checkWritable(file: string, given: string): string {
  try {
    accessSync(path.dirname(file), constants.W_OK);
  } catch {
    throw new UsageError(`--svg ${given}: directory ${path.dirname(file)} does not exist or is not writable`);
  }
  return file;
}

/** Adds `bench`: the L2 (and L3) benchmarks beside their baselines. */
export function registerBenchCommand(program: Command, ctx: CommandContext): void {
  program
    .command('bench')
    .description('measure datacopy, small-step and ping-pong costs against baselines measured in the same run')
    .option('--json', 'print {"results":[{"name","value","unit","baseline","ratio"}]}')
    .option('--svg <file>', 'also write an SVG chart: throughput against size, ping-pong latency distribution')
    .option('--quick', 'a short run (a few seconds) with fewer sizes and round trips')
    .addOption(new Option('--level <level>', 'run only the L2 or only the L3 benchmark (default: both)').argParser(integerOption(2, 3)))
    .addOption(
      new Option('--transport <transport>', 'L3: measure only this transport, for proxied and direct regions (default: shm and pipe, or pipe where shared memory is unavailable; direct over the first)').choices([
        ...L3_TRANSPORTS,
      ]),
    )
    .addHelpText('after', '\nRatios are value/baseline: for throughput higher is better, for times lower is better.\nThe same code runs as `node tools/bench.js` from the repository.')
    .action(async (flags: BenchFlags) => {
      const { io } = ctx;
      const progress = createProgress(io, flags.json === true);
      const budget = flags.quick ? QUICK_BUDGET : FULL_BUDGET;
      const svgFile = flags.svg === undefined ? undefined : checkWritable(path.resolve(io.cwd, flags.svg), flags.svg);
      if (flags.transport !== undefined && flags.level === 2) throw new UsageError(`--transport ${flags.transport}: only the L3 benchmark has chip children`);
      if (flags.transport === 'shm' && defaultL3Transport() !== 'shm') throw new UsageError('--transport shm: shared memory is not available on this machine');
      let report: BenchReport;
      let started = false;
      try {
        report = await runBench({
          budget,
          levels: flags.level === undefined ? [2, 3] : [flags.level],
          ...(flags.transport === undefined ? {} : { transports: [flags.transport] }),
          onProgress: (done, total, label) => {
            if (!started) progress.start(total, label);
            started = true;
            progress.update(done, label);
          },
        });
      } finally {
        progress.stop();
      }
      if (svgFile !== undefined) {
        const file = svgFile;
        const svg = renderBenchSvg({ ...report, subtitle: `simpler-region bench${flags.quick ? ' --quick' : ''}, ${new Date().toISOString().slice(0, 19)}Z` });
        try {
          writeFileSync(file, svg);
        } catch (e) {
          throw new BackendError(`cannot write --svg ${file}: ${(e as Error).message}`);
        }
      }
      const notes = (report.notes ?? []).map((n) => `note: ${n}\n`).join('');
      if (flags.json) {
        io.out(JSON.stringify({ results: report.rows.map(resultOf) }) + '\n');
        if (notes) io.err(notes);
      } else {
        io.out(renderBenchTable(report, colourFor(io)) + notes + (flags.svg !== undefined ? `chart written to ${flags.svg}\n` : ''));
      }
    });
}

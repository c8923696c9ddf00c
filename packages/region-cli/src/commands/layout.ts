import { Command, Option } from 'commander';
import { computeRegionLayout, isRegionError, RegionLayout, U32_MAX } from '@simpler/abi';
import { CommandContext } from '../command-context';
import { UsageError } from '../usage-error';
import { integerOption } from '../parse/int-option';
import { colourFor } from '../output/colour';
import { drawRegion } from '../output/region-drawing';

interface LayoutOptions {
  dataBytes: number;
  signalCount: number;
  json?: boolean;
}

/** The layout of a region as `layout --json` prints it (exactly these keys, in this order). */
export function layoutJson(l: RegionLayout): string {
  const { dataBytes, signalCount, signalOffset, dataOffset, totalBytes } = l;
  return JSON.stringify({ dataBytes, signalCount, signalOffset, dataOffset, totalBytes });
}

/** Adds `layout`: offsets and total bytes of a region (spec 3.5). */
export function registerLayoutCommand(program: Command, ctx: CommandContext): void {
  program
    .command('layout')
    .description('print the offsets and total size of a region (spec 3.5); draws it on a terminal')
    .addOption(new Option('--data-bytes <n>', 'bytes of the data area (> 0; KiB/MiB suffixes allowed)').argParser(integerOption(1, Number.MAX_SAFE_INTEGER, true)).makeOptionMandatory())
    .addOption(new Option('--signal-count <k>', 'number of 64-byte signal slots (1..2^32-1)').argParser(integerOption(1, U32_MAX)).makeOptionMandatory())
    .option('--json', 'print {"dataBytes","signalCount","signalOffset","dataOffset","totalBytes"}')
    .action((opts: LayoutOptions) => {
      let layout: RegionLayout;
      try {
        layout = computeRegionLayout(opts.dataBytes, opts.signalCount);
      } catch (e) {
        // Values that parse but overflow the region size are still a bad flag value, not a runtime failure.
        if (isRegionError(e) && e.code === 'EINVAL') throw new UsageError(`--data-bytes ${opts.dataBytes} --signal-count ${opts.signalCount}: ${e.message}`);
        throw e;
      }
      const { io } = ctx;
      if (opts.json) {
        io.out(layoutJson(layout) + '\n');
      } else if (io.stdoutIsTTY) {
        io.out(drawRegion(layout, colourFor(io)));
      } else {
        io.out(
          `dataBytes    ${layout.dataBytes}\nsignalCount  ${layout.signalCount}\nsignalOffset ${layout.signalOffset}\n` +
            `dataOffset   ${layout.dataOffset}\ntotalBytes   ${layout.totalBytes}\n`,
        );
      }
    });
}

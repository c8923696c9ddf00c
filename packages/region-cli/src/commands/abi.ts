import { Command, Option } from 'commander';
import { renderAbiJson, renderCHeader } from '@simpler/abi';
import { CommandContext } from '../command-context';

/** Adds `abi`: prints the generated C header or JSON description of every layout. */
export function registerAbiCommand(program: Command, ctx: CommandContext): void {
  program
    .command('abi')
    .description('print the generated C header (include/simpler/hdmr_abi.h) or the JSON ABI description (abi.json)')
    .addOption(new Option('--format <format>', 'output format').choices(['c', 'json']).default('c'))
    .action((opts: { format: 'c' | 'json' }) => {
      ctx.io.out(opts.format === 'c' ? renderCHeader() : renderAbiJson());
    });
}

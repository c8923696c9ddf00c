import { Command } from 'commander';
import { UnsupportedError } from '@simpler/abi';
import { CommandContext } from '../command-context';

/** Adds `bench` (pending). */
export function registerBenchCommand(program: Command, _ctx: CommandContext): void {
  program
    .command('bench')
    .description('bench (not available yet)')
    .action(() => {
      throw new UnsupportedError('bench is not available yet');
    });
}

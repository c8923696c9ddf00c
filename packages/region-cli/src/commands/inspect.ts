import { Command } from 'commander';
import { UnsupportedError } from '@simpler/abi';
import { CommandContext } from '../command-context';

/** Adds `inspect` (pending). */
export function registerInspectCommand(program: Command, _ctx: CommandContext): void {
  program
    .command('inspect')
    .description('inspect (not available yet)')
    .action(() => {
      throw new UnsupportedError('inspect is not available yet');
    });
}

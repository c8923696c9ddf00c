import { Command } from 'commander';
import { UnsupportedError } from '@simpler/abi';
import { CommandContext } from '../command-context';

/** Adds `child` (pending). */
export function registerChildCommand(program: Command, _ctx: CommandContext): void {
  program
    .command('child')
    .description('child (not available yet)')
    .action(() => {
      throw new UnsupportedError('child is not available yet');
    });
}

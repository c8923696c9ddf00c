import { Command } from 'commander';
import { UnsupportedError } from '@simpler/abi';
import { CommandContext } from '../command-context';

/** Adds `doctor` (pending). */
export function registerDoctorCommand(program: Command, _ctx: CommandContext): void {
  program
    .command('doctor')
    .description('doctor (not available yet)')
    .action(() => {
      throw new UnsupportedError('doctor is not available yet');
    });
}

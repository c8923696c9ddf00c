import { Command, Option } from 'commander';
import { UnsupportedError } from '@simpler/abi';
import * as core from '@simpler/region-core';
import { CommandContext } from '../command-context';
import { integerOption } from '../parse/int-option';
import { resolveBackendModule } from '../backend/select-backend';

interface ChildFlags {
  deviceId: number;
  backend: string;
  backendOptions?: string;
  segmentPrefix?: string;
  transport?: string;
  controlFd?: number;
  windowFd?: number;
  spinUs?: number;
}

type ChipChildEntry = (argv: readonly string[]) => Promise<void> | void;

/** region-core's chip child entry, under whichever name this build exports it. */
function chipChildEntry(): ChipChildEntry {
  const exports = core as unknown as Record<string, unknown>;
  const entry = exports['runChipChild'] ?? exports['chipChildMain'];
  if (typeof entry !== 'function') throw new UnsupportedError('this build of @simpler/region-core has no chip child entry (runChipChild)');
  return entry as ChipChildEntry;
}

/** Adds `child`: the chip child process of spec section 9, for L3 parents written in any language. */
export function registerChildCommand(program: Command, ctx: CommandContext): void {
  program
    .command('child')
    .description('run as an L3 chip child (spec section 9): 4096-byte mailbox frames on stdin/stdout or in shared memory, logs on stderr')
    .addOption(new Option('--device-id <n>', 'device this child owns').argParser(integerOption(0, 0xffffffff)).makeOptionMandatory())
    .addOption(new Option('--backend <module>', 'backend module name or path, resolved from the working directory').makeOptionMandatory())
    .option('--backend-options <json>', 'JSON object passed to the backend factory')
    .option('--segment-prefix <prefix>', 'accepted side-band segment name prefix (default simpler-hdmr-<parent pid>-)')
    .addOption(new Option('--transport <transport>', 'pipe: frames on stdin/stdout; shm: control block and data window inherited as descriptors').choices(['pipe', 'shm']).default('pipe'))
    .addOption(new Option('--control-fd <n>', 'shm: descriptor of the 4096-byte control block').argParser(integerOption(3, 999_999_999)))
    .addOption(new Option('--window-fd <n>', 'shm: descriptor of the data window').argParser(integerOption(3, 999_999_999)))
    .addOption(new Option('--spin-us <n>', 'shm: how long to spin for the next request before sleeping, microseconds').argParser(integerOption(0, 1_000_000)))
    .addHelpText(
      'after',
      '\nThe child writes one frame when ready (state 6 init done, or state 5 with a negative error), then answers\n' +
        'every request frame with exactly one reply frame; a frame with state 3 makes it release everything and\n' +
        'exit 0. Nothing but frames is ever written to stdout. With --transport shm the requests and replies live in\n' +
        'the inherited control block (default fd 3) and payloads in the data window (default fd 4); the pipes then\n' +
        'carry only doorbell bytes. See docs/cli.md and the L3 protocol docs.',
    )
    .action(async (flags: ChildFlags) => {
      // Same fallback as every command: a backend this CLI ships works even when the project lacks it.
      const resolved = resolveBackendModule(flags.backend, ctx.io.cwd);
      const backend = resolved.from === 'cli' && resolved.resolvedPath ? resolved.resolvedPath : flags.backend;
      const argv = ['--device-id', String(flags.deviceId), '--backend', backend];
      if (flags.backendOptions !== undefined) argv.push('--backend-options', flags.backendOptions);
      if (flags.segmentPrefix !== undefined) argv.push('--segment-prefix', flags.segmentPrefix);
      if (flags.transport !== undefined) argv.push('--transport', flags.transport);
      if (flags.controlFd !== undefined) argv.push('--control-fd', String(flags.controlFd));
      if (flags.windowFd !== undefined) argv.push('--window-fd', String(flags.windowFd));
      if (flags.spinUs !== undefined) argv.push('--spin-us', String(flags.spinUs));
      const entry = chipChildEntry();
      // From here the child owns stdout and decides when the process ends (shutdown frame or end of stdin).
      ctx.detached = true;
      await entry(argv);
    });
}

import { Command } from 'commander';
import { UnsupportedError } from '@simpler/abi';
import * as core from '@simpler/region-core';
import { CommandContext } from '../command-context';
import { resolveBackendModule } from '../backend/select-backend';

type ChipChildEntry = (argv: readonly string[]) => Promise<void> | void;

const CHILD_USAGE = '--device-id N --backend M [--backend-options JSON] [--segment-prefix P]';

const CHILD_HELP = `
Flags (the chip child's stable command line; --flag=value works too):
  --device-id N              device this child owns, 0..2^32-1 (decimal)
  --backend M                backend module name or path, resolved from the working directory
                             (then from this CLI's own backends)
  --backend-options JSON     JSON object passed to the backend factory
  --segment-prefix P         accepted side-band segment name prefix (default simpler-hdmr-<parent pid>-;
                             pass it when a wrapper such as npx or sh -c sits between you and the child)

The child writes one frame when ready (state 6 init done, or state 5 with a negative error), then answers
every request frame with exactly one reply frame; a frame with state 3 makes it release everything and
exit 0. A missing, unknown, repeated or bad flag is an init failure like any other: a state 5 frame with
EINVAL and a message naming the flag, then exit 1. Nothing but frames is ever written to stdout.
See docs/cli.md and docs/l3-protocol.md.`;

/** region-core's chip child entry, under whichever name this build exports it. */
function chipChildEntry(): ChipChildEntry {
  const exports = core as unknown as Record<string, unknown>;
  const entry = exports['runChipChild'] ?? exports['chipChildMain'];
  if (typeof entry !== 'function') throw new UnsupportedError('this build of @simpler/region-core has no chip child entry (runChipChild)');
  return entry as ChipChildEntry;
}

/**
 * The command line handed to the chip child. Flags are parsed by region-core's own parser, so the
 * CLI and `chip-child-main.js` accept and refuse exactly the same things; a line it refuses is
 * passed on untouched and the child reports the refusal in its init-failure frame.
 */
export function chipChildArgv(args: readonly string[], cwd: string): string[] {
  let parsed: core.ChipChildArgs;
  try {
    parsed = core.parseChipChildArgs(args);
  } catch {
    return [...args];
  }
  // Same fallback as every command: a backend this CLI ships works even when the project lacks it.
  const resolved = resolveBackendModule(parsed.backend, cwd);
  const backend = resolved.from === 'cli' && resolved.resolvedPath ? resolved.resolvedPath : parsed.backend;
  return [
    '--device-id',
    String(parsed.deviceId),
    '--backend',
    backend,
    '--backend-options',
    JSON.stringify(parsed.backendOptions),
    '--segment-prefix',
    parsed.segmentPrefix,
  ];
}

/** Adds `child`: the chip child process of spec section 9, for L3 parents written in any language. */
export function registerChildCommand(program: Command, ctx: CommandContext): void {
  program
    .command('child')
    .description('run as an L3 chip child (spec section 9): 4096-byte mailbox frames on stdin/stdout, logs on stderr')
    .usage(CHILD_USAGE)
    // The flags are the chip child's, checked by region-core: commander only hands them over in order.
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', CHILD_HELP)
    .action(async (_options: unknown, command: Command) => {
      const argv = chipChildArgv(command.args, ctx.io.cwd);
      const entry = chipChildEntry();
      // From here the child owns stdout and decides when the process ends (shutdown frame or end of stdin).
      ctx.detached = true;
      await entry(argv);
    });
}

import { Command } from 'commander';
import { UnsupportedError } from '@simpler/abi';
import * as core from '@simpler/region-core';
import { CommandContext } from '../command-context';
import { resolveBackendModule } from '../backend/select-backend';

type ChipChildEntry = (argv: readonly string[]) => Promise<void> | void;

const CHILD_USAGE = '--device-id N --backend M [--backend-options JSON] [--segment-prefix P] [--transport pipe|shm] [--control-fd N] [--window-fd N] [--spin-us N]';

const CHILD_HELP = `
Flags (the chip child's stable command line; --flag=value works too):
  --device-id N              device this child owns, 0..2^32-1 (decimal)
  --backend M                backend module name or path, resolved from the working directory
                             (then from this CLI's own backends)
  --backend-options JSON     JSON object passed to the backend factory
  --segment-prefix P         accepted side-band segment name prefix (default simpler-hdmr-<parent pid>-;
                             pass it when a wrapper such as npx or sh -c sits between you and the child)
  --transport pipe|shm       pipe (default): frames on stdin/stdout, payloads in side-band segments;
                             shm: control block and data window inherited as descriptors, the pipes
                             carry only doorbell bytes
  --control-fd N             shm: descriptor of the 4096-byte control block (default 3)
  --window-fd N              shm: descriptor of the data window (default 4)
  --spin-us N                shm: how long to spin for the next request before sleeping, microseconds
                             (0..1000000, default 500)

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
  const argv = [
    '--device-id',
    String(parsed.deviceId),
    '--backend',
    backend,
    '--backend-options',
    JSON.stringify(parsed.backendOptions),
    '--segment-prefix',
    parsed.segmentPrefix,
    '--transport',
    parsed.transport,
  ];
  if (parsed.transport === 'shm') {
    argv.push('--control-fd', String(parsed.controlFd), '--window-fd', String(parsed.windowFd), '--spin-us', plainDecimal(parsed.spinUs));
  }
  return argv;
}

/** `x` as the plain decimal the child's parser takes (`String` writes 1e-7 for tiny values). */
function plainDecimal(x: number): string {
  const text = String(x);
  return text.includes('e') ? x.toFixed(20).replace(/\.?0+$/, '') : text;
}

/** Adds `child`: the chip child process of spec section 9, for L3 parents written in any language. */
export function registerChildCommand(program: Command, ctx: CommandContext): void {
  program
    .command('child')
    .description('run as an L3 chip child (spec section 9): 4096-byte mailbox frames on stdin/stdout or in shared memory, logs on stderr')
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

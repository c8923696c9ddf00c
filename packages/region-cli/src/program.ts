import { Command, CommanderError } from 'commander';
import { CliIo, processIo } from './cli-io';
import { isUsageError } from './usage-error';
import { formatRuntimeError } from './output/format-error';
import { registerLayoutCommand } from './commands/layout';
import { registerAbiCommand } from './commands/abi';
import { registerRoundtripCommand } from './commands/roundtrip';
import { registerBenchCommand } from './commands/bench';
import { registerDoctorCommand } from './commands/doctor';
import { registerInspectCommand } from './commands/inspect';
import { registerChildCommand } from './commands/child';
import { CommandContext } from './command-context';

/** Exit status of a usage error (bad flag or value). */
export const EXIT_USAGE = 2;
/** Exit status of a runtime failure. */
export const EXIT_FAILURE = 1;

/** The package version, read from the package's own package.json. */
export function cliVersion(): string {
  return (require('../package.json') as { version: string }).version;
}

/** Turns commander's (possibly multi-line, `error:`-prefixed) message into the single stderr line. */
function oneLine(message: string): string {
  return message.replace(/^error:\s*/i, '').replace(/\s*\n\s*/g, ' ').trim();
}

/** Builds the `simpler-region` program; `ctx` receives each command's exit status. */
export function buildProgram(ctx: CommandContext): Command {
  const program = new Command('simpler-region')
    .description('Host-device mapped region: prove a backend works, measure it, read its ABI, diagnose an install.')
    .version(cliVersion(), '-V, --version', 'print the package version')
    .option('--verbose', 'print stack traces and extra diagnostics')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.out(s),
      writeErr: (s) => ctx.io.err(s),
      // Errors are printed by main() as one line; commander's own rendering is suppressed.
      outputError: () => undefined,
    });
  program.addHelpText(
    'after',
    '\nExit status: 0 success, 1 runtime failure (printed as "simpler-region: CODE: message"), 2 usage error.\n' +
      'Backend selection: --backend > SIMPLER_REGION_BACKEND > simpler-region.config.json (or --config) > @simpler/hal-sim.',
  );
  registerLayoutCommand(program, ctx);
  registerAbiCommand(program, ctx);
  registerRoundtripCommand(program, ctx);
  registerBenchCommand(program, ctx);
  registerDoctorCommand(program, ctx);
  registerInspectCommand(program, ctx);
  registerChildCommand(program, ctx);
  return program;
}

/**
 * Runs the command line `argv` (as in `process.argv`: node, script, args...) and resolves to the exit
 * status. Never throws: usage errors become status 2 with one stderr line, runtime failures status 1
 * with the error's code and message (stack only with `--verbose`).
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  return (await run(argv, io)).exitCode;
}

/** Like {@link main}, and also says whether the command handed the process over to long-lived work (`child`). */
export async function run(argv: readonly string[], io: CliIo = processIo()): Promise<{ exitCode: number; detached: boolean }> {
  const ctx: CommandContext = { io, exitCode: 0, verbose: argv.includes('--verbose'), detached: false };
  const exitCode = await runIn(ctx, argv);
  return { exitCode, detached: ctx.detached && exitCode === 0 };
}

async function runIn(ctx: CommandContext, argv: readonly string[]): Promise<number> {
  const { io } = ctx;
  const program = buildProgram(ctx);
  if (argv.length <= 2) {
    io.err('simpler-region: missing command; run `simpler-region --help` to list them\n');
    return EXIT_USAGE;
  }
  // Atomics.waitAsync promises and unref'd device threads do not keep Node's event loop alive; without
  // this the process could exit silently in the middle of a wait. Cleared when the command settles.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    await program.parseAsync([...argv]);
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      if (e.code === 'commander.help') return e.exitCode === 0 ? 0 : EXIT_USAGE;
      io.err(`simpler-region: ${oneLine(e.message)}\n`);
      return EXIT_USAGE;
    }
    if (isUsageError(e)) {
      io.err(`simpler-region: ${oneLine(e.message)}\n`);
      return EXIT_USAGE;
    }
    io.err(formatRuntimeError(e, ctx.verbose));
    return EXIT_FAILURE;
  } finally {
    clearInterval(keepAlive);
  }
}

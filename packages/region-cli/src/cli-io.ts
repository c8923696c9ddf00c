/** Where a command writes and what it knows about its surroundings; injectable for tests. */
export interface CliIo {
  /** Writes to standard output (the command's result). */
  readonly out: (text: string) => void;
  /** Writes to standard error (diagnostics, progress). */
  readonly err: (text: string) => void;
  /** Environment variables. */
  readonly env: NodeJS.ProcessEnv;
  /** Working directory used for configuration and module resolution. */
  readonly cwd: string;
  /** True when standard output is a terminal. */
  readonly stdoutIsTTY: boolean;
  /** True when standard error is a terminal. */
  readonly stderrIsTTY: boolean;
  /** Stream that progress bars draw on (a terminal), when there is one. */
  readonly progressStream?: NodeJS.WriteStream;
}

/** The process's own standard streams, environment and working directory. */
export function processIo(): CliIo {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    progressStream: process.stderr,
  };
}

/** True when interactive decorations (bars, drawings) suit this output: both streams are terminals and `CI` is unset. */
export function isInteractive(io: CliIo): boolean {
  return io.stdoutIsTTY && io.stderrIsTTY && !io.env['CI'];
}

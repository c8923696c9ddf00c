import { CliIo } from './cli-io';

/** Shared state of one CLI run: its I/O, the exit status a command sets, and `--verbose`. */
export interface CommandContext {
  /** Streams and environment. */
  readonly io: CliIo;
  /** Exit status the finished command asks for (0 unless set). */
  exitCode: number;
  /** True when `--verbose` is on the command line. */
  verbose: boolean;
  /** Set by a command (`child`) whose work goes on after its action returns: the process must not be exited. */
  detached: boolean;
}

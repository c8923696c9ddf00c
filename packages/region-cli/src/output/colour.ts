import { CliIo } from '../cli-io';

/** ANSI styling that turns into plain text when colour is off. */
export interface Colour {
  /** True when escapes are emitted. */
  readonly enabled: boolean;
  readonly bold: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly red: (s: string) => string;
  readonly green: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly cyan: (s: string) => string;
  readonly magenta: (s: string) => string;
}

function wrap(enabled: boolean, open: number, close: number): (s: string) => string {
  return enabled ? (s) => `\u001b[${open}m${s}\u001b[${close}m` : (s) => s;
}

/**
 * Colour for standard output: only on a terminal, and never when `NO_COLOR` is set to a non-empty
 * value (https://no-color.org) or `TERM=dumb`. `FORCE_COLOR` (non-empty, not `0`) turns it on.
 */
export function colourFor(io: CliIo, stream: 'stdout' | 'stderr' = 'stdout'): Colour {
  const env = io.env;
  const forced = env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '' && env['FORCE_COLOR'] !== '0';
  const tty = stream === 'stdout' ? io.stdoutIsTTY : io.stderrIsTTY;
  const enabled = !env['NO_COLOR'] && (forced || (tty && env['TERM'] !== 'dumb'));
  return {
    enabled,
    bold: wrap(enabled, 1, 22),
    dim: wrap(enabled, 2, 22),
    red: wrap(enabled, 31, 39),
    green: wrap(enabled, 32, 39),
    yellow: wrap(enabled, 33, 39),
    cyan: wrap(enabled, 36, 39),
    magenta: wrap(enabled, 35, 39),
  };
}

/** Removes ANSI escapes, for width computations. */
export function stripAnsi(s: string): string {
  return s.replace(/\u001b\[[0-9;]*m/g, '');
}

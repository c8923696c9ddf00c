import { SingleBar } from 'cli-progress';
import { CliIo, isInteractive } from '../cli-io';

/** A progress indicator; the no-op one is used when output is piped or machine-readable. */
export interface Progress {
  /** Sets the total and starts drawing. */
  start(total: number, label: string): void;
  /** Moves to `value` (absolute), optionally with a new label. */
  update(value: number, label?: string): void;
  /** Erases the bar. */
  stop(): void;
}

const NO_PROGRESS: Progress = { start() {}, update() {}, stop() {} };

/**
 * A cli-progress bar on stderr when both streams are terminals and `quiet` (e.g. `--json`) is off;
 * otherwise a no-op, so piped output never contains bar frames.
 */
export function createProgress(io: CliIo, quiet: boolean): Progress {
  if (quiet || !isInteractive(io) || !io.progressStream) return NO_PROGRESS;
  const bar = new SingleBar({
    stream: io.progressStream,
    format: ' {bar} {percentage}% | {value}/{total} | {label}',
    barCompleteChar: '#',
    barIncompleteChar: '.',
    hideCursor: true,
    clearOnComplete: true,
    fps: 15,
  });
  let total = 0;
  return {
    start(t, label) {
      total = t;
      bar.start(t, 0, { label });
    },
    update(value, label) {
      bar.update(Math.min(value, total), label === undefined ? undefined : { label });
    },
    stop() {
      bar.stop();
    },
  };
}

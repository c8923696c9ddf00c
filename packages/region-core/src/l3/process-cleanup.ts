import { unlinkAllSegments } from './sideband-segment';

/** Signals after which the default action would kill the process without running 'exit' handlers. */
const FATAL_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

const live = new Set<object>();

/**
 * On a fatal signal nobody else handles, unlink our segments and die of the same signal. The
 * chip children notice the closed pipe and exit by themselves. When the application has its own
 * handler we stay out of the way: it decides, and the 'exit' hook still unlinks the segments.
 */
function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  unlinkAllSegments();
  removeHandlers();
  process.kill(process.pid, signal);
}

function installHandlers(): void {
  for (const s of FATAL_SIGNALS) process.on(s, onSignal);
}

function removeHandlers(): void {
  for (const s of FATAL_SIGNALS) process.removeListener(s, onSignal);
}

/** Registers a live chip endpoint; the first one installs the signal handlers. */
export function trackEndpoint(endpoint: object): void {
  if (live.has(endpoint)) return;
  live.add(endpoint);
  if (live.size === 1) installHandlers();
}

/** Unregisters an endpoint; the last one removes the signal handlers again. */
export function untrackEndpoint(endpoint: object): void {
  if (!live.delete(endpoint)) return;
  if (live.size === 0) removeHandlers();
}

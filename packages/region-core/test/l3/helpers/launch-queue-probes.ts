import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import type { DirectEndpoint } from '../../../src/l3/direct/direct-endpoint';
import type { DirectLauncher } from '../../../src/l3/direct/direct-launcher';

/** The memfd name of a simulator's launch queue (the stand-in children of these suites use it too). */
export const QUEUE_NAME = 'simpler-sim-launch-queue';

/** Lines of this process's maps that map a launch queue. */
export function queueMappings(): string[] {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((line) => line.includes(`/memfd:${QUEUE_NAME}`));
}

/** Descriptors of this process open on a launch queue. */
export function queueDescriptors(): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${entry}`).includes(QUEUE_NAME)) found.push(entry);
    } catch {
      // closed meanwhile (the descriptor readdir itself used)
    }
  }
  return found;
}

/** The launcher a DirectEndpoint keeps to itself (tests reach endpoint internals this way). */
export function launcherOf(endpoint: DirectEndpoint): DirectLauncher {
  return (endpoint as unknown as { launcher: DirectLauncher }).launcher;
}

/** Resolves once the launcher stopped deciding: its queue is mapped ('queue') or launches stay with the child. */
export async function settledPath(endpoint: DirectEndpoint, ms = 10_000): Promise<string> {
  const launcher = launcherOf(endpoint);
  const end = Date.now() + ms;
  while (launcher.launchPath === 'mapping' && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  return launcher.launchPath;
}

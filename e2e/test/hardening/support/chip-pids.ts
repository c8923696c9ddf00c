import { readFileSync, readdirSync } from 'node:fs';

/**
 * Pid of this process's chip child for `deviceId`, found in /proc the way an operator would
 * (parent pid, command line), not through any private field of the worker.
 */
export function chipChildPid(deviceId: number, parent: number = process.pid): number {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent) continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const at = argv.indexOf('--device-id');
      if (argv.some((a) => a.endsWith('chip-child-main.js')) && at >= 0 && argv[at + 1] === String(deviceId)) found.push(Number(entry));
    } catch {
      // the process went away while we looked
    }
  }
  if (found.length !== 1) throw new Error(`expected one chip child for device ${deviceId}, found ${found.length}`);
  return found[0];
}

/** True while `pid` exists (and is not a zombie). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

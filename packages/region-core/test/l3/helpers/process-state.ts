import { readFileSync } from 'node:fs';

/** True when `pid` no longer runs (gone, or a zombie nobody has reaped yet). */
export function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3 (after the parenthesised command name) is the state letter.
    return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z';
  } catch {
    return true;
  }
}

/** Polls `check` every 20 ms until it is true or `ms` pass; resolves to its last value. */
export async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

/** Our side-band segments currently in /dev/shm (names with the simpler-hdmr- prefix and `pid`). */
export function segmentsOf(pid: number, list: readonly string[]): string[] {
  return list.filter((n) => n.startsWith(`simpler-hdmr-${pid}-`));
}

/** Lines of `/proc/<pid>/maps` that map an L3 shared-memory object (control block or data window). */
export function l3Mappings(pid: number | 'self' = 'self'): string[] {
  try {
    return readFileSync(`/proc/${pid}/maps`, 'utf8')
      .split('\n')
      .filter((line) => line.includes('/memfd:simpler-l3-'));
  } catch {
    return [];
  }
}

/** The transports every L3 suite runs over. */
export const TRANSPORTS = ['shm', 'pipe'] as const;

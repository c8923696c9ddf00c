import { readFileSync, readdirSync } from 'node:fs';
import { RegionError, RegionErrorCode, isRegionError } from '@simpler/region-core';

const ERRNO: Record<RegionErrorCode, number> = { EINVAL: -22, EAGAIN: -11, ENOMEM: -12, EIO: -5, ENOTSUP: -95 };
const CLASS_NAME: Record<RegionErrorCode, string> = {
  EINVAL: 'InvalidArgumentError',
  EAGAIN: 'WaitTimeoutError',
  ENOMEM: 'OutOfMemoryError',
  EIO: 'BackendError',
  ENOTSUP: 'UnsupportedError',
};

/**
 * Something that looks like a user-space host pointer on x86-64/aarch64 Linux (heap, mmap and
 * stack addresses sit at 0x55..., 0x7f..., 0xffff...): 12+ hex digits after `0x` that start that way.
 */
export const HOST_POINTER_PATTERN = /0x(?:7f|7e|55|56|ffff)[0-9a-f]{8,}/i;

/** Throws (with a useful message) unless `text` is free of anything that looks like a host pointer or one of `known`. */
export function expectNoHostAddress(text: string, known: readonly bigint[] = []): void {
  const m = HOST_POINTER_PATTERN.exec(text);
  if (m) throw new Error(`host-pointer-looking value ${m[0]} leaked in: ${text}`);
  for (const addr of known) {
    if (addr === 0n) continue;
    for (const form of [addr.toString(16), addr.toString(10)]) {
      if (text.toLowerCase().includes(form)) throw new Error(`known host address ${form} leaked in: ${text}`);
    }
  }
}

/**
 * Why `error` is not a well-formed RegionError with `code`, or undefined when it is. With
 * `scanForPointers` (default) the message must hold nothing that looks like a host pointer; turn
 * it off where device addresses look like host ones (the Ascend test double maps device memory
 * into this process) and check the known host addresses instead.
 */
export function regionErrorProblem(error: unknown, code: RegionErrorCode, scanForPointers = true): string | undefined {
  if (!isRegionError(error)) return `expected a RegionError ${code}, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
  const e = error as RegionError;
  if (!((error as object) instanceof RegionError)) return `${e.name} is not an instance of RegionError`;
  if (e.code !== code) return `expected ${code}, got ${e.code}: ${e.message}`;
  if (e.errno !== ERRNO[code]) return `errno ${e.errno} does not match ${code}`;
  if (e.name !== CLASS_NAME[code]) return `class ${e.name} does not match ${code}`;
  if (typeof e.message !== 'string' || e.message.length < 8) return `message too short: ${JSON.stringify(e.message)}`;
  if (!scanForPointers) return undefined;
  try {
    expectNoHostAddress(e.message);
  } catch (leak) {
    return (leak as Error).message;
  }
  return undefined;
}

/** Awaits `run` and returns `{ ok, value }` or `{ ok: false, error }`; never throws. */
export async function settle<T>(run: () => T | Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Number of open file descriptors of this process. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Entries of /dev/shm whose names start with `prefix` (all when omitted). */
export function shmEntries(prefix = ''): string[] {
  try {
    return readdirSync('/dev/shm').filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}

/** Side-band segments in /dev/shm created by this process (default prefix `simpler-hdmr-<pid>-`). */
export function ourSegments(pid: number = process.pid): string[] {
  return shmEntries(`simpler-hdmr-${pid}-`);
}

/** Bytes equal, as plain arrays (small diffs print well in jest). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Lines of `/proc/<pid>/maps` that map an L3 shared-memory object (a chip child's control block or data window). */
export function l3Mappings(pid: number | 'self' = 'self'): string[] {
  try {
    return readFileSync(`/proc/${pid}/maps`, 'utf8')
      .split('\n')
      .filter((line) => line.includes('/memfd:simpler-l3-'));
  } catch {
    return [];
  }
}

import { BackendAllocation, BackendError, SharedAllocation, UnsupportedError, describe } from '@simpler/abi';
import { backendFailure } from '../backend/backend-failure';

/** Why a backend's share() description cannot be used for a region of `totalBytes`, or undefined. */
export function sharedAllocationProblem(shared: unknown, totalBytes: number): string | undefined {
  if (typeof shared !== 'object' || shared === null) return `expected an object, got ${describe(shared)}`;
  const s = shared as Partial<Record<keyof SharedAllocation, unknown>>;
  if (typeof s.fd !== 'number' || !Number.isInteger(s.fd) || s.fd < 0 || s.fd > 0x7fff_ffff) return `fd must be a descriptor number, got ${describe(s.fd)}`;
  if (typeof s.offset !== 'number' || !Number.isSafeInteger(s.offset) || s.offset < 0) return `offset must be an integer >= 0, got ${describe(s.offset)}`;
  if (s.length !== totalBytes) return `length must be the region's ${totalBytes} bytes, got ${describe(s.length)}`;
  if (s.cacheHooks !== 'none') return `cacheHooks must be 'none', got ${describe(s.cacheHooks)}`;
  const wake = s.wake as { kind?: unknown; sleepersOffset?: unknown } | null | undefined;
  if (typeof wake !== 'object' || wake === null) return `wake must be an object, got ${describe(wake)}`;
  if (wake.kind === 'poll') return undefined;
  if (wake.kind !== 'futex') return `wake.kind must be 'futex' or 'poll', got ${describe(wake.kind)}`;
  const at = wake.sleepersOffset;
  if (typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0 || at % 4 !== 0) return `wake.sleepersOffset must be a multiple of 4 >= 0, got ${describe(at)}`;
  if (at + 4 > s.offset && at < s.offset + totalBytes) return `wake.sleepersOffset ${at} lies inside the region's bytes [${s.offset}, ${s.offset + totalBytes})`;
  return undefined;
}

/**
 * What another process needs to map a region's memory: the backend's `share()`, checked.
 * `ENOTSUP` when the backend cannot share it (no `share` hook); `EIO` for a failing hook or a
 * description that does not fit the region.
 */
export function shareAllocation(backendName: string, allocation: BackendAllocation, token: number, totalBytes: number): SharedAllocation {
  const share = allocation.share;
  if (share === undefined) throw new UnsupportedError(`${backendName}: the memory of region ${token} cannot be shared with another process`);
  let shared: SharedAllocation;
  try {
    shared = share.call(allocation);
  } catch (error) {
    throw backendFailure(backendName, 'share', error);
  }
  const problem = sharedAllocationProblem(shared, totalBytes);
  if (problem !== undefined) throw new BackendError(`${backendName}: share() of region ${token} returned an unusable description: ${problem}`);
  return shared;
}

import { BackendAllocation, BackendError, RegionBackend, SharedAllocation, SharedLaunchQueue, UnsupportedError, describe, sharedAllocationProblem } from '@simpler/abi';
import { backendFailure } from '../backend/backend-failure';

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

/**
 * What another process needs to map the backend's launch queue: its `shareLaunchQueue()`,
 * checked for shape. `ENOTSUP` without the hook (or when the hook says so); `EIO` otherwise.
 */
export function shareBackendLaunchQueue(backend: RegionBackend): SharedLaunchQueue {
  const share = backend.shareLaunchQueue;
  if (typeof share !== 'function') throw new UnsupportedError(`${backend.name}: launches cannot be queued by another process (no launch queue)`);
  let queue: SharedLaunchQueue;
  try {
    queue = share.call(backend);
  } catch (error) {
    if (error instanceof UnsupportedError) throw error;
    throw backendFailure(backend.name, 'shareLaunchQueue', error);
  }
  const q = queue as Partial<Record<keyof SharedLaunchQueue, unknown>> | null;
  const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (typeof q !== 'object' || q === null || !isCount(q.fd) || !isCount(q.offset) || !isCount(q.length) || (q.length as number) === 0) {
    throw new BackendError(`${backend.name}: shareLaunchQueue() returned an unusable description: ${describe(queue)}`);
  }
  return queue;
}

import { BackendAllocation, BackendError, SharedAllocation, UnsupportedError, sharedAllocationProblem } from '@simpler/abi';
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

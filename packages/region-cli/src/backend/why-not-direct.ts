import { isRegionError } from '@simpler/abi';
import type { Worker } from '@simpler/region-core';

// The prefix region-core puts before the reason in that ENOTSUP; the reason alone reads better.
const NOT_DIRECT_PREFIX = /^worker \d+: access 'direct' is not available: /;

/**
 * Why a level-3 worker's regions are proxied, through the public API alone: an open that insists
 * on `access: 'direct'` fails with `ENOTSUP` whose message says why. Call it after a default open
 * came back proxied; a region that opens direct after all is closed again and reported as such.
 */
export async function whyNotDirect(worker: Worker, workerId = worker.workerIds[0]): Promise<string> {
  try {
    await worker.closeMappedRegion(await worker.openMappedRegion(64, { signalCount: 1, workerId, access: 'direct' }));
  } catch (error) {
    if (isRegionError(error) && error.code === 'ENOTSUP') return error.message.replace(NOT_DIRECT_PREFIX, '');
    throw error;
  }
  return 'a default open was proxied, but one that asked for direct access was not';
}

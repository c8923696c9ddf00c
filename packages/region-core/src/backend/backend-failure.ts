import { BackendError, isRegionError } from '@simpler/abi';

/** Wraps anything a backend threw: our typed errors pass through, the rest become `EIO`. */
export function backendFailure(backendName: string, what: string, error: unknown): Error {
  if (isRegionError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BackendError(`${backendName}: ${what} failed: ${message}`, { cause: error });
}

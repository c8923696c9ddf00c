import { ACL_ERROR_REPEAT_INITIALIZE, ACL_SUCCESS, callFailed } from './errors';
import { RuntimeApi } from './native/runtime-api';

interface SessionState {
  refs: number;
  // False when aclInit said "repeat initialize": someone else in the process owns the runtime,
  // so finalizing it would pull it from under them.
  owned: boolean;
}

// aclInit/aclFinalize are process-wide while backends are per device: several backends in one
// process share one initialisation, and only the last one to go finalizes.
const sessions = new Map<RuntimeApi, SessionState>();

/** Initialises the runtime for one more backend (`aclInit(NULL)` for the first). */
export function acquireRuntime(runtime: RuntimeApi, runtimePath: string): void {
  const state = sessions.get(runtime);
  if (state) {
    state.refs++;
    return;
  }
  const rc = runtime.aclInit(null);
  if (rc !== ACL_SUCCESS && rc !== ACL_ERROR_REPEAT_INITIALIZE) {
    throw callFailed('runtime', 'aclInit(NULL)', rc, `(runtime library ${runtimePath})`);
  }
  sessions.set(runtime, { refs: 1, owned: rc === ACL_SUCCESS });
}

/** Drops one backend's hold on the runtime; the last owner calls aclFinalize. Returns a failure or null. */
export function releaseRuntime(runtime: RuntimeApi, runtimePath: string): Error | null {
  const state = sessions.get(runtime);
  if (!state) return null;
  if (--state.refs > 0) return null;
  sessions.delete(runtime);
  if (!state.owned) return null;
  const rc = runtime.aclFinalize();
  return rc === ACL_SUCCESS ? null : callFailed('runtime', 'aclFinalize()', rc, `(runtime library ${runtimePath})`);
}

import { BackendSelectionOptions } from '../backend/load-backend';
import { WaitTuning } from '../context/wait-strategy';

/**
 * Options of `createWorker`. The backend is chosen by `backend`, else `SIMPLER_REGION_BACKEND`,
 * else `simpler-region.config.json` in the working directory.
 */
export interface WorkerOptions extends BackendSelectionOptions {
  /** 2: the device context lives in this process (default). 3: one chip child process per device id. */
  readonly level?: 2 | 3;
  /** Level 2: the device id (default 0, or the injected backend instance's own id). */
  readonly deviceId?: number;
  /** Level 3: the device ids, one chip child each. */
  readonly deviceIds?: readonly number[];
  /** Platform passed to the backend factory (overrides `backendOptions.platform`). */
  readonly platform?: string;
  /** Overrides of the wait spin/backoff budgets (advanced; see docs/signals-and-ordering.md). */
  readonly waitTuning?: Partial<WaitTuning>;
}

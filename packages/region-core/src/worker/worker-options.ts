import { BackendSelectionOptions } from '../backend/load-backend';
import { WaitTuning } from '../context/wait-strategy';

/**
 * Options of `createWorker`. The backend is chosen by `backend`, else `SIMPLER_REGION_BACKEND`,
 * else `simpler-region.config.json` in the working directory. A key that is not an option of the
 * chosen level is `EINVAL` (the lists are in `src/options/option-keys.ts`).
 */
export interface WorkerOptions extends BackendSelectionOptions {
  /** 2: the device context lives in this process (default). 3: one chip child process per device id. */
  readonly level?: 2 | 3;
  /** Level 2: the device id (default 0, or the injected backend instance's own id); a u32, number or bigint. */
  readonly deviceId?: number | bigint;
  /** Level 3: the device ids, one chip child each (u32s, numbers or bigints). */
  readonly deviceIds?: readonly (number | bigint)[];
  /** Platform passed to the backend factory (overrides `backendOptions.platform`). */
  readonly platform?: string;
  /** Level 2 only: overrides of the wait spin/backoff budgets (advanced; see docs/signals-and-ordering.md). */
  readonly waitTuning?: Partial<WaitTuning>;
}

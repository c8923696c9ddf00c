import { UnsupportedError } from '@simpler/abi';
import { Worker } from './worker';
import { WorkerOptions } from './worker-options';

/** Level-3 factory; replaced by the chip-child implementation in src/l3 once it lands. */
export async function createLevel3Worker(options: WorkerOptions): Promise<Worker> {
  void options;
  throw new UnsupportedError('level 3 workers (chip child processes) are not available in this build');
}

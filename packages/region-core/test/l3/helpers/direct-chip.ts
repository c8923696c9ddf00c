import { ChipEndpoint } from '../../../src/l3/chip-endpoint';
import type { ChipEndpointOptions } from '../../../src/l3/chip-endpoint-options';
import { DirectEndpoint } from '../../../src/l3/direct/direct-endpoint';
import { Worker } from '../../../src/worker/worker';

/** One L3 chip assembled as createWorker({ level: 3 }) does, with its parts in reach. */
export interface DirectChip {
  readonly worker: Worker;
  readonly endpoint: DirectEndpoint;
  /** Kernel names of the launches sent to the chip child as requests (command 32), in order. */
  readonly childLaunches: string[];
}

/**
 * Spawns a real chip child and builds the Worker over a DirectEndpoint on it; every launch the
 * endpoint sends through the child (rather than its launch queue) is noted in `childLaunches`.
 */
export async function startDirectChip(options: Partial<ChipEndpointOptions> = {}): Promise<DirectChip> {
  const chip = await ChipEndpoint.spawn({ deviceId: 0, backend: '@simpler/hal-sim', stderr: 'ignore', ...options });
  const childLaunches: string[] = [];
  const send = chip.launch.bind(chip);
  chip.launch = (kernel, args) => {
    childLaunches.push(kernel);
    return send(kernel, args);
  };
  const endpoint = new DirectEndpoint(chip);
  return { worker: new Worker(3, [endpoint]), endpoint, childLaunches };
}

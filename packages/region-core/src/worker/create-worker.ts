import { InvalidArgumentError, RegionBackend, describe, rejectUnknownKeys, requireU32 } from '@simpler/abi';
import { loadBackend } from '../backend/load-backend';
import { DeviceContext } from '../context/device-context';
import { LocalEndpoint } from './local-endpoint';
import { Worker } from './worker';
import { WorkerOptions } from './worker-options';
import { L3WorkerOptions, createL3Worker } from '../l3/create-l3-worker';
import { L2_WORKER_OPTION_KEYS } from '../options/option-keys';

/**
 * Creates a worker. Level 2 (default) loads the backend into this process and drives it through
 * a device context; level 3 spawns one chip child process per device id (see `createL3Worker`).
 *
 * @example
 * const worker = await createWorker({ level: 2, backend: '@simpler/hal-sim', backendOptions: { platform: 'a2a3sim' } });
 */
export async function createWorker(options: WorkerOptions | L3WorkerOptions = {}): Promise<Worker> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`createWorker options must be an object, got ${describe(options)}`);
  }
  const level = options.level ?? 2;
  switch (level) {
    case 2:
      return createL2Worker(options);
    case 3:
      return createL3Worker(options);
    default:
      throw new InvalidArgumentError(`level must be 2 or 3, got ${describe(level)}`);
  }
}

/** The device id of a level-2 worker: `deviceId`, else a one-element `deviceIds`, else undefined. */
function l2DeviceId(options: WorkerOptions): number | undefined {
  let id = options.deviceId === undefined ? undefined : requireU32(options.deviceId, 'deviceId');
  if (options.deviceIds !== undefined) {
    if (!Array.isArray(options.deviceIds) || options.deviceIds.length !== 1) {
      throw new InvalidArgumentError(`a level-2 worker drives one device: give deviceId, not deviceIds ${describe(options.deviceIds)}`);
    }
    const only = requireU32(options.deviceIds[0], 'deviceIds[0]');
    if (id !== undefined && id !== only) throw new InvalidArgumentError(`deviceId ${id} and deviceIds [${only}] disagree`);
    id = only;
  }
  return id;
}

/** Destroys a backend instance the caller handed over, quietly: the worker owns it even when creation fails early. */
async function releaseInjected(backend: unknown): Promise<void> {
  const instance = backend as { allocate?: unknown; destroy?: () => unknown } | undefined;
  if (typeof instance !== 'object' || instance === null || typeof instance.allocate !== 'function' || typeof instance.destroy !== 'function') return;
  try {
    await instance.destroy();
  } catch {
    // Report the creation error.
  }
}

async function createL2Worker(options: WorkerOptions): Promise<Worker> {
  let requested: number | undefined;
  try {
    // Before a backend is created: a refused option must not cost a device thread.
    rejectUnknownKeys(options, L2_WORKER_OPTION_KEYS);
    requested = l2DeviceId(options);
  } catch (error) {
    await releaseInjected(options.backend);
    throw error;
  }
  const backend: RegionBackend = await loadBackend({
    backend: options.backend,
    backendOptions: options.backendOptions,
    deviceId: requested,
    platform: options.platform,
  });
  try {
    const deviceId = requested ?? (Number.isInteger(backend.deviceId) ? backend.deviceId : 0);
    if (typeof backend.deviceId === 'number' && backend.deviceId !== deviceId) {
      throw new InvalidArgumentError(`deviceId ${deviceId} does not match the backend's device ${backend.deviceId}`);
    }
    const context = new DeviceContext(backend, { waitTuning: options.waitTuning });
    return new Worker(2, [new LocalEndpoint(deviceId, context)]);
  } catch (error) {
    // The worker owns the backend it was given: a failed creation must not leak its threads.
    try {
      await backend.destroy();
    } catch {
      // Report the creation error.
    }
    throw error;
  }
}

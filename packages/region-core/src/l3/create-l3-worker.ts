import { InvalidArgumentError, describe, rejectUnknownKeys, requireU32 } from '@simpler/abi';
import { NO_BACKEND_HELP, resolveBackendChoice } from '../backend/load-backend';
import { L3_WORKER_OPTION_KEYS } from '../options/option-keys';
import { Worker } from '../worker/worker';
import type { WorkerOptions } from '../worker/worker-options';
import { ChipEndpoint } from './chip-endpoint';
import { DirectEndpoint } from './direct/direct-endpoint';
import type { L3Transport } from './shm-layout';
import { requireShm } from './shm-loader';
import type { ShmTuning } from './shm-parent-link';
import { resolveTransport, shmTuningOf } from './transport-choice';

/** Level-3 settings on top of the common worker options (all optional). */
export interface L3WorkerOptions extends WorkerOptions {
  /** Bound on each child's init handshake, in ms (default 30 000). */
  readonly initTimeoutMs?: number;
  /** Bound on any one reply beyond a wait's own timeout, in ms (default 60 000; 0 = none). */
  readonly requestTimeoutMs?: number;
  /** How long close waits for a child to exit before SIGKILL, in ms (default 2 000). */
  readonly shutdownGraceMs?: number;
  /** The children's stderr: inherited (default), forwarded, or dropped. */
  readonly childStderr?: 'inherit' | 'pipe' | 'ignore';
  /**
   * What carries mailbox blocks and payloads: `'shm'` (control block and data window in shared
   * memory, the default where `@simpler/shm` works) or `'pipe'` (frames on stdin/stdout, payloads in
   * `/dev/shm` segments). Asking for `'shm'` where it cannot work is `ENOTSUP`.
   */
  readonly transport?: L3Transport;
  /** Spin budgets and chunk size of the shared-memory transport (advanced; see docs/performance.md). */
  readonly shmTuning?: Partial<ShmTuning>;
}

function deviceIdsOf(options: L3WorkerOptions): number[] {
  const raw = options.deviceIds ?? (options.deviceId !== undefined ? [options.deviceId] : [0]);
  if (!Array.isArray(raw) || raw.length === 0) throw new InvalidArgumentError(`deviceIds must be a non-empty array of device ids, got ${describe(raw)}`);
  const ids = raw.map((id, i) => requireU32(id, `deviceIds[${i}]`));
  if (new Set(ids).size !== ids.length) throw new InvalidArgumentError(`deviceIds must not repeat an id, got [${ids.join(', ')}]`);
  if (options.deviceId !== undefined && options.deviceIds !== undefined && !ids.includes(requireU32(options.deviceId, 'deviceId'))) {
    throw new InvalidArgumentError(`deviceId ${options.deviceId} is not one of deviceIds [${ids.join(', ')}]`);
  }
  return ids;
}

const STDERR_MODES: readonly unknown[] = ['inherit', 'pipe', 'ignore'];

/** Checks the L3 options before anything is spawned (a bad `stdio` value makes spawn throw a TypeError); returns the transport. */
function checkL3Options(options: L3WorkerOptions): L3Transport {
  rejectUnknownKeys(options, L3_WORKER_OPTION_KEYS);
  for (const key of ['initTimeoutMs', 'requestTimeoutMs', 'shutdownGraceMs'] as const) {
    const v: unknown = options[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
      throw new InvalidArgumentError(`${key} must be a finite number of milliseconds >= 0, got ${describe(v)}`);
    }
  }
  if (options.childStderr !== undefined && !STDERR_MODES.includes(options.childStderr)) {
    throw new InvalidArgumentError(`childStderr must be 'inherit', 'pipe' or 'ignore', got ${describe(options.childStderr)}`);
  }
  const transport = resolveTransport(options.transport);
  shmTuningOf(options.shmTuning);
  if (transport === 'shm') requireShm("transport 'shm'");
  return transport;
}

/** Only plain JSON data can reach a child on its command line. */
function requireJsonData(value: unknown, where: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number' && Number.isFinite(value)) return;
  if (Array.isArray(value)) return value.forEach((v, i) => requireJsonData(v, `${where}[${i}]`));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) requireJsonData(v, `${where}.${k}`);
    return;
  }
  throw new InvalidArgumentError(`${where} must be plain JSON data to reach a chip child process, got ${describe(value)}`);
}

/** Resolves the module in the parent, so a missing backend fails before any child is spawned. */
function resolveForChild(name: string): string {
  try {
    return require.resolve(name, { paths: [process.cwd()] });
  } catch (error) {
    throw new InvalidArgumentError(
      `backend module ${JSON.stringify(name)} cannot be found from ${process.cwd()}: install it in your project (npm install ${name})`,
      { cause: error },
    );
  }
}

/**
 * Creates a level-3 worker: one chip child process per device id, each owning its device
 * context. The backend must be a module name (an instance or factory cannot cross a process
 * boundary); without one, `SIMPLER_REGION_BACKEND` and `simpler-region.config.json` decide.
 *
 * @example
 * const worker = await createL3Worker({ backend: '@simpler/hal-sim', deviceIds: [0, 1] });
 * const region = await worker.openMappedRegion(4096, { signalCount: 2, workerId: 1 });
 * await worker.close();
 */
export async function createL3Worker(options: L3WorkerOptions = {}): Promise<Worker> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`worker options must be an object, got ${describe(options)}`);
  }
  const transport = checkL3Options(options);
  const ids = deviceIdsOf(options);
  const choice = resolveBackendChoice({ backend: options.backend, backendOptions: options.backendOptions });
  if (choice.backend === undefined) throw new InvalidArgumentError(NO_BACKEND_HELP);
  if (typeof choice.backend !== 'string' || choice.backend.length === 0) {
    throw new InvalidArgumentError(
      `a level-3 worker needs the backend as a module name (each chip child loads it itself); a backend instance, factory or module object cannot cross a process boundary, got ${describe(choice.backend)}`,
    );
  }
  const backendOptions: Record<string, unknown> = { ...choice.backendOptions };
  if (options.platform !== undefined) backendOptions.platform = options.platform;
  delete backendOptions.deviceId; // each child gets its own from --device-id
  requireJsonData(backendOptions, 'backendOptions');
  const backend = resolveForChild(choice.backend);
  const spawned = await Promise.allSettled(
    ids.map((deviceId) =>
      ChipEndpoint.spawn({
        deviceId,
        backend,
        backendOptions,
        initTimeoutMs: options.initTimeoutMs,
        requestTimeoutMs: options.requestTimeoutMs,
        shutdownGraceMs: options.shutdownGraceMs,
        stderr: options.childStderr,
        transport,
        shmTuning: options.shmTuning,
      }),
    ),
  );
  const endpoints = spawned.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = spawned.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(endpoints.map((e) => e.shutdown()));
    throw failed.reason;
  }
  return new Worker(3, endpoints.map((chip) => new DirectEndpoint(chip, options.waitTuning)));
}

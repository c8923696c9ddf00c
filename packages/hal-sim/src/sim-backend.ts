import * as fs from 'node:fs';
import * as path from 'node:path';
import { MessageChannel, MessagePort, Worker } from 'node:worker_threads';
import {
  BACKEND_ABI_VERSION,
  BackendAllocation,
  BackendError,
  BackendOptions,
  InvalidArgumentError,
  LQ_MAX_ARGS,
  OutOfMemoryError,
  RegionBackend,
  SharedLaunchQueue,
  UnsupportedError,
  U64_MAX,
  knownKeys,
  rejectUnknownKeys,
} from '@simpler/abi';
import {
  AllocMessage,
  CELL_LIVE,
  CTL_BYTES,
  CTL_COMPLETED,
  CTL_FAIL_COUNT,
  CTL_FAIL_LEN,
  CTL_FAIL_MESSAGE_OFFSET,
  CTL_FAIL_STATE,
  CTL_SHUTDOWN_DONE,
  CTL_STOP,
  DEVICE_ADDRESS_BASE,
  DEVICE_ADDRESS_LIMIT,
  DEVICE_ALLOCATION_ALIGN,
  DeviceCommand,
  DeviceEvent,
  DeviceThreadData,
} from './device-protocol';
import { ROUND_TRIP_KERNEL } from './round-trip-kernel';
import { GuardReport, GuardViolation, GuardedBlock, guardSizeOf } from './guard-bytes';
import { HostLaunchQueue } from './launch-queue-memory';
import { allocateMemfdMemory } from './memfd-memory';
import { RegionMemory, RegionRequest } from './region-memory';
import { allocateSabMemory } from './sab-memory';
import { ShmModule, loadShm } from './shm-loader';

/** Package name of the simulator backend, as the core checks it. */
export const BACKEND_NAME = '@simpler/hal-sim';
/** Platforms the simulator can pretend to be; the first is the default. */
export const SIM_PLATFORMS: readonly string[] = Object.freeze(['a2a3sim', 'a5sim']);

/** Options of {@link createBackend}. */
export interface SimBackendOptions extends BackendOptions {
  /** `a2a3sim` (default) or `a5sim`. */
  readonly platform?: string;
  /** User kernels to register: kernel name → path of a JS module (relative paths use the cwd). */
  readonly kernels?: Readonly<Record<string, string>>;
  /**
   * Test aid: bytes of patterned guard (rounded up to 64) before and after every allocation, in
   * the same shared memory; `checkGuards()` reports any that changed. Default 0 (no guards).
   */
  readonly guardBytes?: number;
  /**
   * Where region memory lives. `'memfd'` (the default where `@simpler/shm` works: Linux): one
   * anonymous shared memory object per allocation, shareable with another process and given
   * back at release. `'sab'` (the default elsewhere): a SharedArrayBuffer, given back only when
   * the garbage collectors of both threads drop it.
   */
  readonly memory?: SimMemory;
  /**
   * How long the device thread keeps polling its launch queue after a kernel before it sleeps, in
   * µs (default {@link DEFAULT_DEVICE_SPIN_US}; 0: sleep at once). A program that launches in a
   * loop then finds the device awake: no futex wake, no thread wake-up. Costs up to this much CPU
   * after each burst of kernels.
   */
  readonly deviceSpinUs?: number;
}

/** Default of {@link SimBackendOptions.deviceSpinUs}: longer than a host's turn between two launches of a tight loop. */
export const DEFAULT_DEVICE_SPIN_US = 100;
/** Largest {@link SimBackendOptions.deviceSpinUs}. */
const MAX_DEVICE_SPIN_US = 1_000_000;

/** Kinds of simulator region memory (see {@link SimBackendOptions.memory}). */
export type SimMemory = 'memfd' | 'sab';

/** The options {@link createBackend} knows; any other key is `EINVAL` (a typo must not run as if absent). */
const SIM_OPTION_KEYS = knownKeys<Required<Pick<SimBackendOptions, 'deviceId' | 'platform' | 'kernels' | 'guardBytes' | 'memory' | 'deviceSpinUs'>>>(
  `${BACKEND_NAME} backendOptions`,
  { deviceId: true, platform: true, kernels: true, guardBytes: true, memory: true, deviceSpinUs: true },
);

// Node 20 has Atomics.waitAsync; the ES2022 lib typings do not.
type WaitAsync = (
  a: Int32Array,
  i: number,
  v: number,
  t?: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
const SYNC_POLL_MS = 200;
// How long destroy() lets the device give its mappings back before the thread is terminated.
const SHUTDOWN_GRACE_MS = 1000;
const decoder = new TextDecoder();

/** The memory kind to use, or `ENOTSUP`/`EINVAL` for one that cannot be. */
function memoryOf(value: unknown): { kind: SimMemory; shm?: ShmModule } {
  const { shm, reason } = loadShm();
  if (value === undefined) return shm !== undefined ? { kind: 'memfd', shm } : { kind: 'sab' };
  if (value === 'sab') return { kind: 'sab' };
  if (value !== 'memfd') throw new InvalidArgumentError(`createBackend: memory must be 'memfd' or 'sab', got ${String(value)}`);
  if (shm === undefined) throw new UnsupportedError(`createBackend: memory 'memfd' is not available: ${reason}`);
  return { kind: 'memfd', shm };
}

/**
 * The simulator backend: region memory is zero-filled shared memory (a memfd per allocation, or
 * a `SharedArrayBuffer` where that is unavailable) shared with one simulated device running on a
 * `worker_threads` thread, which addresses it only through its own device address space. Memory
 * is coherent and Atomics are sequentially consistent, so there are no flush/invalidate hooks.
 *
 * @example
 * const backend = await createBackend({ deviceId: 0, platform: 'a2a3sim' });
 * const mem = backend.allocate(4096);
 * backend.launch('round-trip', [mem.deviceBase + 192n, mem.deviceBase + 64n, 1n, 16n]);
 * // ... host writes the payload, notifies signal 0, waits for signal 1 ...
 * await backend.synchronize();
 * mem.release();
 * await backend.destroy();
 */
export class SimBackend implements RegionBackend {
  /** Always {@link BACKEND_NAME}. */
  readonly name = BACKEND_NAME;
  /** The backend contract version implemented. */
  readonly abiVersion = BACKEND_ABI_VERSION;
  /** `a2a3sim` or `a5sim`. */
  readonly platform: string;
  /** The simulated device's id. */
  readonly deviceId: number;
  /** Where region memory lives: `'memfd'` (shareable, given back at release) or `'sab'`. */
  readonly memory: SimMemory;

  private readonly shm: ShmModule | undefined;
  private readonly worker: Worker;
  private readonly allocPort: MessagePort;
  private readonly control: Int32Array;
  private readonly controlBytes: Uint8Array;
  /** Kernel name → id (its place in the launch queue's kernel table); the round trip is 0. */
  private readonly kernelIds = new Map<string, number>([[ROUND_TRIP_KERNEL, 0]]);
  private readonly queue: HostLaunchQueue;
  // Release functions of the allocations not released yet: destroy() runs them.
  private readonly unreleased = new Set<() => void>();
  private readonly guardSize: number;
  private readonly guarded = new Set<GuardedBlock>();
  private readonly releasedViolations: GuardViolation[] = [];
  private readonly started: Promise<void>;
  private nextDeviceBase = DEVICE_ADDRESS_BASE;
  private waiters = 0;
  private isReady = false;
  private lost: string | undefined;
  private destroying: Promise<void> | undefined;

  /** Validates the options and starts the device thread; prefer {@link createBackend}, which also awaits {@link SimBackend.ready}. */
  constructor(options: SimBackendOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError(`createBackend: options must be an object, got ${String(options)}`);
    }
    rejectUnknownKeys(options, SIM_OPTION_KEYS);
    const platform = options.platform ?? SIM_PLATFORMS[0];
    if (typeof platform !== 'string' || !SIM_PLATFORMS.includes(platform)) {
      throw new InvalidArgumentError(
        `createBackend: unknown platform '${String(platform)}' for ${BACKEND_NAME} (expected ${SIM_PLATFORMS.join(' or ')})`,
      );
    }
    const deviceId = options.deviceId ?? 0;
    if (!Number.isSafeInteger(deviceId) || deviceId < 0) {
      throw new InvalidArgumentError(`createBackend: deviceId ${String(deviceId)} is not an integer >= 0`);
    }
    const kernels = options.kernels ?? {};
    if (typeof kernels !== 'object' || kernels === null || Array.isArray(kernels)) {
      throw new InvalidArgumentError(`createBackend: kernels must be an object of name → module path, got ${String(kernels)}`);
    }
    this.guardSize = guardSizeOf(options.guardBytes);
    const spinUs = options.deviceSpinUs ?? DEFAULT_DEVICE_SPIN_US;
    if (typeof spinUs !== 'number' || !Number.isSafeInteger(spinUs) || spinUs < 0 || spinUs > MAX_DEVICE_SPIN_US) {
      throw new InvalidArgumentError(`createBackend: deviceSpinUs must be an integer number of µs in [0, ${MAX_DEVICE_SPIN_US}], got ${String(spinUs)}`);
    }
    const memory = memoryOf(options.memory);
    this.memory = memory.kind;
    this.shm = memory.shm;
    const script = deviceThreadScript();
    this.platform = platform;
    this.deviceId = deviceId;
    const shared = new SharedArrayBuffer(CTL_BYTES);
    this.control = new Int32Array(shared);
    this.controlBytes = new Uint8Array(shared);
    this.queue = HostLaunchQueue.create(memory.shm, this.control);
    this.queue.owner.listKernel(0, ROUND_TRIP_KERNEL);
    const channel = new MessageChannel();
    this.allocPort = channel.port1;
    const workerData: DeviceThreadData = { control: shared, allocPort: channel.port2, platform, deviceId, queue: this.queue.deviceEnd, spinUs };
    // The device closes descriptors the host duplicated for it: not "unmanaged" ones of its own.
    this.worker = new Worker(script, { workerData, transferList: [channel.port2], trackUnmanagedFds: false });
    stopOnExit.add(this);
    this.started = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (ev: DeviceEvent) => {
        if (ev.type !== 'ready') return;
        this.isReady = true;
        if (this.waiters === 0) this.worker.unref();
        resolve();
      });
      this.worker.on('error', (err) => this.deviceLost(`device thread crashed: ${err.message}`));
      this.worker.on('exit', (code) => {
        this.deviceLost(`device thread exited with code ${code}`);
        reject(new BackendError(`createBackend: ${this.lost}`));
      });
    });
    // Nobody may be awaiting ready(); a failure then surfaces at the next call instead.
    this.started.catch(() => undefined);
    try {
      for (const [name, file] of Object.entries(kernels)) this.registerKernel(name, file);
    } catch (e) {
      // The caller never gets this instance, so nobody else could stop its device thread.
      void this.destroy();
      throw e;
    }
  }

  /** Resolves once the device thread is running; rejects with `EIO` if it failed to start. */
  ready(): Promise<void> {
    return this.started;
  }

  /** Allocates `totalBytes` of zero-filled shared memory and maps it into the device address space. */
  allocate(totalBytes: number): BackendAllocation {
    this.requireOpen('allocate');
    if (typeof totalBytes !== 'number' || !Number.isSafeInteger(totalBytes) || totalBytes <= 0) {
      throw new InvalidArgumentError(`allocate: totalBytes ${String(totalBytes)} is not a positive integer`);
    }
    const base = this.nextDeviceBase;
    if (totalBytes > DEVICE_ADDRESS_LIMIT - base) {
      throw new OutOfMemoryError(`allocate: ${totalBytes} bytes do not fit in the simulated device address space`);
    }
    const request: RegionRequest = { base, totalBytes, guard: this.guardSize, control: this.control };
    const memory: RegionMemory = this.shm !== undefined ? allocateMemfdMemory(this.shm, request) : allocateSabMemory(request);
    // Bases are never reused, and an unmapped gap follows each allocation so overruns fault.
    this.nextDeviceBase = alignUp(base + totalBytes + DEVICE_ALLOCATION_ALIGN, DEVICE_ALLOCATION_ALIGN);
    this.postAlloc(memory.message);
    const block = memory.block;
    if (block) this.guarded.add(block);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.unreleased.delete(release);
      if (block) {
        // Checked now: once released, nobody can look at these guards again.
        block.collect(this.releasedViolations);
        this.guarded.delete(block);
      }
      // Synchronous from the host's view: from here on, any device access to the range faults.
      Atomics.store(memory.cell, CELL_LIVE, 0);
      try {
        memory.free();
      } finally {
        this.postAlloc({ type: 'unmap', base });
      }
    };
    this.unreleased.add(release);
    return { bytes: memory.bytes, hostBase: 0n, deviceBase: BigInt(base), ...memory.hooks, release };
  }

  /**
   * Registers a user kernel: `modulePath` is a JS module whose default export (or `kernel`
   * export) is a {@link DeviceKernel}. It is loaded on the device thread at first launch.
   */
  registerKernel(name: string, modulePath: string): void {
    this.requireOpen('registerKernel');
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidArgumentError(`registerKernel: kernel name ${JSON.stringify(name)} must be a non-empty string`);
    }
    if (this.kernelIds.has(name)) {
      throw new InvalidArgumentError(`registerKernel: kernel '${name}' is already registered`);
    }
    if (typeof modulePath !== 'string' || modulePath.length === 0) {
      throw new InvalidArgumentError(`registerKernel: module path for '${name}' must be a non-empty string`);
    }
    const file = path.resolve(modulePath);
    if (!isFile(file)) throw new InvalidArgumentError(`registerKernel: kernel module ${file} for '${name}' does not exist`);
    const id = this.kernelIds.size;
    // Posted before the id is listed: the device drains its messages before it takes a launch.
    this.post({ type: 'register', id, name, path: file });
    this.kernelIds.set(name, id);
    this.queue.owner.listKernel(id, name);
  }

  /**
   * With the `guardBytes` option: checks the guards of every live allocation, plus what was found
   * when earlier allocations were released. Without guards it always reports ok.
   */
  checkGuards(): GuardReport {
    const violations = [...this.releasedViolations];
    for (const block of this.guarded) block.collect(violations);
    return { ok: violations.length === 0, violations };
  }

  /** Names of the kernels that can be launched: `round-trip` plus the registered ones. */
  kernels(): string[] {
    return [...this.kernelIds.keys()];
  }

  /** Queues `kernel` with u64 arguments; kernels run one after another in launch order. */
  launch(kernel: string, args: readonly bigint[]): void {
    this.requireOpen('launch');
    if (this.lost !== undefined) throw new BackendError(`launch: ${this.lost}`);
    const id = typeof kernel === 'string' ? this.kernelIds.get(kernel) : undefined;
    if (id === undefined) {
      throw new InvalidArgumentError(`launch: unknown kernel '${String(kernel)}' (known: ${this.kernels().join(', ')})`);
    }
    if (!Array.isArray(args)) throw new InvalidArgumentError(`launch: args of '${kernel}' must be an array of bigints`);
    if (args.length > LQ_MAX_ARGS) throw new InvalidArgumentError(`launch: '${kernel}' got ${args.length} args; a simulated kernel takes at most ${LQ_MAX_ARGS}`);
    for (let i = 0; i < args.length; i++) {
      const a: unknown = args[i];
      if (typeof a !== 'bigint' || a < 0n || a > U64_MAX) {
        throw new InvalidArgumentError(`launch: argument ${i} of '${kernel}' (${String(a)}) is not a u64 bigint`);
      }
    }
    this.queue.push(id, args);
  }

  /** The launch queue, for a process that maps it (an L3 parent); `ENOTSUP` with SharedArrayBuffer memory. */
  shareLaunchQueue(): SharedLaunchQueue {
    this.requireOpen('shareLaunchQueue');
    if (this.lost !== undefined) throw new BackendError(`shareLaunchQueue: ${this.lost}`);
    return this.queue.share();
  }

  /** Resolves when every kernel launched so far finished; rejects with `EIO` on the first failure since the last call. */
  async synchronize(): Promise<void> {
    this.requireOpen('synchronize');
    const target = this.queue.launched;
    const ctl = this.control;
    if (behind(Atomics.load(ctl, CTL_COMPLETED), target)) {
      // An unref'd device must not let the process exit while someone awaits it.
      if (this.waiters++ === 0) this.worker.ref();
      try {
        for (let done = Atomics.load(ctl, CTL_COMPLETED); behind(done, target); done = Atomics.load(ctl, CTL_COMPLETED)) {
          if (this.lost !== undefined) {
            throw new BackendError(`synchronize: ${this.lost}; ${(target - done) | 0} kernel(s) did not finish`);
          }
          const r = waitAsync(ctl, CTL_COMPLETED, done, SYNC_POLL_MS);
          if (r.async) await r.value;
        }
      } finally {
        if (--this.waiters === 0 && this.isReady && this.destroying === undefined) this.worker.unref();
      }
    }
    this.takeFailure();
  }

  /** Terminates the device thread and unmaps everything; idempotent. Later calls are `EINVAL`. */
  destroy(): Promise<void> {
    if (this.destroying !== undefined) return this.destroying;
    for (const release of [...this.unreleased]) {
      try {
        release();
      } catch {
        // The memory was given back as far as it could be; destroy goes on.
      }
    }
    this.lost ??= 'the backend was destroyed';
    Atomics.notify(this.control, CTL_COMPLETED);
    this.queue.close();
    this.allocPort.postMessage({ type: 'shutdown' } satisfies AllocMessage);
    this.queue.owner.ring();
    this.destroying = this.shutDown();
    return this.destroying;
  }

  /**
   * Lets an idle device give its own mappings back before its thread goes: terminating an
   * isolate frees its buffers whether or not their pages are still mapped shared.
   */
  private async shutDown(): Promise<void> {
    if (this.isReady && this.lost === 'the backend was destroyed') {
      // A pending Atomics.waitAsync does not keep Node's event loop alive; this timer does.
      const keepAlive = setTimeout(() => undefined, SHUTDOWN_GRACE_MS + 10);
      const r = waitAsync(this.control, CTL_SHUTDOWN_DONE, 0, SHUTDOWN_GRACE_MS);
      if (r.async) await r.value;
      clearTimeout(keepAlive);
    }
    this.allocPort.close();
    await this.worker.terminate().then(
      () => undefined,
      () => undefined,
    );
    stopOnExit.delete(this);
    this.queue.release();
  }

  /** The process is exiting: the device stops sleeping on the queue so its thread can end at once. */
  stopForExit(): void {
    Atomics.store(this.control, CTL_STOP, 1);
    this.queue.owner.ring();
  }

  private requireOpen(op: string): void {
    if (this.destroying !== undefined) {
      throw new InvalidArgumentError(`${op}: the ${BACKEND_NAME} backend for device ${this.deviceId} was destroyed`);
    }
  }

  private post(cmd: DeviceCommand): void {
    this.worker.postMessage(cmd);
  }

  /** Posts to the device and rings its doorbell: an idle device takes the message now, not at its next launch. */
  private postAlloc(msg: AllocMessage): void {
    if (this.destroying !== undefined) return;
    this.allocPort.postMessage(msg);
    this.queue.owner.ring();
  }

  private deviceLost(why: string): void {
    this.lost ??= why;
    this.queue.close();
    Atomics.notify(this.control, CTL_COMPLETED);
  }

  /** Throws the first kernel failure recorded by the device since the last call, and clears it. */
  private takeFailure(): void {
    const ctl = this.control;
    if (Atomics.load(ctl, CTL_FAIL_STATE) !== 1) return;
    const len = Atomics.load(ctl, CTL_FAIL_LEN);
    const message = decoder.decode(this.controlBytes.slice(CTL_FAIL_MESSAGE_OFFSET, CTL_FAIL_MESSAGE_OFFSET + len));
    const count = Atomics.exchange(ctl, CTL_FAIL_COUNT, 0);
    Atomics.store(ctl, CTL_FAIL_STATE, 0);
    const more = count > 1 ? ` (and ${count - 1} more kernel failure(s) since the last synchronize)` : '';
    throw new BackendError(`synchronize: ${message}${more}`);
  }
}

/**
 * Backends whose device thread may be asleep on its launch queue. A thread asleep in a futex
 * would hold up the process's exit (Node joins its worker threads) until its sleep ends.
 */
const stopOnExit = new Set<SimBackend>();
process.on('exit', () => {
  for (const backend of stopOnExit) backend.stopForExit();
});

/** Creates a simulator backend and waits until its device thread runs. */
export async function createBackend(options: SimBackendOptions): Promise<SimBackend> {
  const backend = new SimBackend(options);
  try {
    await backend.ready();
  } catch (e) {
    await backend.destroy();
    throw e;
  }
  return backend;
}

/** The compiled device-thread script: next to this file in dist/, or in ../dist when run from src/ (ts-jest). */
function deviceThreadScript(): string {
  const candidates = [path.join(__dirname, 'device-thread.js'), path.join(__dirname, '..', 'dist', 'device-thread.js')];
  for (const c of candidates) if (isFile(c)) return c;
  throw new BackendError(`createBackend: device thread script not found (looked at ${candidates.join(', ')}); build ${BACKEND_NAME}`);
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** True while the wrapping completion counter has not reached `target`. */
function behind(done: number, target: number): boolean {
  return ((done - target) | 0) < 0;
}

function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

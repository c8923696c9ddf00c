// Entry point of the simulated device: one worker thread per backend instance. It runs queued
// kernels in launch order against device addresses, and reports completion and failures to the
// host through the shared control block.
import { MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { AdaptiveSpin, LQ_MAX_ARGS, LaunchRecord, LaunchTake } from '@simpler/abi';
import { openDeviceLaunchQueue } from './device-launch-queue';
import { DeviceAddressSpace } from './device-address-space';
import { DeviceKernel } from './device-memory';
import {
  AllocMessage,
  CTL_COMPLETED,
  CTL_FAIL_COUNT,
  CTL_FAIL_LEN,
  CTL_FAIL_MESSAGE_BYTES,
  CTL_FAIL_MESSAGE_OFFSET,
  CTL_FAIL_STATE,
  CTL_SHUTDOWN_DONE,
  CTL_STOP,
  DeviceCommand,
  DeviceThreadData,
} from './device-protocol';
import { ROUND_TRIP_KERNEL, roundTripKernel } from './round-trip-kernel';

interface KernelEntry {
  readonly name: string;
  readonly path?: string;
  fn?: DeviceKernel;
}

/** How long an idle device sleeps on the launch queue's doorbell before it looks around (ms). */
const IDLE_SLEEP_MS = 200;
/** How long to sleep when a producer reserved a slot but has not published it yet (ms). */
const PENDING_SLEEP_MS = 1;

const data = workerData as DeviceThreadData;
const port = parentPort as MessagePort;
const control = new Int32Array(data.control);
const failureBytes = new Uint8Array(data.control, CTL_FAIL_MESSAGE_OFFSET, CTL_FAIL_MESSAGE_BYTES);
const encoder = new TextEncoder();
const space = new DeviceAddressSpace(drainAllocations, control);
/** Kernels by id: id 0 is the built-in round trip, the host numbers registered ones from 1. */
const kernels: KernelEntry[] = [{ name: ROUND_TRIP_KERNEL, fn: roundTripKernel }];
const queue = openDeviceLaunchQueue(data.queue, control);
const spin = new AdaptiveSpin(data.spinUs);
let queueUnmapped = false;

function drainAllocations(): void {
  for (let r = receiveMessageOnPort(data.allocPort); r !== undefined; r = receiveMessageOnPort(data.allocPort)) {
    space.apply(r.message as AllocMessage);
  }
}

/** Keeps the first failure since the host last looked; later ones are only counted. */
function recordFailure(message: string): void {
  Atomics.add(control, CTL_FAIL_COUNT, 1);
  if (Atomics.compareExchange(control, CTL_FAIL_STATE, 0, 2) !== 0) return;
  const { written } = encoder.encodeInto(message, failureBytes);
  Atomics.store(control, CTL_FAIL_LEN, written);
  Atomics.store(control, CTL_FAIL_STATE, 1);
}

function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  return `non-error value thrown: ${String(e)}`;
}

async function loadKernel(entry: KernelEntry): Promise<DeviceKernel> {
  const file = entry.path as string;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`cannot load kernel module ${file}: ${describeError(e)}`);
  }
  const def = mod.default as Record<string, unknown> | ((...a: unknown[]) => unknown) | undefined;
  const fn =
    typeof def === 'function' ? def : typeof mod.kernel === 'function' ? mod.kernel : def?.kernel;
  if (typeof fn !== 'function') {
    throw new Error(`kernel module ${file} for '${entry.name}' exports no function (expected default export or 'kernel')`);
  }
  entry.fn = fn as DeviceKernel;
  return entry.fn;
}

/** Records how a kernel ended (a fault counts even when the kernel caught the throw) and counts it done. */
function finishKernel(name: string, error: string | undefined): void {
  const fault = space.takeFault();
  if (fault !== undefined) {
    recordFailure(`kernel '${name}' aborted by ${fault.message}`);
  } else if (error !== undefined) {
    recordFailure(`kernel '${name}' failed: ${error}`);
  }
  Atomics.add(control, CTL_COMPLETED, 1);
  Atomics.notify(control, CTL_COMPLETED);
}

/** Runs one launch: synchronously when it can, else returns the promise of its end. */
function runLaunch(launch: LaunchRecord): Promise<void> | undefined {
  const entry = kernels[launch.kernel];
  if (entry === undefined || launch.argc > LQ_MAX_ARGS) {
    const what = entry === undefined ? `no kernel has id ${launch.kernel}` : `${launch.argc} arguments (at most ${LQ_MAX_ARGS})`;
    finishKernel(entry?.name ?? `#${launch.kernel}`, `bad launch in the queue: ${what}`);
    return undefined;
  }
  if (entry.fn === undefined) {
    return loadKernel(entry).then(
      (fn) => settle(entry.name, () => fn(space, launch.args)),
      (e: unknown) => finishKernel(entry.name, describeError(e)),
    );
  }
  const fn = entry.fn;
  return settle(entry.name, () => fn(space, launch.args));
}

function settle(name: string, run: () => unknown): Promise<void> | undefined {
  let r: unknown;
  try {
    r = run();
  } catch (e) {
    finishKernel(name, describeError(e));
    return undefined;
  }
  if (r !== undefined && r !== null && typeof (r as Promise<void>).then === 'function') {
    return Promise.resolve(r as Promise<void>).then(
      () => finishKernel(name, undefined),
      (e: unknown) => finishKernel(name, describeError(e)),
    );
  }
  finishKernel(name, undefined);
  return undefined;
}

function onCommand(cmd: DeviceCommand): void {
  if (cmd.type === 'register') kernels[cmd.id] = { name: cmd.name, path: cmd.path };
}

function drainMessages(): void {
  drainAllocations();
  for (let r = receiveMessageOnPort(port); r !== undefined; r = receiveMessageOnPort(port)) onCommand(r.message as DeviceCommand);
}

function unmapQueue(): void {
  if (queueUnmapped) return;
  queueUnmapped = true;
  queue.unmap();
}

/** True once the device must stop serving: shut down (then the queue is unmapped) or the host process exits. */
function stopping(): boolean {
  if (Atomics.load(control, CTL_SHUTDOWN_DONE) === 1) {
    unmapQueue();
    return true;
  }
  return Atomics.load(control, CTL_STOP) === 1;
}

/**
 * Polls the queue for up to the spin budget; producers see the device awake meanwhile and skip
 * the futex wake. The budget follows whether polling pays (`AdaptiveSpin`): a host that launches
 * in a tight loop keeps it; one whose launches come further apart than the budget turns it off,
 * so the device does not take a core from it for nothing.
 */
function pollForLaunch(found: 'pending' | 'empty'): LaunchTake {
  const c = queue.consumer;
  let next: LaunchTake = found;
  const budgetUs = spin.budgetUs;
  if (budgetUs <= 0) return next;
  const end = performance.now() + budgetUs / 1000;
  while (typeof next !== 'object' && performance.now() < end) next = c.take();
  spin.record(typeof next === 'object');
  return next;
}

/** Announces the sleep, looks once more, sleeps on the doorbell, looks again. */
function sleepThenTake(found: 'pending' | 'empty'): LaunchTake {
  const c = queue.consumer;
  const rung = c.beginSleep();
  drainMessages();
  let next = c.take();
  if (typeof next !== 'object' && !stopping()) queue.sleep(rung, found === 'pending' || next === 'pending' ? PENDING_SLEEP_MS : IDLE_SLEEP_MS);
  c.endSleep();
  if (typeof next !== 'object') next = c.take();
  return next;
}

/**
 * The device's loop: runs launches in queue order, synchronously back to back, and sleeps on the
 * queue's doorbell when there is none. An asynchronous kernel (or the first launch of a kernel
 * module) hands the thread back to its event loop until it settles; so does every idle wake-up.
 */
function serve(): void {
  for (let ran = false; ; ran = true) {
    drainMessages();
    if (stopping()) return;
    let next = queue.consumer.take();
    // Right after kernels, poll a while first: the next launch of a loop then needs no wake-up.
    if (typeof next !== 'object' && ran) next = pollForLaunch(next);
    if (typeof next !== 'object') {
      next = sleepThenTake(next);
      if (typeof next !== 'object') {
        setImmediate(serve);
        return;
      }
    }
    const pending = runLaunch(next);
    if (pending !== undefined) {
      void pending.then(() => setImmediate(serve));
      return;
    }
  }
}

data.allocPort.on('message', (m: AllocMessage) => space.apply(m));
port.on('message', onCommand);
// A stray rejection from an async user kernel must not take the device down.
process.on('unhandledRejection', (e) => recordFailure(`device thread: unhandled rejection: ${describeError(e)}`));
process.on('uncaughtException', (e) => recordFailure(`device thread: uncaught exception: ${describeError(e)}`));
// A kernel that calls process.exit ends this thread and frees its heap: the shared pages mapped
// over heap buffers go back first, or the allocator would hand them out while others write them.
process.on('exit', () => {
  space.apply({ type: 'shutdown' });
  unmapQueue();
});
port.postMessage({ type: 'ready' });
setImmediate(serve);

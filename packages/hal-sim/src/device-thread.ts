// Entry point of the simulated device: one worker thread per backend instance. It runs queued
// kernels in launch order against device addresses, and reports completion and failures to the
// host through the shared control block.
import { MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
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
  DeviceCommand,
  DeviceThreadData,
} from './device-protocol';
import { ROUND_TRIP_KERNEL, roundTripKernel } from './round-trip-kernel';

interface KernelEntry {
  readonly path?: string;
  fn?: DeviceKernel;
}

interface Job {
  readonly kernel: string;
  readonly args: readonly bigint[];
}

const data = workerData as DeviceThreadData;
const port = parentPort as MessagePort;
const control = new Int32Array(data.control);
const failureBytes = new Uint8Array(data.control, CTL_FAIL_MESSAGE_OFFSET, CTL_FAIL_MESSAGE_BYTES);
const encoder = new TextEncoder();
const space = new DeviceAddressSpace(drainAllocations, control);
const kernels = new Map<string, KernelEntry>([[ROUND_TRIP_KERNEL, { fn: roundTripKernel }]]);
const queue: Job[] = [];
let running = false;

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

async function loadKernel(name: string, entry: KernelEntry): Promise<DeviceKernel> {
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
    throw new Error(`kernel module ${file} for '${name}' exports no function (expected default export or 'kernel')`);
  }
  entry.fn = fn as DeviceKernel;
  return entry.fn;
}

async function runJob(job: Job): Promise<void> {
  let error: string | undefined;
  try {
    const entry = kernels.get(job.kernel);
    if (entry === undefined) throw new Error('no such kernel on the device');
    const fn = entry.fn ?? (await loadKernel(job.kernel, entry));
    const r = fn(space, job.args);
    if (r !== undefined && typeof (r as Promise<void>).then === 'function') await r;
  } catch (e) {
    error = describeError(e);
  }
  // A fault counts even when the kernel caught the throw.
  const fault = space.takeFault();
  if (fault !== undefined) {
    recordFailure(`kernel '${job.kernel}' aborted by ${fault.message}`);
  } else if (error !== undefined) {
    recordFailure(`kernel '${job.kernel}' failed: ${error}`);
  }
}

async function pump(): Promise<void> {
  running = true;
  while (queue.length > 0) {
    const job = queue.shift() as Job;
    drainAllocations();
    await runJob(job);
    Atomics.add(control, CTL_COMPLETED, 1);
    Atomics.notify(control, CTL_COMPLETED);
  }
  running = false;
}

data.allocPort.on('message', (m: AllocMessage) => space.apply(m));
port.on('message', (cmd: DeviceCommand) => {
  if (cmd.type === 'register') {
    kernels.set(cmd.name, { path: cmd.path });
    return;
  }
  queue.push({ kernel: cmd.kernel, args: cmd.args });
  if (!running) void pump();
});
// A stray rejection from an async user kernel must not take the device down.
process.on('unhandledRejection', (e) => recordFailure(`device thread: unhandled rejection: ${describeError(e)}`));
process.on('uncaughtException', (e) => recordFailure(`device thread: uncaught exception: ${describeError(e)}`));
port.postMessage({ type: 'ready' });

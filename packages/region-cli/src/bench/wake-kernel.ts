/**
 * The `wake-probe` device kernel of the L3 benchmark, loaded by the simulator from this file's
 * built path: `wake-probe(signals, stamps, count, delayUs)` — for k = 1..count, wait until signal
 * 0 is >= k (the host is about to wait for k), idle `delayUs` plus up to 1 ms of jitter so the
 * host's wait is past its spin and asleep, write the monotonic clock (ns, a float64) at
 * `stamps + 8 (k - 1)`, then release-store k into signal 1. The host subtracts the stamp from the
 * time its wait returned: publish to wake-up, whichever process the host is.
 */

// Structural copy of the simulator's DeviceMemory slice this kernel needs (no runtime import).
interface WakeProbeMemory {
  store32Release(addr: number, value: number): void;
  waitU32AtLeast(addr: number, target: number, timeoutUs: number): boolean;
  bytes(addr: number, n: number): Uint8Array;
}

const TIMEOUT_US = 10_000_000;
// A private word nobody notifies: Atomics.wait on it is a precise sleep of the device thread.
const nap = new Int32Array(new SharedArrayBuffer(4));

/** The kernel entry (the simulator takes `kernel`, `default` or `module.exports`). */
export function kernel(mem: WakeProbeMemory, args: readonly bigint[]): void {
  if (args.length !== 4) throw new RangeError(`wake-probe: expected (signals, stamps, count, delayUs), got ${args.length} arguments`);
  const ping = Number(args[0]);
  const pong = ping + 64;
  const count = Number(args[2]);
  const delayMs = Number(args[3]) / 1000;
  const stamps = mem.bytes(Number(args[1]), count * 8);
  const view = new DataView(stamps.buffer, stamps.byteOffset, stamps.byteLength);
  // Fixed pseudo-random jitter, so a publish lands at every phase of a polling or sliced sleeper.
  let seed = 12345;
  for (let k = 1; k <= count; k++) {
    if (!mem.waitU32AtLeast(ping, k, TIMEOUT_US)) throw new Error(`wake-probe: the host never asked for ${k}`);
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    Atomics.wait(nap, 0, 0, delayMs + (seed % 1000) / 1000);
    view.setFloat64((k - 1) * 8, Number(process.hrtime.bigint()), true);
    mem.store32Release(pong, k);
  }
}

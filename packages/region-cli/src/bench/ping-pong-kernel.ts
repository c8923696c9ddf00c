/**
 * The `ping-pong` device kernel of the L2 benchmark, loaded by the simulator from this file's
 * built path: `ping-pong(signals, rounds, timeoutUs)` — for k = 1..rounds, wait until signal 0
 * is >= k, then release-store k into signal 1. It spins on acquire loads before falling back to
 * the simulator's sleeping wait, as a polling device kernel would.
 */

// Structural copy of the simulator's DeviceMemory slice this kernel needs (no runtime import).
interface PingPongMemory {
  load32Acquire(addr: number): number;
  store32Release(addr: number, value: number): void;
  waitU32AtLeast(addr: number, target: number, timeoutUs: number): boolean;
}

/** How many acquire loads to spin before sleeping in `waitU32AtLeast`. */
const SPIN_LOADS = 2_000_000;

/** The kernel entry (the simulator takes `kernel`, `default` or `module.exports`). */
export function kernel(mem: PingPongMemory, args: readonly bigint[]): void {
  if (args.length !== 3) throw new RangeError(`ping-pong: expected (signals, rounds, timeoutUs), got ${args.length} arguments`);
  // Device addresses stay below 2^53, so numbers are exact and avoid BigInt work per access.
  const ping = Number(args[0]);
  const pong = ping + 64;
  const rounds = Number(args[1]);
  const timeoutUs = Number(args[2]);
  for (let k = 1; k <= rounds; k++) {
    let spins = 0;
    while (mem.load32Acquire(ping) >>> 0 < k) {
      if (++spins === SPIN_LOADS) {
        if (!mem.waitU32AtLeast(ping, k, timeoutUs)) throw new Error(`ping-pong: ping ${k} never came (last ${mem.load32Acquire(ping)})`);
        break;
      }
    }
    mem.store32Release(pong, k);
  }
}

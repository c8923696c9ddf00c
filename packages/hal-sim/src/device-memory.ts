/**
 * A device address: a number (fast path, exact below 2^53) or a u64 bigint as kernels receive
 * them in `args`. Every simulated device address is below 2^53, so `Number(arg)` is exact.
 */
export type DeviceAddress = number | bigint;

/**
 * What a simulated device kernel can do with memory: everything goes through device
 * addresses. An access that is not wholly inside one open allocation is a device fault: the
 * call throws, the kernel is aborted, and the next `synchronize()` rejects with `EIO` naming the
 * address (even if the kernel caught the throw).
 *
 * @example
 * const kernel: DeviceKernel = (mem, [flag, out]) => {
 *   if (!mem.waitU32AtLeast(flag, 1, 1_000_000)) throw new Error('flag never set');
 *   mem.write8(out, 42);
 *   mem.store32Release(flag + 4n, 1);
 * };
 */
export interface DeviceMemory {
  /** Atomic (sequentially consistent, hence acquire) load of the u32 at a 4-byte aligned address. */
  load32Acquire(addr: DeviceAddress): number;
  /** Atomic release store of a u32 at a 4-byte aligned address; wakes host threads blocked in `Atomics.wait` on it. */
  store32Release(addr: DeviceAddress, value: number): void;
  /**
   * Acquire-polls the u32 at `addr` until it is `>= target` (unsigned). Spins briefly, then
   * sleeps with backoff. Returns false once `timeoutUs` microseconds passed without success.
   */
  waitU32AtLeast(addr: DeviceAddress, target: number, timeoutUs: number): boolean;
  /** Reads one byte. */
  read8(addr: DeviceAddress): number;
  /** Writes one byte (the low 8 bits of `value`). */
  write8(addr: DeviceAddress, value: number): void;
  /** Copies `n` bytes starting at `addr` into a new array. */
  readBytes(addr: DeviceAddress, n: number): Uint8Array;
  /** Copies `src` into device memory starting at `addr`. */
  writeBytes(addr: DeviceAddress, src: Uint8Array): void;
  /**
   * A live view of `[addr, addr + n)` for bulk work, bounds-checked once when created.
   * Plain (non-atomic) accesses: publish results with {@link DeviceMemory.store32Release}.
   */
  bytes(addr: DeviceAddress, n: number): Uint8Array;
}

/**
 * A simulated device kernel: runs on the device thread with 64-bit arguments (usually device
 * addresses and sizes). Throwing or rejecting is a kernel failure reported by `synchronize()`.
 * A module registered as a kernel exports it as `default`, `kernel`, or `module.exports`.
 */
export type DeviceKernel = (mem: DeviceMemory, args: readonly bigint[]) => void | Promise<void>;

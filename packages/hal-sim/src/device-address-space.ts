import { performance } from 'node:perf_hooks';
import { DeviceAddress, DeviceMemory } from './device-memory';
import { MapMessage, Mapping, mapAllocation } from './device-mapping';
import { AllocMessage, CTL_SHUTDOWN_DONE, hexAddress } from './device-protocol';

/** A device access outside every open allocation (or misaligned): aborts the kernel. */
export class DeviceFault extends Error {
  /** The faulting device address. */
  readonly address: number;

  constructor(address: number, message: string) {
    super(message);
    this.address = address;
    this.name = 'DeviceFault';
  }
}

// Spinning answers in well under a microsecond, a sleeping thread takes tens of microseconds to
// wake: spin for a short while first, then sleep with a growing (capped) backoff.
const SPIN_US = 20;
const FIRST_SLEEP_MS = 0.02;
const MAX_SLEEP_MS = 1;

/**
 * The simulated device's view of memory: a table of (device base, length, shared memory),
 * translated on every access. Runs on the device thread only.
 */
export class DeviceAddressSpace implements DeviceMemory {
  private readonly mappings: Mapping[] = [];
  // memfd allocations no kernel has touched yet, by base: mapped on first use, so regions that
  // only the host (or another process) uses cost the device nothing.
  private readonly unmapped = new Map<number, MapMessage>();
  private last: Mapping | undefined;
  /** First fault raised since {@link DeviceAddressSpace.takeFault}; survives a kernel catching the throw. */
  private fault: DeviceFault | undefined;

  /**
   * `drain` synchronously applies allocation messages the host posted but the device has not
   * seen yet; `control` is the control block shared with the host (sleeper count, shutdown).
   */
  constructor(
    private readonly drain: () => void,
    private readonly control: Int32Array,
  ) {}

  /** Applies one allocation-table message from the host. */
  apply(msg: AllocMessage): void {
    if (msg.type === 'map') {
      if (msg.kind === 'memfd') this.unmapped.set(msg.base, msg);
      else this.mappings.push(mapAllocation(msg, this.control));
      return;
    }
    this.last = undefined;
    if (msg.type === 'shutdown') {
      for (const m of this.mappings.splice(0)) m.unmap();
      this.unmapped.clear();
      Atomics.store(this.control, CTL_SHUTDOWN_DONE, 1);
      Atomics.notify(this.control, CTL_SHUTDOWN_DONE);
      return;
    }
    // Never mapped here: the host took its descriptor back when it released it.
    if (this.unmapped.delete(msg.base)) return;
    const i = this.mappings.findIndex((m) => m.base === msg.base);
    if (i >= 0) this.mappings.splice(i, 1)[0].unmap();
  }

  /** Returns and clears the first fault since the last call. */
  takeFault(): DeviceFault | undefined {
    const f = this.fault;
    this.fault = undefined;
    return f;
  }

  load32Acquire(addr: DeviceAddress): number {
    const a = this.address(addr, 'load32');
    const m = this.find(a, 4, 'load32');
    return Atomics.load(m.i32, this.wordIndex(m, a, 'load32')) >>> 0;
  }

  store32Release(addr: DeviceAddress, value: number): void {
    const a = this.address(addr, 'store32');
    const m = this.find(a, 4, 'store32');
    const idx = this.wordIndex(m, a, 'store32');
    requireU32(value, 'store32Release value');
    Atomics.store(m.i32, idx, value | 0);
    m.wake(idx);
  }

  waitU32AtLeast(addr: DeviceAddress, target: number, timeoutUs: number): boolean {
    const a = this.address(addr, 'wait');
    const m = this.find(a, 4, 'wait');
    const idx = this.wordIndex(m, a, 'wait');
    requireU32(target, 'waitU32AtLeast target');
    if (typeof timeoutUs !== 'number' || !(timeoutUs >= 0) || timeoutUs === Infinity) {
      throw new RangeError(`waitU32AtLeast: timeoutUs ${String(timeoutUs)} is not a finite number >= 0`);
    }
    const i32 = m.i32;
    const start = performance.now();
    const deadline = start + timeoutUs / 1000;
    const spinEnd = Math.min(deadline, start + SPIN_US / 1000);
    do {
      for (let i = 0; i < 64; i++) if (Atomics.load(i32, idx) >>> 0 >= target) return true;
    } while (performance.now() < spinEnd);
    let sleepMs = FIRST_SLEEP_MS;
    for (;;) {
      if (Atomics.load(i32, idx) >>> 0 >= target) return true;
      // Released allocations of other regions are given back while this kernel waits.
      this.drain();
      // The host may release the range while we sleep: a late access is a fault, not a crash.
      if (Atomics.load(m.live, 0) !== 1) throw this.raise(a, `wait on u32 in released allocation ${span(m)}`);
      const left = deadline - performance.now();
      if (left <= 0) return false;
      // The mapping announces the sleep before its last look at the word: with sequentially
      // consistent atomics, a publisher either is seen there or sees the announcement and wakes it.
      m.sleep(idx, target, Math.min(sleepMs, left));
      sleepMs = Math.min(sleepMs * 2, MAX_SLEEP_MS);
    }
  }

  read8(addr: DeviceAddress): number {
    const a = this.address(addr, 'read8');
    const m = this.find(a, 1, 'read8');
    return m.u8[a - m.base];
  }

  write8(addr: DeviceAddress, value: number): void {
    const a = this.address(addr, 'write8');
    const m = this.find(a, 1, 'write8');
    m.u8[a - m.base] = value;
  }

  readBytes(addr: DeviceAddress, n: number): Uint8Array {
    return this.bytes(addr, n).slice();
  }

  writeBytes(addr: DeviceAddress, src: Uint8Array): void {
    if (!(src instanceof Uint8Array)) throw new TypeError('writeBytes: src must be a Uint8Array');
    this.bytes(addr, src.length).set(src);
  }

  bytes(addr: DeviceAddress, n: number): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`bytes: length ${String(n)} is not an integer >= 0`);
    const a = this.address(addr, 'access');
    const m = this.find(a, n, `access of ${n} byte(s)`);
    const off = a - m.base;
    return m.u8.subarray(off, off + n);
  }

  /** Normalises a device address to an exact number; anything not a valid address faults. */
  private address(addr: DeviceAddress, what: string): number {
    if (typeof addr === 'number') {
      if (Number.isSafeInteger(addr) && addr >= 0) return addr;
    } else if (typeof addr === 'bigint') {
      if (addr >= 0n && addr <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(addr);
    }
    throw this.raise(Number.NaN, `${what} at invalid device address ${String(addr)}`);
  }

  private find(a: number, n: number, what: string): Mapping {
    const m = this.last;
    if (m !== undefined && a >= m.base && a + n <= m.end && Atomics.load(m.live, 0) === 1) return m;
    return this.slowFind(a, n, what);
  }

  private slowFind(a: number, n: number, what: string): Mapping {
    let m = this.lookup(a);
    if (m === undefined) {
      // The host may have allocated after this kernel started: apply pending table updates.
      this.drain();
      m = this.lookup(a);
    }
    if (m === undefined) throw this.raise(a, `${what} outside every open allocation`);
    if (Atomics.load(m.live, 0) !== 1) throw this.raise(a, `${what} in released allocation ${span(m)}`);
    if (m.failure !== undefined) throw this.raise(a, `${what} in allocation ${span(m)}, which the device could not map (${m.failure})`);
    if (a + n > m.end) throw this.raise(a, `${what} runs past the end of allocation ${span(m)}`);
    this.last = m;
    return m;
  }

  private lookup(a: number): Mapping | undefined {
    // Allocations are separated by unmapped gaps, so at most one can contain `a` (or end at it).
    for (const m of this.mappings) if (a >= m.base && a <= m.end) return m;
    for (const msg of this.unmapped.values()) {
      if (a >= msg.base && a <= msg.base + msg.byteLength) {
        this.unmapped.delete(msg.base);
        const m = mapAllocation(msg, this.control);
        this.mappings.push(m);
        return m;
      }
    }
    return undefined;
  }

  private wordIndex(m: Mapping, a: number, what: string): number {
    if ((a & 3) !== 0) throw this.raise(a, `${what} at a device address that is not 4-byte aligned`);
    return (a - m.base) / 4;
  }

  private raise(a: number, what: string): DeviceFault {
    const where = Number.isNaN(a) ? '' : ` at ${hexAddress(a)}`;
    const f = new DeviceFault(a, `device fault: ${what}${where}`);
    this.fault ??= f;
    return f;
  }
}

function span(m: Mapping): string {
  return `[${hexAddress(m.base)}, ${hexAddress(m.end)})`;
}

function requireU32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${what} ${String(value)} is not a u32`);
  }
}

import {
  BackendAllocation,
  InvalidArgumentError,
  RegionBackend,
  RegionLayout,
  SharedAllocation,
  UnsupportedError,
  checkOptions,
  computeRegionLayout,
  describe,
  requireU32,
  requireU64,
  toU64BigInt,
} from '@simpler/abi';
import { DEVICE_CONTEXT_OPTION_KEYS } from '../options/option-keys';
import { backendFailure } from '../backend/backend-failure';
import { checkBackend } from '../backend/check-backend';
import { allocateChecked, initialiseRegion, releaseQuietly } from './region-allocation';
import { allocateOutput, bytesOfDestination, bytesOfSource, copyIntoTypedArray, typedArrayByteLength, typedArrayKind } from './byte-source';
import { handleTokenOf, unknownHandleError } from './handle-tokens';
import { RegionInfoRecord, RegionRecord, SLOT_STRIDE, createRegionRecord } from './region-record';
import { RegionRegistry } from './region-registry';
import { shareAllocation } from './region-sharing';
import {
  FIRST_SLICE_MS,
  WaitTuning,
  checkWaitTuning,
  nextSlice,
  now,
  sleepOnSignal,
  sleepOnSignalAsync,
  waitAbandonedError,
  waitTimeoutError,
  waitWordAsync,
} from './wait-strategy';

/** Options of a {@link DeviceContext}. */
export interface DeviceContextOptions {
  /** Overrides of the wait spin/backoff budgets. */
  readonly waitTuning?: Partial<WaitTuning>;
}

function noop(): void {}

// Local bindings: the hot paths call them without a cross-module property load.
const kindOf = typedArrayKind;
const byteLengthOf = typedArrayByteLength;

/** A wait that did not complete at its first look. */
interface PendingWait {
  readonly record: RegionRecord;
  readonly index: number;
  readonly target: number;
  readonly timeoutUs: number;
  readonly observed: number;
  readonly start: number;
}

/**
 * The owner-process device context: one backend, the registry of regions opened on it, and
 * every region rule of the spec (validation, zeroed regions with a header, monotonic notify,
 * bounded waits, cache hooks at the release/acquire points). Synchronous except for the
 * waits that must not block an event loop, `synchronize` and `destroy`.
 *
 * @example
 * const ctx = new DeviceContext(backend);
 * const h = ctx.open(4096, 2);
 * ctx.datacopyH2Region(h, 0, Buffer.from('ping'));
 * ctx.notify(h, 0, 1);
 * ctx.waitSync(h, 1, 1, 1_000_000);
 * const reply = ctx.datacopyRegion2H(h, 0, 4);
 * ctx.close(h);
 * await ctx.destroy();
 */
export class DeviceContext {
  /** The backend this context drives. */
  readonly backend: RegionBackend;
  private readonly registry = new RegionRegistry();
  private readonly tuning: WaitTuning;
  private destroyed = false;
  private destroying: Promise<void> | undefined;
  // One-entry lookup cache: protocols hammer one region, and a Map lookup is a measurable share
  // of a 64-byte step. Cleared whenever a region leaves the registry.
  private lastToken = 0;
  private lastRecord: RegionRecord | undefined;

  constructor(backend: unknown, options?: DeviceContextOptions) {
    this.backend = checkBackend(backend);
    this.tuning = checkWaitTuning(checkOptions(options, DEVICE_CONTEXT_OPTION_KEYS)?.waitTuning);
  }

  /** Number of regions currently open. */
  get openRegionCount(): number {
    return this.registry.size;
  }

  /** True once {@link destroy} was called. */
  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /**
   * Opens a region: validates the config (spec 4), allocates it, zeroes it, writes the header,
   * flushes, and registers it under a random non-zero token, which it returns.
   */
  open(dataBytes: unknown, signalCount: unknown, flags: unknown = 0): number {
    this.assertLive();
    const f = requireU32(flags, 'flags');
    if (f !== 0) throw new InvalidArgumentError(`flags must be 0 (reserved), got ${f}`);
    const layout = computeRegionLayout(dataBytes, signalCount);
    const allocation = allocateChecked(this.backend, layout.totalBytes);
    try {
      initialiseRegion(allocation, layout);
      const record = createRegionRecord(this.registry.newToken(), allocation, layout, f);
      this.registry.add(record);
      return record.token;
    } catch (error) {
      releaseQuietly(allocation);
      throw backendFailure(this.backend.name, 'open', error);
    }
  }

  /**
   * Registers memory that another process opened and initialised (an L3 parent's mapping of a
   * chip child's region) under that process's handle token; every region rule then applies here.
   * `EINVAL` when the token is already registered. The context takes ownership of `allocation`.
   */
  adopt(token: number, allocation: BackendAllocation, layout: RegionLayout): void {
    this.assertLive();
    if (!Number.isSafeInteger(token) || token <= 0 || this.registry.get(token) !== undefined) {
      throw new InvalidArgumentError(`cannot adopt region ${describe(token)}: not a free handle token`);
    }
    this.registry.add(createRegionRecord(token, allocation, layout, 0));
  }

  /** What another process needs to map a region's memory; `ENOTSUP` when its backend cannot share it. */
  share(handle: unknown): SharedAllocation {
    const record = this.lookup(handle);
    return shareAllocation(this.backend.name, record.allocation, record.token, record.totalBytes);
  }

  /** Closes a region: unregisters it, then releases its memory. Does not wait for the device. */
  close(handle: unknown): void {
    const record = this.lookup(handle);
    this.registry.remove(record.token);
    this.forget(record.token);
    this.wakeWaiters(record);
    try {
      record.allocation.release();
    } catch (error) {
      throw backendFailure(this.backend.name, 'release', error);
    }
  }

  /** Owner view of a region's info, with the real host pointers. Never send it to another process. */
  info(handle: unknown): RegionInfoRecord {
    return this.lookup(handle).ownerInfo;
  }

  /** Public view of a region's info: host pointers are 0n. */
  publicInfo(handle: unknown): RegionInfoRecord {
    return this.lookup(handle).publicInfo;
  }

  /** Copies host bytes into the data area at `offset`, then flushes that range. */
  datacopyH2Region(handle: unknown, offset: unknown, src: unknown): void {
    const record = this.lookup(handle);
    // The common case without building a view: a real Uint8Array, its length read by the engine's
    // accessor (never a property the caller can redefine); `set` reads only the engine's slots.
    const own = kindOf(src) === 'Uint8Array' ? byteLengthOf(src) : 0;
    const bytes = own !== 0 ? (src as Uint8Array) : bytesOfSource(src);
    const n = own !== 0 ? own : byteLengthOf(bytes);
    const off = this.checkRange(record, offset, n);
    record.data.set(bytes, off);
    this.flush(record, record.dataOffset + off, n);
  }

  /** Copies `nbytes` of the data area at `offset` into a new Buffer (invalidates first). */
  datacopyRegion2H(handle: unknown, offset: unknown, nbytes: unknown): Buffer {
    const record = this.lookup(handle);
    const n = requireU64(nbytes, 'nbytes');
    const off = this.checkRange(record, offset, n);
    this.invalidate(record, record.dataOffset + off, n);
    const out = allocateOutput(n);
    out.set(record.data.subarray(off, off + n));
    return out;
  }

  /** Copies `dst.byteLength` bytes of the data area at `offset` into `dst` (invalidates first). */
  datacopyRegion2HInto(handle: unknown, offset: unknown, dst: unknown): void {
    const record = this.lookup(handle);
    const own = kindOf(dst) === 'Uint8Array' ? byteLengthOf(dst) : 0;
    const target = own !== 0 ? dst : bytesOfDestination(dst);
    const n = own !== 0 ? own : byteLengthOf(target);
    const off = this.checkRange(record, offset, n);
    this.invalidate(record, record.dataOffset + off, n);
    // The engine's `set`, not the target's: a caller's override must never see region memory.
    copyIntoTypedArray(target, record.data.subarray(off, off + n));
  }

  /**
   * Zero-copy write: validates the range, calls `write` with exactly that window of the data
   * area, then flushes it. Errors thrown by `write` propagate (non-typed ones as `EIO`).
   */
  h2regionWith(handle: unknown, offset: unknown, nbytes: unknown, write: (dst: Uint8Array) => void): void {
    const record = this.lookup(handle);
    const n = requireU64(nbytes, 'nbytes');
    const off = this.checkRange(record, offset, n);
    if (typeof write !== 'function') throw new InvalidArgumentError(`write must be a function, got ${describe(write)}`);
    try {
      write(record.data.subarray(off, off + n));
    } catch (error) {
      throw backendFailure(this.backend.name, 'h2region writer', error);
    }
    this.flush(record, record.dataOffset + off, n);
  }

  /** Zero-copy read: validates the range, invalidates it, then calls `read` with that window. */
  region2hWith(handle: unknown, offset: unknown, nbytes: unknown, read: (src: Uint8Array) => void): void {
    const record = this.lookup(handle);
    const n = requireU64(nbytes, 'nbytes');
    const off = this.checkRange(record, offset, n);
    if (typeof read !== 'function') throw new InvalidArgumentError(`read must be a function, got ${describe(read)}`);
    this.invalidate(record, record.dataOffset + off, n);
    try {
      read(record.data.subarray(off, off + n));
    } catch (error) {
      throw backendFailure(this.backend.name, 'region2h reader', error);
    }
  }

  /**
   * Publishes `value` into a signal slot: a release point. Values are monotonic (lower than the
   * current value is `EINVAL`, equal is allowed). Flushes the data area, stores, flushes the slot.
   */
  notify(handle: unknown, signalId: unknown, value: unknown): void {
    const record = this.lookup(handle);
    const index = this.slotIndex(record, signalId);
    const v = typeof value === 'number' && value >>> 0 === value ? value : requireU32(value, 'value');
    const current = Atomics.load(record.signals, index) >>> 0;
    if (v < current) {
      throw new InvalidArgumentError(
        `notify value ${v} is lower than the current value ${current} of signal slot ${index / SLOT_STRIDE}: signal values are monotonic`,
      );
    }
    this.flush(record, record.dataOffset, record.dataBytes);
    Atomics.store(record.signals, index, v | 0);
    const wake = record.allocation.wakeSignal;
    // Atomics.notify costs ~40 ns even with no sleeper: a backend that knows whether its device
    // sleeps does the waking; the core then only wakes its own async waits.
    if (record.shared && (wake === undefined || record.waiters > 0)) Atomics.notify(record.signals, index);
    this.flush(record, record.signalOffset + index * 4, 64);
    if (wake !== undefined) this.wakeDevice(record, wake, record.signalOffset + index * 4);
  }

  /** True when the slot value is >= target (invalidates the slot first). Not an acquire point. */
  probe(handle: unknown, signalId: unknown, target: unknown): boolean {
    const record = this.lookup(handle);
    const index = this.slotIndex(record, signalId);
    const t = typeof target === 'number' && target >>> 0 === target ? target : requireU32(target, 'target');
    return this.observe(record, index) >= t;
  }

  /**
   * Blocks until the slot value is >= target or `timeoutUs` passes (0 = probe). Never throws
   * `EAGAIN` before the deadline; on success invalidates the data area (acquire point).
   */
  waitSync(handle: unknown, signalId: unknown, target: unknown, timeoutUs: unknown): void {
    const pending = this.startWait(handle, signalId, target, timeoutUs);
    if (pending === undefined) return;
    const { record, index, target: t, timeoutUs: timeout, start } = pending;
    let observed = pending.observed;
    const deadline = start + timeout / 1000;
    const spinUntil = start + this.tuning.syncSpinUs / 1000;
    let slice = FIRST_SLICE_MS;
    for (;;) {
      const time = now();
      if (time >= deadline) return this.settleAtDeadline(pending, time);
      if (time >= spinUntil) {
        const ms = slice < deadline - time ? slice : deadline - time;
        if (record.shared) Atomics.wait(record.signals, index, observed | 0, ms);
        else sleepOnSignal(this.backend.name, record.allocation, record.signalOffset + index * 4, observed, ms);
        slice = nextSlice(slice, this.tuning.maxSliceMs, Infinity);
      }
      observed = this.observe(record, index);
      if (observed >= t) return this.acquire(record);
    }
  }

  /**
   * Async bounded wait: like {@link waitSync} but never blocks the event loop for longer than a
   * short spin; it then sleeps on `Atomics.waitAsync` (shared memory) or polls with backoff.
   */
  async waitAsync(handle: unknown, signalId: unknown, target: unknown, timeoutUs: unknown): Promise<void> {
    const pending = this.startWait(handle, signalId, target, timeoutUs);
    if (pending === undefined) return;
    const { record, index, target: t, timeoutUs: timeout, start } = pending;
    let observed = pending.observed;
    const deadline = start + timeout / 1000;
    const spinUntil = start + this.tuning.asyncSpinUs / 1000;
    for (let time = now(); time < spinUntil && time < deadline; time = now()) {
      observed = this.observe(record, index);
      if (observed >= t) return this.acquire(record);
    }
    let slice = FIRST_SLICE_MS;
    record.waiters++;
    // A pending Atomics.waitAsync does not keep Node's event loop alive; this timer does.
    const keepAlive = setTimeout(noop, deadline - now() + 1);
    try {
      for (;;) {
        const time = now();
        if (time >= deadline) return this.settleAtDeadline(pending, time);
        const ms = slice < deadline - time ? slice : deadline - time;
        if (record.shared) await waitWordAsync(record.signals, index, observed | 0, ms);
        else await sleepOnSignalAsync(this.backend.name, record.allocation, record.signalOffset + index * 4, observed, ms);
        slice = nextSlice(slice, this.tuning.maxSliceMs, Infinity);
        // The region may have been closed (its memory released) while this wait slept.
        if (this.destroyed || this.registry.get(record.token) !== record) {
          throw waitAbandonedError(record.token, index / SLOT_STRIDE);
        }
        observed = this.observe(record, index);
        if (observed >= t) return this.acquire(record);
      }
    } finally {
      clearTimeout(keepAlive);
      record.waiters--;
    }
  }

  /** Queues a device kernel; each argument is a u64 (number or bigint). `ENOTSUP` without backend support. */
  launch(kernel: unknown, args: unknown): void {
    this.assertLive();
    if (typeof kernel !== 'string' || kernel.length === 0) {
      throw new InvalidArgumentError(`kernel name must be a non-empty string, got ${describe(kernel)}`);
    }
    if (!Array.isArray(args)) throw new InvalidArgumentError(`kernel args must be an array of u64, got ${describe(args)}`);
    const converted = args.map((a, i) => toU64BigInt(a, `kernel arg ${i}`));
    const backend = this.backend;
    if (typeof backend.launch !== 'function') {
      throw new UnsupportedError(`backend ${backend.name} (platform ${backend.platform}) cannot launch kernels`);
    }
    try {
      backend.launch(kernel, converted);
    } catch (error) {
      throw backendFailure(backend.name, `launch of kernel ${JSON.stringify(kernel)}`, error);
    }
  }

  /** Waits for every queued kernel; rejects with the first kernel failure. */
  async synchronize(): Promise<void> {
    this.assertLive();
    const backend = this.backend;
    if (typeof backend.synchronize !== 'function') {
      throw new UnsupportedError(`backend ${backend.name} (platform ${backend.platform}) cannot synchronize kernels`);
    }
    try {
      await backend.synchronize();
    } catch (error) {
      throw backendFailure(backend.name, 'synchronize', error);
    }
  }

  /**
   * Releases every open region, then the backend. Idempotent (later calls return the same
   * promise); every other call after it is `EINVAL`. Reports the first release failure as `EIO`.
   */
  destroy(): Promise<void> {
    if (!this.destroying) {
      this.destroyed = true;
      this.forget(this.lastToken);
      this.destroying = this.teardown();
    }
    return this.destroying;
  }

  private async teardown(): Promise<void> {
    let failure: Error | undefined;
    for (const record of this.registry.drain()) {
      this.wakeWaiters(record);
      try {
        record.allocation.release();
      } catch (error) {
        failure ??= backendFailure(this.backend.name, 'release', error);
      }
    }
    try {
      await this.backend.destroy();
    } catch (error) {
      failure ??= backendFailure(this.backend.name, 'destroy', error);
    }
    if (failure) throw failure;
  }

  private assertLive(): void {
    if (this.destroyed) throw new InvalidArgumentError('device context destroyed');
  }

  /**
   * The common start of both waits: validates, looks once, and either completes the wait
   * (acquire; returns undefined), fails a probe (`EAGAIN`), or describes what is left to wait for.
   */
  private startWait(handle: unknown, signalId: unknown, target: unknown, timeoutUs: unknown): PendingWait | undefined {
    const record = this.lookup(handle);
    const index = this.slotIndex(record, signalId);
    const t = requireU32(target, 'target');
    const timeout = requireU32(timeoutUs, 'timeout_us');
    const observed = this.observe(record, index);
    if (observed >= t) {
      this.acquire(record);
      return undefined;
    }
    if (timeout === 0) throw waitTimeoutError(record.token, index / SLOT_STRIDE, t, observed, 0, 0);
    return { record, index, target: t, timeoutUs: timeout, observed, start: now() };
  }

  /** The last look of a wait whose deadline passed: success after all, or `EAGAIN` with what was seen. */
  private settleAtDeadline(pending: PendingWait, time: number): void {
    const { record, index, target, timeoutUs, start } = pending;
    const observed = this.observe(record, index);
    if (observed >= target) return this.acquire(record);
    throw waitTimeoutError(record.token, index / SLOT_STRIDE, target, observed, timeoutUs, time - start);
  }

  /** The record of a registered handle, or `EINVAL`. The hot path is one Map lookup. */
  private lookup(handle: unknown): RegionRecord {
    if (handle === this.lastToken && this.lastRecord !== undefined) return this.lastRecord;
    if (this.destroyed) throw new InvalidArgumentError('device context destroyed');
    const token = typeof handle === 'number' ? handle : handleTokenOf(handle);
    const record = this.registry.get(token);
    if (record === undefined) throw unknownHandleError(handle);
    this.lastToken = token;
    this.lastRecord = record;
    return record;
  }

  private forget(token: number): void {
    if (this.lastToken === token) {
      this.lastToken = 0;
      this.lastRecord = undefined;
    }
  }

  /** Validates a signal id and returns the Int32 element index of its value. */
  private slotIndex(record: RegionRecord, signalId: unknown): number {
    const id = typeof signalId === 'number' && signalId >>> 0 === signalId ? signalId : requireU32(signalId, 'signal_id');
    if (id >= record.signalCount) {
      throw new InvalidArgumentError(`signal_id ${id} is out of range: the region has ${record.signalCount} signal slot(s)`);
    }
    return id * SLOT_STRIDE;
  }

  /** Validates a datacopy range in the subtraction form and returns the offset. */
  private checkRange(record: RegionRecord, offset: unknown, nbytes: number): number {
    const off = typeof offset === 'number' && offset >>> 0 === offset ? offset : requireU64(offset, 'offset');
    const dataBytes = record.dataBytes;
    // isValidCopyRange, spelled out on the hot path: the subtraction form, never offset + nbytes.
    if (!(off <= dataBytes && nbytes <= dataBytes - off)) {
      throw new InvalidArgumentError(`datacopy range offset=${off} nbytes=${nbytes} is outside the data area of ${record.dataBytes} bytes`);
    }
    return off;
  }

  /** Loads a slot value as a u32 after invalidating its cache line. */
  private observe(record: RegionRecord, index: number): number {
    this.invalidate(record, record.signalOffset + index * 4, 64);
    return Atomics.load(record.signals, index) >>> 0;
  }

  /** The acquire side of a successful wait: host reads after it must see device writes. */
  private acquire(record: RegionRecord): void {
    this.invalidate(record, record.dataOffset, record.dataBytes);
  }

  private flush(record: RegionRecord, offset: number, length: number): void {
    if (record.allocation.flush !== undefined && length !== 0) this.cacheHook(record, 'flush', offset, length);
  }

  private wakeDevice(record: RegionRecord, wake: (offset: number) => void, offset: number): void {
    try {
      wake.call(record.allocation, offset);
    } catch (error) {
      throw backendFailure(this.backend.name, `wakeSignal(${offset})`, error);
    }
  }

  private invalidate(record: RegionRecord, offset: number, length: number): void {
    if (record.allocation.invalidate !== undefined && length !== 0) this.cacheHook(record, 'invalidate', offset, length);
  }

  /** Runs a present cache hook; a failing one is `EIO` naming the hook and its range. */
  private cacheHook(record: RegionRecord, hook: 'flush' | 'invalidate', offset: number, length: number): void {
    const allocation = record.allocation;
    try {
      allocation[hook]!(offset, length);
    } catch (error) {
      throw backendFailure(this.backend.name, `${hook}(${offset}, ${length})`, error);
    }
  }

  /** Wakes async waits sleeping on a region that is going away, so they fail fast with `EINVAL`. */
  private wakeWaiters(record: RegionRecord): void {
    if (record.waiters === 0 || !record.shared) return;
    for (let i = 0; i < record.signals.length; i += SLOT_STRIDE) Atomics.notify(record.signals, i);
  }
}

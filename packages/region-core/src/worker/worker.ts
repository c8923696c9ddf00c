import {
  InvalidArgumentError,
  MAILBOX_ARG_COUNT,
  MAILBOX_NAME_BYTES,
  checkOptions,
  computeRegionLayout,
  describe,
  isValidCopyRange,
  requireU32,
  requireU64,
  toU64BigInt,
} from '@simpler/abi';
import { bytesOfDestination, bytesOfSource } from '../context/byte-source';
import type { RegionInfoRecord } from '../context/region-record';
import { OPEN_MAPPED_REGION_OPTION_KEYS, WORKER_ID_OPTION_KEYS } from '../options/option-keys';
import { Endpoint, EndpointInfo, RegionAccess } from './endpoint';
import { MappedRegion, MappedRegionOwner } from './mapped-region';

/**
 * Public info of a region: the fields of {@link RegionInfoRecord}, with `hostDataPtr` and
 * `hostSignalPtr` always 0n (host addresses never leave the owner process).
 */
export type MappedRegionInfo = RegionInfoRecord;

/** Options of `openMappedRegion`. */
export interface OpenMappedRegionOptions {
  /** Number of signal slots (default 1). */
  readonly signalCount?: number | bigint;
  /** Reserved, must be 0 (default 0). */
  readonly flags?: number | bigint;
  /** Chip to open the region on (default: the worker's first id); a u32, number or bigint. */
  readonly workerId?: number | bigint;
  /**
   * `'proxied'` forces every call of an L3 region through the chip child; `'direct'` requires
   * the parent to map it (`ENOTSUP` where the backend cannot share its memory). Default: direct
   * where possible. At L2 regions are always direct (`'proxied'` is `EINVAL`).
   */
  readonly access?: RegionAccess;
}

/** Selects a chip; for region calls it must match the region's own `workerId`. */
export interface WorkerIdOption {
  /** Worker (device) id: a u32, number or bigint, compared by value (`0n` is `0`). */
  readonly workerId?: number | bigint;
}

/** Most kernel arguments a launch can carry (the L3 mailbox has ARG0..ARG3). */
export const MAX_KERNEL_ARGS = MAILBOX_ARG_COUNT;

const KERNEL_NAME_PATTERN = /^[\x21-\x7e]+$/;

/**
 * The public async API over one or more chips. At level 2 it has one in-process endpoint; at
 * level 3 one endpoint per chip child. Arguments are validated here, before anything crosses
 * the endpoint seam; the device context behind it validates again.
 *
 * @example
 * await using worker = await createWorker({ level: 2, backend: '@simpler/hal-sim' });
 * const region = await worker.openMappedRegion(1024, { signalCount: 2 });
 * await worker.mappedRegionDatacopyH2Region(region, 0, Buffer.from([1, 2, 3]));
 * await worker.mappedRegionNotify(region, 0, 1);
 */
export class Worker implements MappedRegionOwner {
  /** 2 (in-process device context) or 3 (one chip child process per device). */
  readonly level: 2 | 3;
  /** The worker (device) ids this worker drives, in the order given. */
  readonly workerIds: readonly number[];
  private readonly endpoints = new Map<number, Endpoint>();
  private readonly open = new Map<MappedRegion, number>();
  private readonly mine = new WeakSet<MappedRegion>();
  private closing: Promise<void> | undefined;

  /** Built by `createWorker` (or the L3 factory) over one endpoint per worker id. */
  constructor(level: 2 | 3, endpoints: readonly Endpoint[]) {
    if (level !== 2 && level !== 3) throw new InvalidArgumentError(`level must be 2 or 3, got ${describe(level)}`);
    if (!Array.isArray(endpoints) || endpoints.length === 0) throw new InvalidArgumentError('a worker needs at least one endpoint');
    for (const endpoint of endpoints) {
      if (this.endpoints.has(endpoint.workerId)) throw new InvalidArgumentError(`duplicate worker id ${endpoint.workerId}`);
      this.endpoints.set(endpoint.workerId, endpoint);
    }
    this.level = level;
    this.workerIds = Object.freeze(endpoints.map((e) => e.workerId));
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Opens a region of `dataBytes` bytes with `signalCount` slots on a chip. */
  async openMappedRegion(dataBytes: number | bigint, options?: OpenMappedRegionOptions): Promise<MappedRegion> {
    const opts = checkOptions(options, OPEN_MAPPED_REGION_OPTION_KEYS);
    const endpoint = this.endpointFor(opts?.workerId);
    const signalCount = opts?.signalCount ?? 1;
    const flags = requireU32(opts?.flags ?? 0, 'flags');
    if (flags !== 0) throw new InvalidArgumentError(`flags must be 0 (reserved), got ${flags}`);
    const access = opts?.access;
    if (access !== undefined && access !== 'direct' && access !== 'proxied') {
      throw new InvalidArgumentError(`access must be 'direct' or 'proxied', got ${describe(access)}`);
    }
    const layout = computeRegionLayout(dataBytes, signalCount);
    const handle = await endpoint.open(layout.dataBytes, layout.signalCount, flags, access);
    const region = new MappedRegion(this, handle, endpoint.workerId, layout.dataBytes, layout.signalCount, flags, endpoint.accessOf(handle));
    if (this.closing) {
      // The worker closed while the open was in flight: the endpoint's shutdown released it.
      throw new InvalidArgumentError('worker closed while the region was being opened');
    }
    this.open.set(region, handle);
    this.mine.add(region);
    return region;
  }

  /** Public info of a region (host pointers 0n). */
  async mappedRegionInfo(region: MappedRegion, options?: WorkerIdOption): Promise<MappedRegionInfo> {
    const handle = this.handleOf(region, options);
    return publicInfo(await this.endpoints.get(region.workerId)!.info(handle));
  }

  /** Copies host bytes (Uint8Array, any ArrayBufferView, ArrayBuffer) into the data area at `offset`. */
  async mappedRegionDatacopyH2Region(region: MappedRegion, offset: number | bigint, bytes: ArrayBufferView | ArrayBufferLike, options?: WorkerIdOption): Promise<void> {
    const handle = this.handleOf(region, options);
    // From here on only the engine-built window travels: no endpoint (nor Node's fs behind an L3
    // one) ever reads a property the caller could have redefined.
    const src = bytesOfSource(bytes, 'bytes');
    const off = checkRange(region, offset, src.byteLength);
    await this.endpoints.get(region.workerId)!.h2region(handle, off, src);
  }

  /** Copies `nbytes` of the data area at `offset` out into a new Uint8Array (a Buffer at L2). */
  async mappedRegionDatacopyRegion2H(region: MappedRegion, offset: number | bigint, nbytes: number | bigint, options?: WorkerIdOption): Promise<Uint8Array> {
    const handle = this.handleOf(region, options);
    const n = requireU64(nbytes, 'nbytes');
    const off = checkRange(region, offset, n);
    return this.endpoints.get(region.workerId)!.region2h(handle, off, n);
  }

  /**
   * Copies `dst.byteLength` bytes of the data area at `offset` into a caller-provided view
   * (its real byteOffset/byteLength window, as the engine knows it): no result buffer to
   * allocate, the fast path for large or repeated reads.
   */
  async mappedRegionDatacopyRegion2HInto(region: MappedRegion, offset: number | bigint, dst: ArrayBufferView, options?: WorkerIdOption): Promise<void> {
    const handle = this.handleOf(region, options);
    const view = bytesOfDestination(dst);
    const off = checkRange(region, offset, view.byteLength);
    await this.endpoints.get(region.workerId)!.region2hInto(handle, off, view);
  }

  /** Publishes `value` (u32, monotonic) into a signal slot: a release point for earlier writes. */
  async mappedRegionNotify(region: MappedRegion, signalId: number, value: number, options?: WorkerIdOption): Promise<void> {
    const handle = this.handleOf(region, options);
    const id = checkSignal(region, signalId);
    const v = requireU32(value, 'value');
    await this.endpoints.get(region.workerId)!.notify(handle, id, v);
  }

  /**
   * Resolves once the slot value is >= target: an acquire point. `timeoutUs` 0 probes; otherwise
   * rejects with `WaitTimeoutError` (EAGAIN) at the deadline, never before it.
   */
  async mappedRegionWait(region: MappedRegion, signalId: number, target: number, timeoutUs: number, options?: WorkerIdOption): Promise<void> {
    const handle = this.handleOf(region, options);
    const id = checkSignal(region, signalId);
    const t = requireU32(target, 'target');
    const timeout = requireU32(timeoutUs, 'timeout_us');
    await this.endpoints.get(region.workerId)!.wait(handle, id, t, timeout);
  }

  /** Closes a region: releases its memory on the chip. Closing again is `EINVAL`. */
  async closeMappedRegion(region: MappedRegion, options?: WorkerIdOption): Promise<void> {
    const handle = this.handleOf(region, options);
    // Closed from now on, so calls racing with this close fail before they reach the chip.
    this.open.delete(region);
    await this.endpoints.get(region.workerId)!.close(handle);
  }

  /** Queues a device kernel with up to 4 u64 arguments (numbers or bigints). */
  async launch(kernel: string, args: readonly (bigint | number)[] = [], options?: WorkerIdOption): Promise<void> {
    const endpoint = this.endpointFor(checkOptions(options, WORKER_ID_OPTION_KEYS)?.workerId);
    checkKernelName(kernel);
    if (!Array.isArray(args)) throw new InvalidArgumentError(`kernel args must be an array, got ${describe(args)}`);
    if (args.length > MAX_KERNEL_ARGS) throw new InvalidArgumentError(`a kernel takes at most ${MAX_KERNEL_ARGS} args, got ${args.length}`);
    const converted = args.map((a, i) => toU64BigInt(a, `kernel arg ${i}`));
    await endpoint.launch(kernel, converted);
  }

  /** Platform of a chip's backend (default: the first worker id), e.g. `a2a3sim` on the simulator. */
  platformOf(workerId?: number | bigint): string {
    return this.endpointFor(workerId).platform;
  }

  /** Waits for every kernel queued on a chip; rejects with the first kernel failure. */
  async synchronize(options?: WorkerIdOption): Promise<void> {
    await this.endpointFor(checkOptions(options, WORKER_ID_OPTION_KEYS)?.workerId).synchronize();
  }

  /**
   * Releases every region and every chip. Idempotent: later calls return the same promise;
   * every other call after it is `EINVAL`.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** `await using worker = await createWorker(...)` closes the worker at scope exit. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** @internal MappedRegionOwner: true while the region is open in this worker. */
  isOpen(region: MappedRegion): boolean {
    return this.open.has(region);
  }

  private async shutdown(): Promise<void> {
    this.open.clear();
    const results = await Promise.allSettled([...this.endpoints.values()].map((e) => e.shutdown()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private assertOpen(): void {
    if (this.closing) throw new InvalidArgumentError('worker is closed');
  }

  /** The endpoint for an explicit or default worker id (a u32, number or bigint). */
  private endpointFor(workerId: unknown): Endpoint {
    this.assertOpen();
    if (workerId === undefined) return this.endpoints.get(this.workerIds[0])!;
    const id = requireU32(workerId, 'workerId');
    const endpoint = this.endpoints.get(id);
    if (!endpoint) throw new InvalidArgumentError(`workerId ${id} is not one of this worker's ids [${this.workerIds.join(', ')}]`);
    return endpoint;
  }

  /** The handle of an open region of this worker, after the workerId rule; `EINVAL` otherwise. */
  private handleOf(region: MappedRegion, options: WorkerIdOption | undefined): number {
    this.assertOpen();
    const handle = this.open.get(region);
    if (handle === undefined) {
      if (region instanceof MappedRegion && this.mine.has(region)) throw new InvalidArgumentError(`region ${region.handle} is closed`);
      if (region instanceof MappedRegion) throw new InvalidArgumentError(`region ${region.handle} does not belong to this worker`);
      throw new InvalidArgumentError(`expected a MappedRegion from openMappedRegion, got ${describe(region)}`);
    }
    if (options !== undefined) {
      const workerId = checkOptions(options, WORKER_ID_OPTION_KEYS)!.workerId;
      // Compared as normalised u32s: `0n` names the same chip as `0`, at every call.
      if (workerId !== undefined && requireU32(workerId, 'workerId') !== region.workerId) {
        throw new InvalidArgumentError(`workerId ${describe(workerId)} does not match the region's workerId ${region.workerId}`);
      }
    }
    return handle;
  }
}

function checkRange(region: MappedRegion, offset: unknown, nbytes: number): number {
  const off = requireU64(offset, 'offset');
  if (!isValidCopyRange(region.dataBytes, off, nbytes)) {
    throw new InvalidArgumentError(`datacopy range offset=${off} nbytes=${nbytes} is outside the data area of ${region.dataBytes} bytes`);
  }
  return off;
}

function checkSignal(region: MappedRegion, signalId: unknown): number {
  const id = requireU32(signalId, 'signal_id');
  if (id >= region.signalCount) {
    throw new InvalidArgumentError(`signal_id ${id} is out of range: the region has ${region.signalCount} signal slot(s)`);
  }
  return id;
}

/** Kernel names travel in the 32-byte mailbox name field at L3; the same rule holds at L2. */
function checkKernelName(kernel: unknown): void {
  if (typeof kernel !== 'string' || !KERNEL_NAME_PATTERN.test(kernel) || kernel.length > MAILBOX_NAME_BYTES - 1) {
    throw new InvalidArgumentError(`kernel name must be 1..${MAILBOX_NAME_BYTES - 1} printable ASCII characters, got ${describe(kernel)}`);
  }
}

function publicInfo(info: EndpointInfo): MappedRegionInfo {
  return Object.freeze({
    hostDataPtr: 0n,
    deviceDataPtr: info.deviceDataPtr,
    hostSignalPtr: 0n,
    deviceSignalPtr: info.deviceSignalPtr,
    dataBytes: info.dataBytes,
    signalCount: info.signalCount,
    totalBytes: info.totalBytes,
    flags: info.flags,
  });
}

import { BACKEND_ABI_VERSION, RegionBackend, UnsupportedError, computeRegionLayout, isRegionError } from '@simpler/abi';
import { DeviceContext } from '../../context/device-context';
import type { WaitTuning } from '../../context/wait-strategy';
import type { Endpoint, EndpointInfo, RegionAccess } from '../../worker/endpoint';
import type { ChipEndpoint } from '../chip-endpoint';
import { requireShm, shmUnavailableReason } from '../shm-loader';
import { DirectLauncher } from './direct-launcher';
import { DirectUnavailableError, importRegion } from './imported-region';

/** The parent's stand-in backend for memory that chip children allocated: it allocates nothing. */
function importedMemoryBackend(chip: ChipEndpoint): RegionBackend {
  return {
    name: `worker ${chip.workerId} (direct)`,
    platform: chip.platform,
    abiVersion: BACKEND_ABI_VERSION,
    deviceId: chip.workerId,
    allocate: () => {
      throw new UnsupportedError('direct regions are opened by the chip child, never allocated in the parent');
    },
    destroy: () => undefined,
  };
}

/**
 * An L3 chip as the Worker sees it: the chip child serves open, close, info, launch and
 * synchronize, and every proxied region; a *direct* region (one whose backend shares its memory)
 * is mapped here and its datacopy, notify and wait run against that mapping, through the same
 * device-context rules as at L2, with no request to the child.
 *
 * Lifetime: the parent unmaps a direct region before asking the child to close it; when the
 * child is lost every direct mapping is dropped and every call on its regions is `EIO`.
 */
export class DirectEndpoint implements Endpoint {
  /** Worker id (the chip's device id). */
  readonly workerId: number;
  private readonly context: DeviceContext;
  private readonly direct = new Set<number>();
  private readonly launcher: DirectLauncher;
  /** Direct waits in progress: shutdown lets them settle, so no sleep outlives the mappings' release. */
  private readonly waits = new Set<Promise<void>>();
  private lostError: Error | undefined;
  /** Why regions of this chip cannot be direct, once known (then they are all proxied). */
  private unavailable: string | undefined;

  constructor(
    /** The chip child that owns every region. */
    readonly chip: ChipEndpoint,
    waitTuning?: Partial<WaitTuning>,
  ) {
    this.workerId = chip.workerId;
    this.context = new DeviceContext(importedMemoryBackend(chip), { waitTuning });
    this.launcher = new DirectLauncher(chip);
    chip.onLost((error) => {
      this.lostError = error;
      void this.context.destroy().catch(() => undefined);
    });
  }

  /** Platform of the chip's backend. */
  get platform(): string {
    return this.chip.platform;
  }

  async open(dataBytes: number, signalCount: number, flags: number, access?: RegionAccess): Promise<number> {
    if (access === 'direct' && this.unavailable !== undefined) throw this.notDirect(this.unavailable);
    const handle = await this.chip.open(dataBytes, signalCount, flags);
    if (access === 'proxied' || this.unavailable !== undefined) return handle;
    try {
      await this.adopt(handle, dataBytes, signalCount);
      return handle;
    } catch (error) {
      const reason = error instanceof DirectUnavailableError ? error.message : undefined;
      if (reason !== undefined) this.unavailable = reason;
      if (reason !== undefined && access === undefined) return handle;
      await this.chip.close(handle).catch(() => undefined);
      throw reason !== undefined ? this.notDirect(reason) : error;
    }
  }

  /** Asks the child for the region's memory and maps it here. */
  private async adopt(handle: number, dataBytes: number, signalCount: number): Promise<void> {
    const missing = shmUnavailableReason();
    if (missing !== undefined) throw new DirectUnavailableError(`shared memory is not available in this process (${missing})`);
    const pid = this.chip.pid;
    if (pid === undefined) throw new DirectUnavailableError('the chip child has no process id');
    let reply;
    try {
      reply = await this.chip.share(handle);
    } catch (error) {
      if (isRegionError(error) && error.code === 'ENOTSUP') throw new DirectUnavailableError(error.message);
      throw error;
    }
    const layout = computeRegionLayout(dataBytes, signalCount);
    const allocation = importRegion(requireShm('direct regions'), pid, reply, layout, this.workerId);
    try {
      if (this.lostError !== undefined) throw this.lostError;
      // EINVAL once shutdown began: the worker reports the open as closed under it.
      this.context.adopt(handle, allocation, layout);
    } catch (error) {
      allocation.release();
      throw error;
    }
    this.direct.add(handle);
  }

  private notDirect(reason: string): UnsupportedError {
    return new UnsupportedError(`worker ${this.workerId}: access 'direct' is not available: ${reason}`);
  }

  accessOf(handle: number): RegionAccess {
    return this.direct.has(handle) ? 'direct' : 'proxied';
  }

  async close(handle: number): Promise<void> {
    if (this.direct.delete(handle) && this.lostError === undefined) {
      // Unmapped here (pending waits fail with EINVAL) before the child releases the memory.
      this.context.close(handle);
    }
    await this.chip.close(handle);
  }

  info(handle: number): Promise<EndpointInfo> {
    return this.chip.info(handle);
  }

  async h2region(handle: number, offset: number, src: Uint8Array): Promise<void> {
    if (!this.direct.has(handle)) return this.chip.h2region(handle, offset, src);
    this.context.datacopyH2Region(this.live(handle), offset, src);
  }

  async region2h(handle: number, offset: number, nbytes: number): Promise<Uint8Array> {
    if (!this.direct.has(handle)) return this.chip.region2h(handle, offset, nbytes);
    return this.context.datacopyRegion2H(this.live(handle), offset, nbytes);
  }

  async region2hInto(handle: number, offset: number, dst: Uint8Array): Promise<void> {
    if (!this.direct.has(handle)) return this.chip.region2hInto(handle, offset, dst);
    this.context.datacopyRegion2HInto(this.live(handle), offset, dst);
  }

  async notify(handle: number, signalId: number, value: number): Promise<void> {
    if (!this.direct.has(handle)) return this.chip.notify(handle, signalId, value);
    this.context.notify(this.live(handle), signalId, value);
  }

  async wait(handle: number, signalId: number, target: number, timeoutUs: number): Promise<void> {
    if (!this.direct.has(handle)) return this.chip.wait(handle, signalId, target, timeoutUs);
    const waiting = this.context.waitAsync(this.live(handle), signalId, target, timeoutUs);
    this.waits.add(waiting);
    try {
      await waiting;
    } catch (error) {
      // The child died while this wait slept: the mapping is gone, and the cause is the child.
      throw this.lostError ?? error;
    } finally {
      this.waits.delete(waiting);
    }
  }

  /** Through the chip's launch queue mapped here when it can be, else a request to the child (see {@link DirectLauncher}). */
  launch(kernel: string, args: readonly bigint[]): Promise<void> {
    return this.launcher.launch(kernel, args);
  }

  synchronize(): Promise<void> {
    return this.chip.synchronize();
  }

  /** Drops every direct mapping (pending direct waits fail with `EINVAL`), then shuts the child down. */
  async shutdown(): Promise<void> {
    await this.context.destroy().catch(() => undefined);
    // Woken by the release: each ends within moments (at most one wait slice), mapping and all.
    await Promise.allSettled([...this.waits]);
    this.launcher.release();
    await this.chip.shutdown();
  }

  /** The handle, unless the child was lost (then `EIO`, the child's failure). */
  private live(handle: number): number {
    if (this.lostError !== undefined) throw this.lostError;
    return handle;
  }
}

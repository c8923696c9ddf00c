import {
  BACKEND_ABI_VERSION,
  BackendError,
  DEV_SVM_MAP_HOST,
  InvalidArgumentError,
  RegionBackend,
  UnsupportedError,
  describe,
} from '@simpler/abi';
import { AllocationOwner, AscendAllocation, CacheMaintainedAllocation } from './ascend-allocation';
import { AscendBackendOptions, resolveAscendOptions } from './backend-options';
import { ACL_SUCCESS, DRV_ERROR_NONE, callFailed, combineFailures, mallocFailed } from './errors';
import { HostOrderingSupport, orderingDependsOnRuntime, requireHostOrdering } from './host-ordering';
import { DriverApi } from './native/driver-api';
import { addressOf, hostView, isNullPointer } from './native/host-view';
import { loadAscendLibraries } from './native/load-libraries';
import { ACL_MEM_MALLOC_HUGE_FIRST, RuntimeApi } from './native/runtime-api';
import { acquireRuntime, releaseRuntime } from './runtime-session';

/** Package name of this backend, checked by the core against `backend.name`. */
export const BACKEND_NAME = '@simpler/hal-ascend';

/**
 * The Ascend backend for one device: device memory from the runtime, mapped into the host by the
 * driver. Create it with {@link createBackend}. It has no `launch`/`synchronize`: starting device
 * kernels needs compiled kernel binaries this package does not ship, so the core reports `ENOTSUP`.
 *
 * @example
 * const backend = createBackend({ deviceId: 0 });
 * const mem = backend.allocate(4096); // mem.bytes is the host view, mem.deviceBase the device address
 * mem.release();
 * backend.destroy();
 */
export class AscendBackend implements RegionBackend, AllocationOwner {
  readonly name = BACKEND_NAME;
  readonly abiVersion = BACKEND_ABI_VERSION;
  readonly platform: string;
  readonly deviceId: number;
  /** Where the driver library was loaded from. */
  readonly halPath: string;
  /** Where the runtime library was loaded from. */
  readonly runtimePath: string;
  /** @internal */
  readonly driver: DriverApi;
  /** @internal */
  readonly runtime: RuntimeApi;
  /** How the host ordering is honoured; `cacheMaintenance` means allocations carry flush/invalidate. */
  readonly ordering: HostOrderingSupport;
  private readonly live = new Set<AscendAllocation>();
  // Device pointers whose aclrtFree failed: retried once more at destroy so nothing leaks quietly.
  private readonly unfreed: bigint[] = [];
  private destroyed = false;

  /** @internal Use {@link createBackend}. */
  constructor(init: {
    deviceId: number;
    platform: string;
    driver: DriverApi;
    runtime: RuntimeApi;
    halPath: string;
    runtimePath: string;
    ordering: HostOrderingSupport;
  }) {
    if (init.ordering.cacheMaintenance && (init.runtime.aclrtMemFlush === undefined || init.runtime.aclrtMemInvalidate === undefined)) {
      throw new UnsupportedError(`cache maintenance needs aclrtMemFlush and aclrtMemInvalidate, missing from ${init.runtimePath}`);
    }
    this.ordering = init.ordering;
    this.deviceId = init.deviceId;
    this.platform = init.platform;
    this.driver = init.driver;
    this.runtime = init.runtime;
    this.halPath = init.halPath;
    this.runtimePath = init.runtimePath;
  }

  /**
   * aclrtMalloc(total, ACL_MEM_MALLOC_HUGE_FIRST), then halHostRegister(dev, total,
   * DEV_SVM_MAP_HOST, deviceId, &host), then a zero-filled host view. Any failure undoes the
   * earlier steps. `ENOMEM` when the runtime refuses the memory, `EIO` for any other failure.
   */
  allocate(totalBytes: number): AscendAllocation {
    if (this.destroyed) throw new InvalidArgumentError(`hal-ascend backend for device ${this.deviceId} is destroyed`);
    if (typeof totalBytes !== 'number' || !Number.isSafeInteger(totalBytes) || totalBytes <= 0) {
      throw new InvalidArgumentError(`totalBytes must be a positive safe integer, got ${describe(totalBytes)}`);
    }
    const devOut: [bigint | null] = [null];
    const mrc = this.runtime.aclrtMalloc(devOut, totalBytes, ACL_MEM_MALLOC_HUGE_FIRST);
    if (mrc !== ACL_SUCCESS) throw mallocFailed(mrc, totalBytes, this.deviceId);
    if (isNullPointer(devOut[0])) {
      throw new BackendError(`aclrtMalloc of ${totalBytes} bytes on device ${this.deviceId} returned success but a null pointer`);
    }
    const dev = addressOf(devOut[0]);
    const context = `(device ${this.deviceId}, device pointer 0x${dev.toString(16)}, ${totalBytes} bytes)`;

    const hostOut: [bigint | null] = [null];
    const rrc = this.driver.halHostRegister(dev, totalBytes, DEV_SVM_MAP_HOST, this.deviceId, hostOut);
    if (rrc !== DRV_ERROR_NONE) {
      throw this.rollback(dev, false, callFailed('driver', `halHostRegister(flag DEV_SVM_MAP_HOST=${DEV_SVM_MAP_HOST})`, rrc, context));
    }
    if (isNullPointer(hostOut[0])) {
      // Success without a mapping: the driver may still hold a registration, so undo both.
      throw this.rollback(dev, true, new BackendError(`halHostRegister returned success but a null host pointer ${context}`), true);
    }
    const host = addressOf(hostOut[0]);
    let bytes: Uint8Array;
    try {
      bytes = hostView(host, totalBytes);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw this.rollback(dev, true, new BackendError(`cannot create a host view of ${totalBytes} bytes at 0x${host.toString(16)}: ${reason}`));
    }
    // Device memory is not guaranteed to be zero; the region contract says a new one is.
    bytes.fill(0);
    const allocation = this.ordering.cacheMaintenance
      ? new CacheMaintainedAllocation(this, dev, bytes, host)
      : new AscendAllocation(this, dev, bytes, host);
    this.live.add(allocation);
    return allocation;
  }

  /** Undoes a partial allocation and returns the error to throw, with any rollback failure appended. */
  private rollback(dev: bigint, registered: boolean, error: BackendError, ignoreUnregister = false): BackendError {
    const problems: string[] = [];
    if (registered) {
      const urc = this.driver.halHostUnregister(dev, this.deviceId);
      if (urc !== DRV_ERROR_NONE && !ignoreUnregister) problems.push(`rollback halHostUnregister returned ${urc}`);
    }
    const frc = this.runtime.aclrtFree(dev);
    if (frc !== ACL_SUCCESS) {
      this.unfreed.push(dev);
      problems.push(`rollback aclrtFree returned ${frc}`);
    }
    return problems.length === 0 ? error : new BackendError(`${error.message}; ${problems.join('; ')}`, { cause: error });
  }

  /** @internal Bookkeeping for {@link AscendAllocation.release}. */
  onReleased(allocation: AscendAllocation, freeFailed: boolean): void {
    this.live.delete(allocation);
    if (freeFailed) this.unfreed.push(allocation.devicePointer);
  }

  /**
   * Releases what is left (allocations still open, frees that failed earlier), then
   * aclrtResetDevice and, for the last backend of the process, aclFinalize. Every step is
   * attempted; failures are reported together as `EIO`. A second call does nothing.
   */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const failures: Error[] = [];
    for (const allocation of [...this.live]) {
      try {
        allocation.release();
      } catch (error) {
        failures.push(error as Error);
      }
    }
    for (const dev of this.unfreed.splice(0)) {
      const rc = this.runtime.aclrtFree(dev);
      if (rc !== ACL_SUCCESS) failures.push(callFailed('runtime', 'aclrtFree (retry)', rc, `(device pointer 0x${dev.toString(16)})`));
    }
    const rrc = this.runtime.aclrtResetDevice(this.deviceId);
    if (rrc !== ACL_SUCCESS) failures.push(callFailed('runtime', `aclrtResetDevice(${this.deviceId})`, rrc, `(runtime library ${this.runtimePath})`));
    const finalizeFailure = releaseRuntime(this.runtime, this.runtimePath);
    if (finalizeFailure) failures.push(finalizeFailure);
    if (failures.length > 0) throw combineFailures(`destroying the hal-ascend backend for device ${this.deviceId}`, failures);
  }
}

/**
 * Creates the Ascend backend for one device: checks the host can honour the ordering (x64; arm64
 * when the runtime exports aclrtMemFlush and aclrtMemInvalidate), loads the driver and runtime
 * libraries, `aclInit(NULL)` (shared by the process) and `aclrtSetDevice(deviceId)`. `ENOTSUP` on
 * other hosts or an arm64 host without those symbols, `EIO` when a library, a required symbol or
 * a call fails, `EINVAL` for malformed options.
 */
export function createBackend(options: AscendBackendOptions): AscendBackend {
  const resolved = resolveAscendOptions(options);
  // Hosts that can never work are refused before any library is touched.
  if (!orderingDependsOnRuntime(resolved.arch)) requireHostOrdering(resolved.arch);
  const libs = loadAscendLibraries(resolved);
  const ordering = requireHostOrdering(
    resolved.arch,
    { aclrtMemFlush: libs.runtime.aclrtMemFlush !== undefined, aclrtMemInvalidate: libs.runtime.aclrtMemInvalidate !== undefined },
    `(runtime library ${libs.runtimePath})`,
  );
  acquireRuntime(libs.runtime, libs.runtimePath);
  const rc = libs.runtime.aclrtSetDevice(resolved.deviceId);
  if (rc !== ACL_SUCCESS) {
    const error = callFailed('runtime', `aclrtSetDevice(${resolved.deviceId})`, rc, `(runtime library ${libs.runtimePath})`);
    const finalizeFailure = releaseRuntime(libs.runtime, libs.runtimePath);
    throw finalizeFailure ? combineFailures('creating the hal-ascend backend', [error, finalizeFailure]) : error;
  }
  return new AscendBackend({ deviceId: resolved.deviceId, platform: resolved.platform, ...libs, ordering });
}

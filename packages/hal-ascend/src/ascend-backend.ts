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
import { DeviceIdConversion, DriverDeviceId, deviceLabel, driverDeviceId } from './device-ids';
import { ACL_SUCCESS, DRV_ERROR_NONE, callFailed, combineFailures, mallocFailed } from './errors';
import { HostOrderingSupport, orderingDependsOnRuntime, requireHostOrdering } from './host-ordering';
import { DriverApi } from './native/driver-api';
import { addressOf, hostView, isNullPointer } from './native/host-view';
import { loadAscendLibraries } from './native/load-libraries';
import { ACL_MEM_MALLOC_HUGE_FIRST, RuntimeApi } from './native/runtime-api';
import { QuarantineReport, QuarantinedPair, enterQuarantine, leaveQuarantine, summarizeQuarantine } from './quarantine';
import { acquireRuntime, releaseRuntime } from './runtime-session';
import { TeardownStage, freeDeviceMemory, pairContext, unmapThenFree } from './unmap-then-free';

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
  /** The user-visible device id (aclrtSetDevice, aclrtResetDevice). */
  readonly deviceId: number;
  /** The driver's id of the device (halHostRegister, halHostUnregister); see {@link deviceIdConversion}. */
  readonly logicalDeviceId: number;
  /** How {@link logicalDeviceId} was obtained: `unchanged` when the runtime cannot convert ids. */
  readonly deviceIdConversion: DeviceIdConversion;
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
  // Pairs whose unmap failed: never freed while they may be mapped; retried at destroy.
  private readonly quarantined = new Set<QuarantinedPair>();
  private destroyed = false;

  /** @internal Use {@link createBackend}. */
  constructor(init: {
    deviceId: number;
    logicalDeviceId: number;
    deviceIdConversion: DeviceIdConversion;
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
    this.logicalDeviceId = init.logicalDeviceId;
    this.deviceIdConversion = init.deviceIdConversion;
    this.platform = init.platform;
    this.driver = init.driver;
    this.runtime = init.runtime;
    this.halPath = init.halPath;
    this.runtimePath = init.runtimePath;
  }

  /** The device memory this backend keeps because its host mapping could not be removed. */
  get quarantine(): QuarantineReport {
    return summarizeQuarantine(this.quarantined);
  }

  /**
   * aclrtMalloc(total, ACL_MEM_MALLOC_HUGE_FIRST), then halHostRegister(dev, total,
   * DEV_SVM_MAP_HOST, logicalDeviceId, &host), then a zero-filled host view. Any failure undoes the
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
    const context = pairContext(this, dev, totalBytes);

    const hostOut: [bigint | null] = [null];
    const rrc = this.driver.halHostRegister(dev, totalBytes, DEV_SVM_MAP_HOST, this.logicalDeviceId, hostOut);
    if (rrc !== DRV_ERROR_NONE) {
      throw this.rollback(dev, totalBytes, 'unregistered', callFailed('driver', `halHostRegister(flag DEV_SVM_MAP_HOST=${DEV_SVM_MAP_HOST})`, rrc, context));
    }
    if (isNullPointer(hostOut[0])) {
      throw this.rollback(dev, totalBytes, 'unmappedRegistration', new BackendError(`halHostRegister returned success but a null host pointer ${context}`));
    }
    const host = addressOf(hostOut[0]);
    let bytes: Uint8Array;
    try {
      bytes = hostView(host, totalBytes);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw this.rollback(dev, totalBytes, 'mapped', new BackendError(`cannot create a host view of ${totalBytes} bytes at 0x${host.toString(16)}: ${reason}`));
    }
    // Device memory is not guaranteed to be zero; the region contract says a new one is.
    bytes.fill(0);
    const allocation = this.ordering.cacheMaintenance
      ? new CacheMaintainedAllocation(this, dev, bytes, host)
      : new AscendAllocation(this, dev, bytes, host);
    this.live.add(allocation);
    return allocation;
  }

  /**
   * Undoes a partial allocation and returns the error to throw, with any rollback failure
   * appended. `mapped`: the host mapping exists, so a failed unmap quarantines the pair like
   * a release does. `unmappedRegistration`: the driver reported success without a host pointer,
   * so it may hold a registration but nothing maps the memory; the unregister is attempted and
   * its result ignored.
   */
  private rollback(dev: bigint, totalBytes: number, state: 'unregistered' | 'unmappedRegistration' | 'mapped', error: BackendError): BackendError {
    const failures: Error[] = [];
    if (state === 'mapped') {
      this.keep(dev, totalBytes, unmapThenFree(this, dev, totalBytes, failures));
    } else {
      if (state === 'unmappedRegistration') this.driver.halHostUnregister(dev, this.logicalDeviceId);
      if (!freeDeviceMemory(this, dev, failures, `${pairContext(this, dev, totalBytes)}; the free is retried when the backend is destroyed`)) this.unfreed.push(dev);
    }
    if (failures.length === 0) return error;
    return new BackendError(`${error.message}; rollback: ${failures.map((f) => f.message).join('; ')}`, { cause: error });
  }

  /** Keeps what a teardown left: a still-mapped pair in quarantine, an unfreed pointer for the retry. */
  private keep(dev: bigint, byteLength: number, stage: TeardownStage): void {
    if (stage === 'mapped') {
      const pair: QuarantinedPair = { devicePointer: dev, byteLength };
      this.quarantined.add(pair);
      enterQuarantine(pair);
    } else if (stage === 'unfreed') {
      this.unfreed.push(dev);
    }
  }

  /** @internal Bookkeeping for {@link AscendAllocation.release}. */
  onReleased(allocation: AscendAllocation, stage: TeardownStage): void {
    this.live.delete(allocation);
    this.keep(allocation.devicePointer, allocation.bytes.byteLength, stage);
  }

  /**
   * Releases what is left (allocations still open; quarantined pairs: unregister, then free; frees
   * that failed earlier), then aclrtResetDevice and, for the last backend of the process,
   * aclFinalize. A pair whose unregister fails again stays allocated and mapped for the life of
   * the process (see {@link quarantine}). Every step is attempted; failures are reported
   * together as `EIO`. A second call does nothing.
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
    for (const pair of [...this.quarantined]) {
      if (unmapThenFree(this, pair.devicePointer, pair.byteLength, failures, true) === 'mapped') continue;
      this.quarantined.delete(pair);
      leaveQuarantine(pair);
    }
    for (const dev of this.unfreed.splice(0)) {
      freeDeviceMemory(this, dev, failures, `(${deviceLabel(this.deviceId, this.logicalDeviceId)}, device pointer 0x${dev.toString(16)})`, ' (retry)');
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
 * libraries, `aclInit(NULL)` (shared by the process), `aclrtSetDevice(deviceId)` and, when the
 * runtime exports it, `aclrtGetLogicDevIdByUserDevId(deviceId)` for the driver's id. `ENOTSUP` on
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
  const where = `(runtime library ${libs.runtimePath})`;
  // Undoes the runtime steps taken so far and returns what to throw.
  const undo = (error: Error, deviceSet: boolean): Error => {
    const failures = [error];
    if (deviceSet) {
      const rc = libs.runtime.aclrtResetDevice(resolved.deviceId);
      if (rc !== ACL_SUCCESS) failures.push(callFailed('runtime', `aclrtResetDevice(${resolved.deviceId})`, rc, where));
    }
    const finalizeFailure = releaseRuntime(libs.runtime, libs.runtimePath);
    if (finalizeFailure) failures.push(finalizeFailure);
    return failures.length === 1 ? error : combineFailures('creating the hal-ascend backend', failures);
  };
  const rc = libs.runtime.aclrtSetDevice(resolved.deviceId);
  if (rc !== ACL_SUCCESS) throw undo(callFailed('runtime', `aclrtSetDevice(${resolved.deviceId})`, rc, where), false);
  let ids: DriverDeviceId;
  try {
    ids = driverDeviceId(libs.runtime, resolved.deviceId, libs.runtimePath);
  } catch (error) {
    throw undo(error as Error, true);
  }
  return new AscendBackend({
    deviceId: resolved.deviceId,
    logicalDeviceId: ids.logicalDeviceId,
    deviceIdConversion: ids.conversion,
    platform: resolved.platform,
    ...libs,
    ordering,
  });
}

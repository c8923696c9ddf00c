import { BackendAllocation } from '@simpler/abi';
import { ACL_SUCCESS, DRV_ERROR_NONE, callFailed, combineFailures } from './errors';
import { DriverApi } from './native/driver-api';
import { RuntimeApi } from './native/runtime-api';

/** What an allocation needs from the backend that made it. */
export interface AllocationOwner {
  /** The driver functions. */
  readonly driver: DriverApi;
  /** The runtime functions. */
  readonly runtime: RuntimeApi;
  /** Device the memory belongs to. */
  readonly deviceId: number;
  /** Called once the allocation is released; `freeFailed` keeps the device pointer for a retry at destroy. */
  onReleased(allocation: AscendAllocation, freeFailed: boolean): void;
}

/**
 * Device memory from aclrtMalloc, mapped into the host with halHostRegister. x64 hosts only, so
 * there are no cache hooks (see host-ordering.ts).
 */
export class AscendAllocation implements BackendAllocation {
  readonly bytes: Uint8Array;
  readonly hostBase: bigint;
  readonly deviceBase: bigint;
  private released = false;

  constructor(
    private readonly owner: AllocationOwner,
    /** The device pointer as koffi returned it; also the key of the host registration. */
    readonly devicePointer: bigint,
    bytes: Uint8Array,
    hostBase: bigint,
  ) {
    this.bytes = bytes;
    this.hostBase = hostBase;
    this.deviceBase = devicePointer;
  }

  /**
   * Unmaps the host view (halHostUnregister, keyed by the registered device pointer), then frees
   * the device memory, even when the unmap failed. A second call does nothing. Failures are `EIO`.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    const { driver, runtime, deviceId } = this.owner;
    const failures: Error[] = [];
    const context = `(device ${deviceId}, device pointer 0x${this.devicePointer.toString(16)}, ${this.bytes.byteLength} bytes)`;
    const urc = driver.halHostUnregister(this.devicePointer, deviceId);
    if (urc !== DRV_ERROR_NONE) failures.push(callFailed('driver', 'halHostUnregister', urc, context));
    const frc = runtime.aclrtFree(this.devicePointer);
    if (frc !== ACL_SUCCESS) failures.push(callFailed('runtime', 'aclrtFree', frc, `${context}; the free is retried when the backend is destroyed`));
    this.owner.onReleased(this, frc !== ACL_SUCCESS);
    if (failures.length > 0) throw combineFailures('releasing a hal-ascend allocation', failures);
  }
}

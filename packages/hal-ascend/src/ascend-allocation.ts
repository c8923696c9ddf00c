import { BackendAllocation, InvalidArgumentError, describe } from '@simpler/abi';
import { ACL_SUCCESS, callFailed, combineFailures } from './errors';
import { TeardownApi, TeardownStage, unmapThenFree } from './unmap-then-free';

/** What an allocation needs from the backend that made it. */
export interface AllocationOwner extends TeardownApi {
  /** Called once the allocation is released, with how far the teardown got (the backend keeps what is left). */
  onReleased(allocation: AscendAllocation, stage: TeardownStage): void;
}

/**
 * Device memory from aclrtMalloc, mapped into the host with halHostRegister. This class has no
 * cache hooks (x86-64 hosts need none); aarch64 hosts get {@link CacheMaintainedAllocation}.
 */
export class AscendAllocation implements BackendAllocation {
  readonly bytes: Uint8Array;
  readonly hostBase: bigint;
  readonly deviceBase: bigint;
  /** True once {@link release} ran. */
  protected released = false;

  constructor(
    protected readonly owner: AllocationOwner,
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
   * Unmaps the host view (halHostUnregister with the registered device pointer and the logical
   * device id), then frees the device memory. When the unmap fails nothing is freed: the pair is
   * quarantined and retried when the backend is destroyed. A second call does nothing. Failures
   * are `EIO`.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    const failures: Error[] = [];
    const stage = unmapThenFree(this.owner, this.devicePointer, this.bytes.byteLength, failures);
    this.owner.onReleased(this, stage);
    if (failures.length > 0) throw combineFailures('releasing a hal-ascend allocation', failures);
  }
}

/** The runtime call behind each cache hook. */
type CacheCall = 'aclrtMemFlush' | 'aclrtMemInvalidate';

/**
 * An allocation on an aarch64 host: `flush` and `invalidate` run aclrtMemFlush and
 * aclrtMemInvalidate on the matching DEVICE range (deviceBase + offset), which is how the ACL
 * runtime addresses cache maintenance. Region-core calls them around datacopy, notify and wait.
 */
export class CacheMaintainedAllocation extends AscendAllocation {
  // The device address as a number when every byte of the range is a safe integer (always, with
  // 48-bit virtual addresses): the hooks then add offsets without BigInt arithmetic.
  private readonly deviceAddress: number;
  private readonly memFlush: (devPtr: number | bigint, size: number) => number;
  private readonly memInvalidate: (devPtr: number | bigint, size: number) => number;

  constructor(owner: AllocationOwner, devicePointer: bigint, bytes: Uint8Array, hostBase: bigint) {
    super(owner, devicePointer, bytes, hostBase);
    // Present: the backend only makes this class when the runtime exports both (createBackend checks).
    this.memFlush = owner.runtime.aclrtMemFlush!;
    this.memInvalidate = owner.runtime.aclrtMemInvalidate!;
    const base = Number(devicePointer);
    this.deviceAddress = Number.isSafeInteger(base + bytes.byteLength) && BigInt(base) === devicePointer ? base : Number.NaN;
  }

  /** aclrtMemFlush(deviceBase + offset, length): host writes to the range become visible to the device. */
  flush(offset: number, length: number): void {
    this.maintain('aclrtMemFlush', this.memFlush, offset, length);
  }

  /** aclrtMemInvalidate(deviceBase + offset, length): the host's next reads of the range see device writes. */
  invalidate(offset: number, length: number): void {
    this.maintain('aclrtMemInvalidate', this.memInvalidate, offset, length);
  }

  private maintain(call: CacheCall, fn: (devPtr: number | bigint, size: number) => number, offset: number, length: number): void {
    const total = this.bytes.byteLength;
    if (this.released) throw new InvalidArgumentError(`${call}: the hal-ascend allocation of ${total} bytes is released`);
    if (!(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 && offset <= total && length <= total - offset)) {
      throw new InvalidArgumentError(`${call} range offset=${describe(offset)} length=${describe(length)} is outside the region of ${total} bytes`);
    }
    // ACL rejects a size of 0, and there is nothing to maintain.
    if (length === 0) return;
    const address = Number.isNaN(this.deviceAddress) ? this.devicePointer + BigInt(offset) : this.deviceAddress + offset;
    const rc = fn(address, length);
    if (rc !== ACL_SUCCESS) {
      throw callFailed('runtime', call, rc, `(region offset ${offset}, ${length} bytes, device ${this.owner.deviceId})`);
    }
  }
}

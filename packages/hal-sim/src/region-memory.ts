import { BackendAllocation, BackendError, OutOfMemoryError, isRegionError } from '@simpler/abi';
import { AllocMessage, CELL_BYTES, CELL_LIVE } from './device-protocol';
import { GuardedBlock } from './guard-bytes';

/** Where and how large a new allocation is. */
export interface RegionRequest {
  /** Device base address. */
  readonly base: number;
  /** Bytes of the allocation. */
  readonly totalBytes: number;
  /** Guard bytes on each side (0: none). */
  readonly guard: number;
  /** The device control block (its sleeper count serves SharedArrayBuffer memory). */
  readonly control: Int32Array;
}

/** The hooks a kind of memory adds to its allocations. */
export type MemoryHooks = Pick<BackendAllocation, 'wakeSignal' | 'sleepSignal' | 'sleepSignalAsync' | 'share'>;

/** The memory of one allocation, before the backend wraps it into a `BackendAllocation`. */
export interface RegionMemory {
  /** Host view of exactly the allocation. */
  readonly bytes: Uint8Array;
  /** Its guards, when the backend has `guardBytes`. */
  readonly block: GuardedBlock | undefined;
  /** The cell shared with the device (liveness, doorbell). */
  readonly cell: Int32Array;
  /** What the device thread needs to map it. */
  readonly message: AllocMessage;
  /** Wake, sleep and share hooks. */
  readonly hooks: MemoryHooks;
  /** Gives the memory back; called once, after the cell was marked not live. */
  free(): void;
}

/** A fresh cell: live, descriptor not yet taken, nobody asleep. */
export function newCell(): Int32Array {
  const cell = new Int32Array(new SharedArrayBuffer(CELL_BYTES));
  cell[CELL_LIVE] = 1;
  return cell;
}

function messageOf(error: unknown): string {
  return typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
}

/**
 * Typed errors pass through; a `RangeError` (a size the machine or a typed array cannot hold,
 * from any realm) is `ENOMEM`; anything else is `EIO`.
 */
export function allocationFailure(totalBytes: number, what: string, error: unknown): Error {
  if (isRegionError(error)) return error;
  if (typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'RangeError') {
    return new OutOfMemoryError(`allocate: cannot ${what} for ${totalBytes} bytes (${messageOf(error)})`, { cause: error });
  }
  return new BackendError(`allocate: ${what} for ${totalBytes} bytes failed (${messageOf(error)})`, { cause: error });
}

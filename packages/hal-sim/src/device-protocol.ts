/** First device address handed out: far from any plausible host pointer, below 2^53. */
export const DEVICE_ADDRESS_BASE = 0x0000_1000_0000_0000;
/** Device allocations start on this alignment and are separated by at least this unmapped gap. */
export const DEVICE_ALLOCATION_ALIGN = 0x1_0000;
/** End (exclusive) of the simulated device address space: addresses stay exact as numbers. */
export const DEVICE_ADDRESS_LIMIT = Number.MAX_SAFE_INTEGER - DEVICE_ALLOCATION_ALIGN;

// Int32 word indices of the control block shared by host and device thread.
/** Count of kernels the device finished (wrapping int32); the host waits on it in `synchronize`. */
export const CTL_COMPLETED = 0;
/** First-failure record state: 0 empty, 1 written, 2 being written by the device. */
export const CTL_FAIL_STATE = 1;
/** Byte length of the UTF-8 failure message. */
export const CTL_FAIL_LEN = 2;
/** Number of kernel failures since the host last took the record. */
export const CTL_FAIL_COUNT = 3;
/**
 * Number of device waits currently asleep in `Atomics.wait` (or about to be). The host's
 * `wakeSignal` hook pays for `Atomics.notify` only when it is non-zero.
 */
export const CTL_DEVICE_SLEEPERS = 4;
/** Set to 1 by the device once it unmapped everything after a `shutdown` message (the host waits for it before terminating). */
export const CTL_SHUTDOWN_DONE = 5;
/** Who owns the device's duplicate descriptor of a memfd launch queue: {@link HANDOFF_PENDING}, then device or host. */
export const CTL_QUEUE_HANDOFF = 6;
/** Set to 1 by the host when its process exits: the device stops sleeping on the launch queue so the thread can end. */
export const CTL_STOP = 7;
/** Byte offset of the failure message inside the control block. */
export const CTL_FAIL_MESSAGE_OFFSET = 64;
/** Capacity of the failure message. */
export const CTL_FAIL_MESSAGE_BYTES = 1024;
/** Total size of the control block. */
export const CTL_BYTES = CTL_FAIL_MESSAGE_OFFSET + CTL_FAIL_MESSAGE_BYTES;

/** What the device thread receives as `workerData`. */
export interface DeviceThreadData {
  readonly control: SharedArrayBuffer;
  readonly allocPort: import('node:worker_threads').MessagePort;
  /** The launch queue (every launch arrives through it). */
  readonly queue: import('./launch-queue-memory').DeviceQueueEnd;
  readonly platform: string;
  readonly deviceId: number;
  /** How long to poll the launch queue after a kernel before sleeping, in µs. */
  readonly spinUs: number;
}

// Int32 word indices of an allocation's cell: a small SharedArrayBuffer shared by host and device.
/** 1 while the allocation is open; the host's synchronous release sets 0 (later device accesses fault). */
export const CELL_LIVE = 0;
/** Who owns the descriptor in a `memfd` map message: {@link HANDOFF_PENDING}, then device or host. */
export const CELL_HANDOFF = 1;
/** Bumped and notified to wake host threads sleeping in `sleepSignal` (memfd memory). */
export const CELL_DOORBELL = 2;
/** Number of host threads asleep on the doorbell; publishers ring it only when not 0. */
export const CELL_HOST_SLEEPERS = 3;
/** Bytes of a cell. */
export const CELL_BYTES = 16;
/** The descriptor of a `memfd` map message is not taken yet. */
export const HANDOFF_PENDING = 0;
/** The device took the descriptor: it maps it, then closes it. */
export const HANDOFF_DEVICE = 1;
/** The host took it back (released before the device got to it) and closed it. */
export const HANDOFF_HOST = 2;

/** Byte offset, in a memfd allocation's object, of the int32 count of futex sleepers (device or another process). */
export const SLEEPERS_OFFSET = 0;
/** Bytes before the first guard byte (or the region) of a memfd allocation that hold its control words. */
export const MEMFD_CONTROL_BYTES = 64;

/** Host → device, on the allocation port (drained synchronously by the device on a miss). */
export type AllocMessage =
  | {
      readonly type: 'map';
      readonly kind: 'sab';
      readonly base: number;
      readonly memory: SharedArrayBuffer;
      readonly cell: Int32Array;
      /** Where the allocation starts inside `memory` and how long it is (guard bytes lie outside). */
      readonly byteOffset: number;
      readonly byteLength: number;
    }
  | {
      readonly type: 'map';
      readonly kind: 'memfd';
      readonly base: number;
      /** A duplicate descriptor of the object, owned by whoever wins {@link CELL_HANDOFF}. */
      readonly fd: number;
      readonly cell: Int32Array;
      /** Where the allocation starts inside the object (a page boundary) and how long it is. */
      readonly byteOffset: number;
      readonly byteLength: number;
    }
  | { readonly type: 'unmap'; readonly base: number }
  /** Unmap everything and set {@link CTL_SHUTDOWN_DONE}: the backend is being destroyed. */
  | { readonly type: 'shutdown' };

/** Host → device, on the thread's main port (launches arrive through the launch queue). */
export type DeviceCommand = { readonly type: 'register'; readonly id: number; readonly name: string; readonly path: string };

/** Device → host. */
export type DeviceEvent = { readonly type: 'ready' };

/** Formats a device address the way fault messages show it. */
export function hexAddress(addr: number | bigint): string {
  return `0x${addr.toString(16)}`;
}

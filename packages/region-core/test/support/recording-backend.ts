import { BACKEND_ABI_VERSION, BackendAllocation, RegionBackend } from '@simpler/abi';

/** One call the core made into the backend or an allocation, in order. */
export interface RecordedCall {
  op: 'allocate' | 'release' | 'flush' | 'invalidate' | 'wake' | 'launch' | 'synchronize' | 'destroy';
  /** Allocation index (order of allocate calls). */
  alloc?: number;
  offset?: number;
  length?: number;
  totalBytes?: number;
  kernel?: string;
  args?: readonly bigint[];
  /** Copy of the whole host view at the time of a flush/invalidate. */
  snapshot?: Uint8Array;
}

/** An allocation handed out by a test backend. */
export interface TestAllocation extends BackendAllocation {
  released: number;
  /** Device-side copy of the memory (non-coherent backend only). */
  device?: Uint8Array;
}

/** Settings of the in-test backends. */
export interface TestBackendOptions {
  /** SharedArrayBuffer memory (default true). False: a plain ArrayBuffer (foreign memory path). */
  shared?: boolean;
  /** Non-coherent model: the device sees host writes only after flush, the host sees device writes only after invalidate. */
  nonCoherent?: boolean;
  /** Provide flush/invalidate hooks (default true). */
  hooks?: boolean;
  /** Makes the n-th flush call (1-based, counting all allocations) throw. */
  failFlushAt?: number;
  /** Error thrown by allocate. */
  allocateError?: unknown;
  /** Fill allocations with garbage instead of zeros (the core must zero them). */
  dirty?: boolean;
  /** Take snapshots on hooks. */
  snapshots?: boolean;
  /** Base device address (default 0x1_0000_0000). */
  deviceBase?: bigint;
  name?: string;
  withKernels?: boolean;
  /** Provide the wakeSignal hook (records the value it finds at the offset). */
  wake?: boolean;
}

/** A test backend plus what it recorded. */
export interface TestBackend {
  backend: RegionBackend;
  calls: RecordedCall[];
  allocations: TestAllocation[];
  destroyed: number;
}

/**
 * An in-test backend that records every call in order. Memory is a SharedArrayBuffer (Atomics
 * wait/notify path) or a plain ArrayBuffer (foreign-memory polling path).
 */
export function createTestBackend(options: TestBackendOptions = {}): TestBackend {
  const { shared = true, nonCoherent = false, hooks = true, snapshots = false } = options;
  const calls: RecordedCall[] = [];
  const allocations: TestAllocation[] = [];
  let flushes = 0;
  let nextBase = options.deviceBase ?? 0x1_0000_0000n;
  const state: TestBackend = { backend: undefined as unknown as RegionBackend, calls, allocations, destroyed: 0 };
  const backend: RegionBackend = {
    name: options.name ?? 'test-recording',
    abiVersion: BACKEND_ABI_VERSION,
    platform: shared ? 'test-shared' : 'test-foreign',
    deviceId: 0,
    allocate(totalBytes: number): BackendAllocation {
      calls.push({ op: 'allocate', totalBytes });
      if (options.allocateError !== undefined) throw options.allocateError;
      const index = allocations.length;
      const buffer = shared ? new SharedArrayBuffer(totalBytes) : new ArrayBuffer(totalBytes);
      const bytes = new Uint8Array(buffer);
      if (options.dirty) bytes.fill(0xa5);
      const device = nonCoherent ? new Uint8Array(totalBytes).fill(options.dirty ? 0x5a : 0) : undefined;
      const deviceBase = nextBase;
      nextBase += BigInt(totalBytes) + 0x1000n;
      const allocation: TestAllocation = {
        bytes,
        hostBase: 0x7f00_0000_0000n + BigInt(index) * 0x100_0000n,
        deviceBase,
        released: 0,
        device,
        release() {
          allocation.released++;
          calls.push({ op: 'release', alloc: index });
        },
      };
      if (hooks) {
        allocation.flush = (offset: number, length: number) => {
          flushes++;
          calls.push({ op: 'flush', alloc: index, offset, length, snapshot: snapshots ? bytes.slice() : undefined });
          if (options.failFlushAt === flushes) throw new Error(`injected flush failure #${flushes}`);
          if (device) device.set(bytes.subarray(offset, offset + length), offset);
        };
        allocation.invalidate = (offset: number, length: number) => {
          calls.push({ op: 'invalidate', alloc: index, offset, length, snapshot: snapshots ? bytes.slice() : undefined });
          if (device) bytes.set(device.subarray(offset, offset + length), offset);
        };
      }
      if (options.wake) {
        allocation.wakeSignal = (offset: number) => {
          calls.push({ op: 'wake', alloc: index, offset, length: new DataView(bytes.buffer).getUint32(offset, true) });
        };
      }
      allocations.push(allocation);
      return allocation;
    },
    destroy() {
      state.destroyed++;
      calls.push({ op: 'destroy' });
    },
  };
  if (options.withKernels) {
    (backend as { launch?: RegionBackend['launch'] }).launch = (kernel, args) => {
      calls.push({ op: 'launch', kernel, args });
    };
    (backend as { synchronize?: RegionBackend['synchronize'] }).synchronize = async () => {
      calls.push({ op: 'synchronize' });
    };
  }
  state.backend = backend;
  return state;
}

/** Byte offset of a signal slot inside a region. */
export function slotOffset(signalId: number): number {
  return 64 + signalId * 64;
}

/** Data offset of a region with `signalCount` slots. */
export function dataOffsetOf(signalCount: number): number {
  return Math.ceil((64 + signalCount * 64) / 64) * 64;
}

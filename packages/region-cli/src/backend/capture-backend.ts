import { BackendAllocation, RegionBackend } from '@simpler/abi';

/** A backend wrapper that remembers every allocation it hands out, for owner-process inspection. */
export interface CapturingBackend {
  /** Pass this to a DeviceContext instead of the original. */
  readonly backend: RegionBackend;
  /** Allocations in the order they were made. */
  readonly allocations: BackendAllocation[];
}

/**
 * Wraps a backend so the CLI (which is the owner process) can read a region's raw memory, header
 * included: the public datacopy API only reaches the data area. Everything else passes through.
 */
export function captureAllocations(inner: RegionBackend): CapturingBackend {
  const allocations: BackendAllocation[] = [];
  const backend: RegionBackend = {
    name: inner.name,
    abiVersion: inner.abiVersion,
    platform: inner.platform,
    deviceId: inner.deviceId,
    allocate(totalBytes: number): BackendAllocation {
      const a = inner.allocate(totalBytes);
      allocations.push(a);
      return a;
    },
    destroy: () => inner.destroy(),
    ...(inner.launch ? { launch: (kernel: string, args: readonly bigint[]) => inner.launch!(kernel, args) } : {}),
    ...(inner.synchronize ? { synchronize: () => inner.synchronize!() } : {}),
  };
  return { backend, allocations };
}

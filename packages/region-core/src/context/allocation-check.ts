import { BackendAllocation, describe } from '@simpler/abi';

/** Why an allocation cannot be used, or undefined when it is fine. */
export function allocationProblem(allocation: unknown, totalBytes: number): string | undefined {
  if (typeof allocation !== 'object' || allocation === null) return `expected an object, got ${describe(allocation)}`;
  const a = allocation as Partial<Record<keyof BackendAllocation, unknown>>;
  if (typeof a.release !== 'function') return 'release is not a function';
  if (!(a.bytes instanceof Uint8Array) && !(ArrayBuffer.isView(a.bytes) && Object.prototype.toString.call(a.bytes) === '[object Uint8Array]')) {
    return `bytes must be a Uint8Array, got ${describe(a.bytes)}`;
  }
  const bytes = a.bytes as Uint8Array;
  if (bytes.byteLength !== totalBytes) return `bytes has ${bytes.byteLength} bytes, expected ${totalBytes}`;
  if (bytes.byteOffset % 4 !== 0) return `bytes must be 4-byte aligned for atomic signal access (byteOffset ${bytes.byteOffset})`;
  if (typeof a.hostBase !== 'bigint' || typeof a.deviceBase !== 'bigint') return 'hostBase and deviceBase must be bigints';
  if (a.flush !== undefined && typeof a.flush !== 'function') return 'flush must be a function when present';
  if (a.invalidate !== undefined && typeof a.invalidate !== 'function') return 'invalidate must be a function when present';
  return undefined;
}

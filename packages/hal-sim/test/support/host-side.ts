import { BackendAllocation } from '@simpler/abi';

/** Memory kinds every memory-dependent suite runs against. */
export const MEMORIES = ['memfd', 'sab'] as const;

/** Offsets the tests use: header 64 B, signal slots 0 and 1, then data (spec 3.5 layout). */
export const SIGNAL0 = 64;
export const SIGNAL1 = 128;
export const DATA = 192;

/** Bytes needed for a round trip of `n` bytes per direction. */
export function roundTripBytes(n: number): number {
  return Math.ceil((DATA + 2 * n) / 64) * 64;
}

/** The u32 view the host uses for signals. */
export function words(a: BackendAllocation): Int32Array {
  return new Int32Array(a.bytes.buffer, a.bytes.byteOffset, a.bytes.length >>> 2);
}

/** True when the allocation's memory is a SharedArrayBuffer (else a memfd mapping). */
export function isSab(a: BackendAllocation): boolean {
  return Object.prototype.toString.call(a.bytes.buffer) === '[object SharedArrayBuffer]';
}

/** Host publishes `value` into the u32 at byte `offset` (release + the allocation's wake). */
export function hostNotify(a: BackendAllocation, offset: number, value: number): void {
  const w = words(a);
  Atomics.store(w, offset / 4, value);
  a.wakeSignal?.(offset);
}

/** Host blocks this thread until the u32 at `offset` is >= target; false on timeout. */
export function hostWait(a: BackendAllocation, offset: number, target: number, timeoutMs: number): boolean {
  const w = words(a);
  const shared = isSab(a);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = Atomics.load(w, offset / 4);
    if (v >>> 0 >= target) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    if (shared) Atomics.wait(w, offset / 4, v, Math.min(left, 50));
    else a.sleepSignal!(offset, v >>> 0, Math.min(left, 50));
  }
}

/** Writes the spec 11 payload for `seq` at the data offset. */
export function writePayload(a: BackendAllocation, seq: number, n: number): void {
  const d = a.bytes;
  for (let i = 0; i < n; i++) d[DATA + i] = (seq * 17 + i * 5) & 0xff;
}

/** Index of the first wrong output byte for `seq`, or -1. */
export function firstWrongOutput(a: BackendAllocation, seq: number, n: number): number {
  const d = a.bytes;
  for (let i = 0; i < n; i++) {
    const expected = ((seq * 17 + i * 5) & 0xff) ^ ((seq + i * 3) & 0xff);
    if (d[DATA + n + i] !== expected) return i;
  }
  return -1;
}

// The host side of a signal exchange in the contract suite, on any memory: a SharedArrayBuffer
// (Atomics.wait/notify), or memory the allocation knows how to sleep and wake on (its hooks),
// or neither (short sleeps on a private cell).
import type { BackendAllocation } from '../backend/backend-allocation';

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

function isShared(words: Int32Array): boolean {
  return Object.prototype.toString.call(words.buffer) === '[object SharedArrayBuffer]';
}

/** Int32 view of a byte view (its byteOffset must be a multiple of 4). */
export function wordsOf(bytes: Uint8Array): Int32Array {
  return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
}

/** Release-stores `value` in the word at byte `offset`, then wakes whoever may sleep on it. */
export function publish(words: Int32Array, offset: number, value: number, wake?: (offset: number) => void): void {
  Atomics.store(words, offset / 4, value);
  if (isShared(words)) Atomics.notify(words, offset / 4);
  wake?.(offset);
}

/**
 * Waits until the u32 at byte `offset` is `>= target`, or `timeoutMs` passed (false). Sleeps
 * through the allocation's `sleepSignal` when it has one and the memory is not shared.
 */
export function waitAtLeast(words: Int32Array, offset: number, target: number, timeoutMs: number, allocation?: BackendAllocation): boolean {
  const deadline = Date.now() + timeoutMs;
  const index = offset / 4;
  for (;;) {
    const v = Atomics.load(words, index);
    if (v >>> 0 >= target) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    const slice = Math.min(left, 50);
    if (isShared(words)) Atomics.wait(words, index, v, slice);
    else if (allocation?.sleepSignal !== undefined) allocation.sleepSignal(offset, v >>> 0, slice);
    else Atomics.wait(sleepCell, 0, 0, 1);
  }
}

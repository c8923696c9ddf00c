import { CTL_DEVICE_SLEEPERS } from './device-protocol';
import { GuardedBlock } from './guard-bytes';
import { RegionMemory, RegionRequest, allocationFailure, newCell } from './region-memory';

/**
 * Region memory in a SharedArrayBuffer posted to the device thread: used where `@simpler/shm`
 * cannot be. It goes back only once the collectors of both threads dropped it (see docs).
 */
export function allocateSabMemory(request: RegionRequest): RegionMemory {
  const { base, totalBytes, guard, control } = request;
  let memory: SharedArrayBuffer;
  try {
    memory = new SharedArrayBuffer(totalBytes + 2 * guard);
  } catch (error) {
    throw allocationFailure(totalBytes, 'allocate shared memory', error);
  }
  // Views first, before anything is published: a buffer larger than a typed array can view
  // (4 GiB on Node 20) is an allocation this backend cannot satisfy.
  let block: GuardedBlock | undefined;
  let bytes: Uint8Array;
  let words: Int32Array;
  try {
    block = guard > 0 ? new GuardedBlock(new Uint8Array(memory), guard, totalBytes, BigInt(base)) : undefined;
    bytes = block ? block.view : new Uint8Array(memory);
    // Division, not `>> 2`: shifts wrap at 2^31 bytes.
    words = new Int32Array(memory, 0, Math.floor(memory.byteLength / 4));
  } catch (error) {
    throw allocationFailure(totalBytes, 'view shared memory', error);
  }
  const cell = newCell();
  return {
    bytes,
    block,
    cell,
    message: { type: 'map', kind: 'sab', base, memory, cell, byteOffset: guard, byteLength: totalBytes },
    hooks: {
      // Atomics.notify costs ~40 ns even when nobody sleeps; wake the device only when it does.
      wakeSignal: (offset: number) => {
        if (Atomics.load(control, CTL_DEVICE_SLEEPERS) !== 0) Atomics.notify(words, Math.floor((guard + offset) / 4));
      },
    },
    // Both threads' collectors free a SharedArrayBuffer; nothing can be given back earlier.
    free: () => undefined,
  };
}

import { InvalidArgumentError, SharedAllocation } from '@simpler/abi';
import type { SharedMapping, SharedMemoryObject } from '@simpler/shm';
import {
  CELL_DOORBELL,
  CELL_HANDOFF,
  CELL_HOST_SLEEPERS,
  CELL_LIVE,
  HANDOFF_HOST,
  HANDOFF_PENDING,
  MEMFD_CONTROL_BYTES,
  SLEEPERS_OFFSET,
  hexAddress,
} from './device-protocol';
import { GuardedBlock } from './guard-bytes';
import { RegionMemory, RegionRequest, allocationFailure, newCell } from './region-memory';
import type { ShmModule } from './shm-loader';

// Node 20 has Atomics.waitAsync; the ES2022 lib typings do not.
type WaitAsync = (a: Int32Array, i: number, v: number, t?: number) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Wakes every host thread asleep on the cell's doorbell. */
function ring(cell: Int32Array): void {
  Atomics.add(cell, CELL_DOORBELL, 1);
  Atomics.notify(cell, CELL_DOORBELL);
}

/** Unmaps and closes what was made so far when building an allocation fails half-way. */
function undo(object: SharedMemoryObject, mapping: SharedMapping | undefined, dup: SharedMemoryObject | undefined): void {
  try {
    mapping?.unmap();
  } finally {
    dup?.close();
    object.close();
  }
}

/**
 * Region memory in an anonymous shared memory object (one memfd per allocation) that another
 * process can map (`share()`), and that goes back to the system the moment it is released.
 *
 * The object holds a page of control words (the futex sleeper count), then the guards and the
 * region, which starts on a page boundary. The host maps it over a V8-owned buffer (so V8 counts
 * it and frees the address range when it collects the buffer); the device thread maps its own
 * duplicate descriptor the same way in its own isolate, so neither collector can unmap memory
 * the other still views. Release frees the pages at once for every mapping (a punched hole) and
 * replaces the host range by private pages; the device replaces its own when it sees `unmap`.
 *
 * Wake-ups: device sleepers (and those of other processes) `FUTEX_WAIT` on the signal word and
 * count themselves in the object's sleeper word, so a publisher pays for `FUTEX_WAKE` only when
 * someone sleeps; host threads of this process sleep on a doorbell in the cell instead, which
 * the device rings (SAB latency, no libuv pool thread held by an async wait).
 */
export function allocateMemfdMemory(shm: ShmModule, request: RegionRequest): RegionMemory {
  const { base, totalBytes, guard } = request;
  const page = shm.systemPageSize();
  const regionOffset = Math.ceil((MEMFD_CONTROL_BYTES + guard) / page) * page;
  let object: SharedMemoryObject;
  try {
    object = shm.SharedMemoryObject.create(regionOffset + totalBytes + guard, { debugName: 'simpler-sim-region', sealSize: true });
  } catch (error) {
    throw allocationFailure(totalBytes, 'create a shared memory object', error);
  }
  let mapping: SharedMapping | undefined;
  let dup: SharedMemoryObject | undefined;
  let block: GuardedBlock | undefined;
  let bytes: Uint8Array;
  let words: Int32Array;
  let sleepers: Int32Array;
  try {
    mapping = object.map(undefined, 0, { backing: 'heap' });
    dup = object.dup();
    const buffer = mapping.buffer;
    const at = mapping.byteOffset + regionOffset;
    block = guard > 0 ? new GuardedBlock(new Uint8Array(buffer, at - guard, totalBytes + 2 * guard), guard, totalBytes, BigInt(base)) : undefined;
    bytes = block ? block.view : new Uint8Array(buffer, at, totalBytes);
    words = new Int32Array(buffer, at, Math.floor(totalBytes / 4));
    sleepers = new Int32Array(buffer, mapping.byteOffset + SLEEPERS_OFFSET, 1);
  } catch (error) {
    undo(object, mapping, dup);
    throw allocationFailure(totalBytes, 'map shared memory', error);
  }
  const own = mapping;
  const devices = dup;
  const cell = newCell();
  const shared: SharedAllocation = Object.freeze({
    fd: object.fd,
    offset: regionOffset,
    length: totalBytes,
    cacheHooks: 'none',
    wake: Object.freeze({ kind: 'futex', sleepersOffset: SLEEPERS_OFFSET }),
  });
  let freed = false;
  return {
    bytes,
    block,
    cell,
    message: { type: 'map', kind: 'memfd', base, fd: devices.fd, cell, byteOffset: regionOffset, byteLength: totalBytes },
    hooks: {
      // Two atomic loads when nobody sleeps: no system call, no Atomics.notify.
      wakeSignal: (offset: number) => {
        if (Atomics.load(sleepers, 0) !== 0) own.futexWake(regionOffset + offset);
        if (Atomics.load(cell, CELL_HOST_SLEEPERS) !== 0) ring(cell);
      },
      // Announce, then look: a publisher either sees the announcement or we see its store.
      sleepSignal: (offset: number, observed: number, timeoutMs: number) => {
        Atomics.add(cell, CELL_HOST_SLEEPERS, 1);
        const rung = Atomics.load(cell, CELL_DOORBELL);
        if (Atomics.load(words, offset >>> 2) >>> 0 === observed && Atomics.load(cell, CELL_LIVE) === 1) {
          Atomics.wait(cell, CELL_DOORBELL, rung, timeoutMs);
        }
        Atomics.sub(cell, CELL_HOST_SLEEPERS, 1);
      },
      sleepSignalAsync: (offset: number, observed: number, timeoutMs: number) => {
        Atomics.add(cell, CELL_HOST_SLEEPERS, 1);
        const rung = Atomics.load(cell, CELL_DOORBELL);
        if (Atomics.load(words, offset >>> 2) >>> 0 === observed && Atomics.load(cell, CELL_LIVE) === 1) {
          const result = waitAsync(cell, CELL_DOORBELL, rung, timeoutMs);
          if (result.async) {
            return result.value.then(() => void Atomics.sub(cell, CELL_HOST_SLEEPERS, 1));
          }
        }
        Atomics.sub(cell, CELL_HOST_SLEEPERS, 1);
        return undefined;
      },
      share: () => {
        if (freed) throw new InvalidArgumentError(`share: the allocation at device address ${hexAddress(base)} was released`);
        return shared;
      },
    },
    free: () => {
      freed = true;
      ring(cell);
      let failure: unknown;
      // The pages go now, for every mapping in every process; views stay safe (they read zeros).
      try {
        object.discard();
      } catch (error) {
        failure = error;
      }
      try {
        own.unmap();
      } catch (error) {
        failure ??= error;
      }
      // The device thread closes its descriptor itself once it has taken it.
      if (Atomics.compareExchange(cell, CELL_HANDOFF, HANDOFF_PENDING, HANDOFF_HOST) === HANDOFF_PENDING) devices.close();
      object.close();
      if (failure !== undefined) throw failure;
    },
  };
}

// Runs on the device thread: turns the host's map messages into the device's own view of each
// allocation, with the wake/sleep protocol that fits its memory.
import {
  AllocMessage,
  CELL_DOORBELL,
  CELL_HANDOFF,
  CELL_HOST_SLEEPERS,
  CTL_DEVICE_SLEEPERS,
  SLEEPERS_OFFSET,
} from './device-protocol';
import { mapHandedOver } from './handed-over-memfd';

/** One allocation as the device sees it. `live[0]` is cleared by the host's synchronous release. */
export interface Mapping {
  readonly base: number;
  readonly end: number;
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly live: Int32Array;
  /** Why the device could not map the allocation (every access then faults); else undefined. */
  readonly failure: string | undefined;
  /** Wakes whoever sleeps on word `index`, right after a release-store to it. */
  wake(index: number): void;
  /** Announces a sleeper, looks at word `index` again and sleeps up to `ms` while it is below `target`. */
  sleep(index: number, target: number, ms: number): void;
  /** Gives the device's own mapping back (the host already released the memory). */
  unmap(): void;
}

/** A host message announcing an allocation. */
export type MapMessage = Extract<AllocMessage, { type: 'map' }>;

function noop(): void {}

function sabMapping(msg: Extract<MapMessage, { kind: 'sab' }>, control: Int32Array): Mapping {
  const len = msg.byteLength;
  const i32 = new Int32Array(msg.memory, msg.byteOffset, Math.floor(len / 4));
  return {
    base: msg.base,
    end: msg.base + len,
    u8: new Uint8Array(msg.memory, msg.byteOffset, len),
    i32,
    live: msg.cell,
    failure: undefined,
    wake: (index) => void Atomics.notify(i32, index),
    // The sleeper count lets the host skip Atomics.notify while nobody sleeps.
    sleep: (index, target, ms) => {
      Atomics.add(control, CTL_DEVICE_SLEEPERS, 1);
      const v = Atomics.load(i32, index);
      if (v >>> 0 < target) Atomics.wait(i32, index, v, ms);
      Atomics.sub(control, CTL_DEVICE_SLEEPERS, 1);
    },
    unmap: noop,
  };
}

function failedMapping(msg: MapMessage, failure: string): Mapping {
  const empty = new Int32Array(0);
  return { base: msg.base, end: msg.base + msg.byteLength, u8: new Uint8Array(0), i32: empty, live: msg.cell, failure, wake: noop, sleep: noop, unmap: noop };
}

function memfdMapping(msg: Extract<MapMessage, { kind: 'memfd' }>): Mapping {
  const cell = msg.cell;
  // Released before we got here: the host closed the descriptor (and marked it not live).
  const { mapping, failure } = mapHandedOver(cell, CELL_HANDOFF, msg.fd);
  if (mapping === undefined) return failedMapping(msg, failure);
  const own = mapping;
  const len = msg.byteLength;
  const at = own.byteOffset + msg.byteOffset;
  const i32 = new Int32Array(own.buffer, at, Math.floor(len / 4));
  const sleepers = new Int32Array(own.buffer, own.byteOffset + SLEEPERS_OFFSET, 1);
  const region = msg.byteOffset;
  return {
    base: msg.base,
    end: msg.base + len,
    u8: new Uint8Array(own.buffer, at, len),
    i32,
    live: cell,
    failure: undefined,
    wake: (index) => {
      if (Atomics.load(sleepers, 0) !== 0) own.futexWake(region + index * 4);
      if (Atomics.load(cell, CELL_HOST_SLEEPERS) !== 0) {
        Atomics.add(cell, CELL_DOORBELL, 1);
        Atomics.notify(cell, CELL_DOORBELL);
      }
    },
    sleep: (index, target, ms) => {
      Atomics.add(sleepers, 0, 1);
      const v = Atomics.load(i32, index);
      if (v >>> 0 < target) own.futexWait(region + index * 4, v, ms);
      Atomics.sub(sleepers, 0, 1);
    },
    unmap: () => own.unmap(),
  };
}

/** The device's view of an allocation (an empty one, that faults, if the host already released it). */
export function mapAllocation(msg: MapMessage, control: Int32Array): Mapping {
  return msg.kind === 'sab' ? sabMapping(msg, control) : memfdMapping(msg);
}

// The device thread's end of the launch queue: the consumer, and the sleep that fits the memory
// (a futex in the memfd, which producers in other processes can wake; Atomics.wait on a SAB).
import { closeSync } from 'node:fs';
import { LQ_DOORBELL, LaunchQueueConsumer } from '@simpler/abi';
import type { SharedMapping } from '@simpler/shm';
import { CTL_QUEUE_HANDOFF, HANDOFF_DEVICE, HANDOFF_PENDING } from './device-protocol';
import type { DeviceQueueEnd } from './launch-queue-memory';
import { loadShm } from './shm-loader';

/** The consumer plus how to sleep on its doorbell and give the memory back. */
export interface DeviceLaunchQueue {
  readonly consumer: LaunchQueueConsumer;
  /** Sleeps up to `ms` while the doorbell still reads `rung`. */
  sleep(rung: number, ms: number): void;
  /** Unmaps the queue (the device is shutting down). */
  unmap(): void;
}

/** Maps the queue the host handed over; throws when it cannot (the device thread then fails to start). */
export function openDeviceLaunchQueue(end: DeviceQueueEnd, control: Int32Array): DeviceLaunchQueue {
  if (end.kind === 'sab') {
    const words = new Int32Array(end.buffer);
    return {
      consumer: new LaunchQueueConsumer(end.buffer, 0, end.byteLength),
      sleep: (rung, ms) => void Atomics.wait(words, LQ_DOORBELL >> 2, rung, ms),
      unmap: () => undefined,
    };
  }
  if (Atomics.compareExchange(control, CTL_QUEUE_HANDOFF, HANDOFF_PENDING, HANDOFF_DEVICE) !== HANDOFF_PENDING) {
    throw new Error('the launch queue was released before the device thread started');
  }
  const { shm, reason } = loadShm();
  if (shm === undefined) {
    closeSync(end.fd);
    throw new Error(`cannot map the launch queue: ${reason}`);
  }
  const object = shm.SharedMemoryObject.fromFd(end.fd);
  let mapping: SharedMapping;
  try {
    mapping = object.map(undefined, 0, { backing: 'heap' });
  } finally {
    object.close();
  }
  const own = mapping;
  return {
    consumer: new LaunchQueueConsumer(own.buffer, own.byteOffset, end.byteLength),
    sleep: (rung, ms) => void own.futexWait(LQ_DOORBELL, rung, ms),
    unmap: () => own.unmap(),
  };
}

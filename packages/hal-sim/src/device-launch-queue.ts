// The device thread's end of the launch queue: the consumer, and the sleep that fits the memory
// (a futex in the memfd, which producers in other processes can wake; Atomics.wait on a SAB).
import { LQ_DOORBELL, LaunchQueueConsumer } from '@simpler/abi';
import { CTL_QUEUE_HANDOFF } from './device-protocol';
import { mapHandedOver } from './handed-over-memfd';
import type { DeviceQueueEnd } from './launch-queue-memory';

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
  const { mapping, failure } = mapHandedOver(control, CTL_QUEUE_HANDOFF, end.fd);
  if (mapping === undefined) throw new Error(`cannot map the launch queue: ${failure}`);
  const own = mapping;
  return {
    consumer: new LaunchQueueConsumer(own.buffer, own.byteOffset, end.byteLength),
    sleep: (rung, ms) => void own.futexWait(LQ_DOORBELL, rung, ms),
    unmap: () => own.unmap(),
  };
}

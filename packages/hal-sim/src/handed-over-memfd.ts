// Runs on the device thread: takes a memfd descriptor the host duplicated for it and maps it.
import { closeSync } from 'node:fs';
import type { SharedMapping, SharedMemoryObject } from '@simpler/shm';
import { HANDOFF_DEVICE, HANDOFF_PENDING } from './device-protocol';
import { loadShm } from './shm-loader';

/** The device's own mapping of a handed-over memfd, or why there is none. */
export type HandedOver = { readonly mapping: SharedMapping; readonly failure?: undefined } | { readonly mapping?: undefined; readonly failure: string };

/**
 * Claims descriptor `fd` by a compare-and-swap of `words[index]` from {@link HANDOFF_PENDING} to
 * {@link HANDOFF_DEVICE} (the host closes it instead when it wins: released before the device got
 * here), maps the whole object over a heap buffer of this isolate (so this thread's collector alone
 * decides when the range goes), and closes the descriptor either way.
 */
export function mapHandedOver(words: Int32Array, index: number, fd: number): HandedOver {
  if (Atomics.compareExchange(words, index, HANDOFF_PENDING, HANDOFF_DEVICE) !== HANDOFF_PENDING) return { failure: 'released' };
  const { shm, reason } = loadShm();
  let object: SharedMemoryObject | undefined;
  try {
    if (shm === undefined) return { failure: reason };
    object = shm.SharedMemoryObject.fromFd(fd);
    return { mapping: object.map(undefined, 0, { backing: 'heap' }) };
  } catch (error) {
    return { failure: error instanceof Error ? error.message : String(error) };
  } finally {
    if (object !== undefined) object.close();
    else closeSync(fd);
  }
}

import { BackendError, UnsupportedError } from '@simpler/abi';
import type { SharedMemoryObject } from '@simpler/shm';
import type { ShmModule } from '../shm-loader';

/**
 * Direct access cannot work here (the environment or the backend), but the region is fine:
 * a default open falls back to a proxied region; `access: 'direct'` makes it `ENOTSUP`.
 */
export class DirectUnavailableError extends UnsupportedError {}

/** What a chip child described: its descriptor number, the object's inode, the bytes the parent will map. */
export interface ChildObjectTerms {
  readonly fd: number;
  readonly inode: bigint;
  /** Bytes from offset 0 the parent needs the object to have. */
  readonly bytes: number;
  /** What the object holds, for messages ("the region's memory"). */
  readonly what: string;
}

/**
 * Opens a chip child's descriptor through `/proc/<pid>/fd/<fd>` and checks that it is the object
 * the child described (docs/l3-protocol.md sections 10 and 11): the same inode, sealed against
 * shrinking (so no mapping of it can fault), and large enough. A descriptor that cannot be opened
 * is {@link DirectUnavailableError}; an object that is not the one described is `lie(...)`.
 */
export function openChildObject(shm: ShmModule, pid: number, terms: ChildObjectTerms, lie: (what: string) => BackendError): SharedMemoryObject {
  let object: SharedMemoryObject;
  try {
    object = shm.SharedMemoryObject.fromProcess(pid, terms.fd);
  } catch (error) {
    throw new DirectUnavailableError(`cannot open ${terms.what} of chip child ${pid} (/proc/${pid}/fd/${terms.fd}): ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    if (object.inode !== terms.inode) throw lie(`descriptor ${terms.fd} is not the object it described (inode ${object.inode}, expected ${terms.inode})`);
    if (!object.sizeSealed) {
      throw new DirectUnavailableError(`${terms.what} is not sealed against shrinking, so a mapping here could fault (SIGBUS)`);
    }
    if (object.size < terms.bytes) throw lie(`the object has ${object.size} bytes, fewer than the ${terms.bytes} described`);
    return object;
  } catch (error) {
    object.close();
    throw error;
  }
}

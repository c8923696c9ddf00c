import {
  BackendAllocation,
  BackendError,
  REGION_HEADER_BYTES,
  RegionLayout,
  SIGNAL_SLOT_BYTES,
  decodeRegionHeader,
} from '@simpler/abi';
import type { SharedMapping } from '@simpler/shm';
import { writeRegionHeader } from '../../context/region-allocation';
import { sleepAsync } from '../../context/wait-strategy';
import type { ShareReply } from '../chip-endpoint';
import type { ShmModule } from '../shm-loader';
import { openChildObject } from './child-object';

export { DirectUnavailableError } from './child-object';

/** ARG3 of a share reply for memory whose sleepers poll instead of sleeping in a futex. */
export const WAKE_BY_POLLING = 0xffff_ffff_ffff_ffffn;

/**
 * Most direct waits of this process asleep in `FUTEX_WAIT` at once: each holds a libuv pool
 * thread (4 by default) for up to one wait slice, so the rest sleep on timers and look again.
 */
export const MAX_POOL_SLEEPERS = 2;
let poolSleepers = 0;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The checked numbers of a share reply. */
interface ShareTerms {
  readonly fd: number;
  readonly offset: number;
  readonly sleepersOffset: number | undefined;
}

function lie(workerId: number, what: string): BackendError {
  return new BackendError(`worker ${workerId}: the chip child's share reply is unusable: ${what}`);
}

/** Checks a share reply against the layout the parent computed itself; a child that lies is `EIO`. */
function termsOf(reply: ShareReply, layout: RegionLayout, pageSize: number, workerId: number): ShareTerms {
  if (reply.fd > 0x7fff_ffffn) throw lie(workerId, `descriptor ${reply.fd} is out of range`);
  if (reply.offset > MAX_SAFE || Number(reply.offset) % pageSize !== 0) throw lie(workerId, `offset ${reply.offset} is not a page multiple below 2^53`);
  if (reply.length !== BigInt(layout.totalBytes)) throw lie(workerId, `length ${reply.length} is not the region's ${layout.totalBytes} bytes`);
  const offset = Number(reply.offset);
  if (reply.wake === WAKE_BY_POLLING) return { fd: Number(reply.fd), offset, sleepersOffset: undefined };
  const at = reply.wake;
  if (at > MAX_SAFE || at % 4n !== 0n) throw lie(workerId, `sleeper count offset ${at} is not a multiple of 4 below 2^53`);
  const sleepersOffset = Number(at);
  if (sleepersOffset + 4 > offset && sleepersOffset < offset + layout.totalBytes) throw lie(workerId, `sleeper count offset ${at} lies inside the region`);
  return { fd: Number(reply.fd), offset, sleepersOffset };
}

/** The region header the child wrote at open must be exactly the one of the layout asked for. */
function checkHeader(bytes: Uint8Array, layout: RegionLayout, workerId: number): void {
  const expected = new Uint8Array(REGION_HEADER_BYTES);
  writeRegionHeader(layout, expected);
  const want = decodeRegionHeader(expected, 0) as unknown as Record<string, unknown>;
  const got = decodeRegionHeader(bytes, 0) as unknown as Record<string, unknown>;
  // Compared as text: the fields are numbers, bigints and (reserved) arrays of them.
  for (const field of Object.keys(want)) {
    if (String(got[field]) !== String(want[field])) throw lie(workerId, `the mapped memory is not the region: header ${field} is ${String(got[field])}, expected ${String(want[field])}`);
  }
}

/**
 * Maps a chip child's region into this process as an allocation the parent's device context
 * drives directly (docs/l3-protocol.md section 10). The descriptor is closed once mapped; the
 * mapping is given back at `release`, or, when a sleep is still on a pool thread, as soon as
 * that sleep returns (woken by release, or at its slice's end). The region's memory
 * stays alive while mapped, even if the child dies, and its size is sealed: no access here can
 * fault.
 */
export function importRegion(shm: ShmModule, pid: number, reply: ShareReply, layout: RegionLayout, workerId: number): BackendAllocation {
  const terms = termsOf(reply, layout, shm.systemPageSize(), workerId);
  const need = Math.max(terms.offset + layout.totalBytes, (terms.sleepersOffset ?? 0) + 4);
  const object = openChildObject(shm, pid, { fd: terms.fd, inode: reply.inode, bytes: need, what: "the region's memory" }, (what) => lie(workerId, what));
  let mapping: SharedMapping;
  try {
    mapping = object.map(Math.max(terms.offset + layout.totalBytes, (terms.sleepersOffset ?? 0) + 4), 0, { backing: 'heap' });
  } finally {
    object.close();
  }
  const regionAt = terms.offset;
  const bytes = new Uint8Array(mapping.buffer, mapping.byteOffset + regionAt, layout.totalBytes);
  try {
    checkHeader(bytes, layout, workerId);
  } catch (error) {
    mapping.unmap();
    throw error;
  }
  const polled: BackendAllocation = { bytes, hostBase: 0n, deviceBase: 0n, release: () => mapping.unmap() };
  if (terms.sleepersOffset === undefined) return polled;
  const sleepers = new Int32Array(mapping.buffer, mapping.byteOffset + terms.sleepersOffset, 1);
  const words = new Int32Array(bytes.buffer, bytes.byteOffset, layout.totalBytes >>> 2);
  let released = false;
  // Sleeps of this region on pool threads: one may not be in FUTEX_WAIT yet when release wakes
  // the word, and unmapping then would leave it asleep on pages nobody wakes until its timeout.
  let inFlight = 0;
  const wakeAll = (): void => {
    if (Atomics.load(sleepers, 0) === 0) return;
    for (let slot = 0; slot < layout.signalCount; slot++) mapping.futexWake(regionAt + layout.signalOffset + slot * SIGNAL_SLOT_BYTES);
  };
  const settle = (): void => {
    poolSleepers--;
    Atomics.sub(sleepers, 0, 1);
    if (--inFlight === 0 && released) mapping.unmap();
  };
  return {
    ...polled,
    // A load and a compare when nobody sleeps: the futex call only when the device (or another wait) does.
    wakeSignal: (offset: number) => {
      if (Atomics.load(sleepers, 0) !== 0) mapping.futexWake(regionAt + offset);
    },
    sleepSignalAsync: (offset: number, observed: number, timeoutMs: number) => {
      // The core's own fallback: sleep on a timer, then look again.
      if (released || poolSleepers >= MAX_POOL_SLEEPERS) return sleepAsync(timeoutMs);
      poolSleepers++;
      inFlight++;
      // Announce, then look: a publisher either sees the count or this look sees its store.
      Atomics.add(sleepers, 0, 1);
      if (Atomics.load(words, offset >>> 2) >>> 0 !== observed) {
        settle();
        return undefined;
      }
      return mapping.futexWaitAsync(regionAt + offset, observed | 0, timeoutMs).then(settle, settle);
    },
    release: () => {
      released = true;
      // Wake this process's sleepers (and the device's: they look again); the range goes with the last of them.
      wakeAll();
      if (inFlight === 0) mapping.unmap();
    },
  };
}

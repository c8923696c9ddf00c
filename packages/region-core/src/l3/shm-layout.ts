import { InvalidArgumentError, MAILBOX_BYTES, SIDEBAND_HEADER_BYTES, describe } from '@simpler/abi';

// The shared-memory transport (docs/l3-protocol.md, "Shared-memory transport"): the 4096-byte
// mailbox block of spec 9.2 lives in one anonymous shared memory object, the payloads in a second
// one, the data window. The words below sit in the block's reserved body (96..3840), each on its
// own cache line so that the two writers never share one.

/** Which carrier an L3 parent and its chip child use for mailbox blocks and payloads. */
export type L3Transport = 'shm' | 'pipe';

/** Both transports, in the order a CLI lists them. */
export const L3_TRANSPORTS: readonly L3Transport[] = ['shm', 'pipe'];

/** Size of the control block: exactly one mailbox block. */
export const CONTROL_BLOCK_BYTES = MAILBOX_BYTES;

/** i32 index of the `state` word (offset 0). */
export const STATE_WORD = 0;
/** i32 index of `child_sleeping` (offset 128): 1 while the child waits for a doorbell byte. Child writes. */
export const CHILD_SLEEPING_WORD = 128 / 4;
/** i32 index of `parent_sleeping` (offset 192): 1 while the parent waits for a doorbell byte. Parent writes. */
export const PARENT_SLEEPING_WORD = 192 / 4;
/** u32 index of `parent_chunks` (offset 256): chunks the parent filled (h2region) or released (region2h). */
export const PARENT_CHUNKS_WORD = 256 / 4;
/** u32 index of `child_chunks` (offset 320): chunks the child consumed (h2region) or filled (region2h). */
export const CHILD_CHUNKS_WORD = 320 / 4;

/** The data window starts with a side-band header (spec 9.3). */
export const WINDOW_HEADER_BYTES = SIDEBAND_HEADER_BYTES;
/**
 * Where the chunk halves start: the page after the header. Page-aligned halves never share a page
 * (nor a prefetched neighbour line) with the half the other process is copying at the same time,
 * which measured twice as fast as halves packed right after the header.
 */
export const WINDOW_DATA_OFFSET = 4096;
/** Smallest chunk (one half of the window). */
export const MIN_CHUNK_BYTES = 4096;
/** Largest chunk: keeps every offset inside the window an exact small integer. */
export const MAX_CHUNK_BYTES = 1 << 30;
/**
 * Default chunk (half window): large enough to amortise a handshake, small enough that a chunk the
 * other process just wrote is still in cache when this one copies it (docs/performance.md).
 */
export const DEFAULT_CHUNK_BYTES = 512 << 10;

/** The byte a side writes on the pipe to wake its sleeping peer; any value does. */
export const DOORBELL_BYTE = 0x01;

/** Descriptor numbers of the control block and the data window in a child spawned by the Node parent. */
export const DEFAULT_CONTROL_FD = 3;
/** See {@link DEFAULT_CONTROL_FD}. */
export const DEFAULT_WINDOW_FD = 4;

/** Default spin budget of the parent after publishing, in µs: short, its event loop is shared. */
export const DEFAULT_PARENT_SPIN_US = 50;
/** Default spin budget of the child after answering (and while a chunk is late), in µs. */
export const DEFAULT_CHILD_SPIN_US = 500;
/** Upper bound of either spin budget, in µs. */
export const MAX_SPIN_US = 1_000_000;

/** Size of a data window whose halves are `chunkBytes` each. */
export function windowBytesFor(chunkBytes: number): number {
  return WINDOW_DATA_OFFSET + 2 * chunkBytes;
}

/** Checks a chunk size: a multiple of 4096 in {@link MIN_CHUNK_BYTES}..{@link MAX_CHUNK_BYTES}. */
export function checkChunkBytes(value: unknown, what = 'chunkBytes'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_CHUNK_BYTES || value > MAX_CHUNK_BYTES || value % 4096 !== 0) {
    throw new InvalidArgumentError(`${what} must be a multiple of 4096 in ${MIN_CHUNK_BYTES}..${MAX_CHUNK_BYTES}, got ${describe(value)}`);
  }
  return value;
}

/** The chunk size of a window of `windowBytes` (`4096 + 2 × chunk`); `EINVAL` for any other size. */
export function chunkBytesOf(windowBytes: number): number {
  const chunk = (windowBytes - WINDOW_DATA_OFFSET) / 2;
  return checkChunkBytes(chunk, `data window of ${windowBytes} bytes: its chunk size (size - 4096) / 2`);
}

/** Checks a spin budget in µs (0 = do not spin). */
export function checkSpinUs(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_SPIN_US) {
    throw new InvalidArgumentError(`${what} must be a number of microseconds in 0..${MAX_SPIN_US}, got ${describe(value)}`);
  }
  return value;
}

/** Checks a transport name. */
export function checkTransport(value: unknown, what = 'transport'): L3Transport {
  if (value !== 'shm' && value !== 'pipe') throw new InvalidArgumentError(`${what} must be 'shm' or 'pipe', got ${describe(value)}`);
  return value;
}

import { InvalidArgumentError, SIDEBAND_MAGIC, SIDEBAND_VERSION, readU64, writeU64 } from '@simpler/abi';
import type { SidebandRequest } from './sideband-segment';
import { WINDOW_DATA_OFFSET, WINDOW_HEADER_BYTES, chunkBytesOf } from './shm-layout';

const MAGIC = Uint8Array.from(SIDEBAND_MAGIC, (c) => c.charCodeAt(0));
const STATUS_OFFSET = 32;
const RESERVED_FROM = 36;

/**
 * The data window of the shared-memory transport: a side-band header (spec 9.3) at byte 0, then
 * from byte 4096 two halves of `chunkBytes` each. A payload of n bytes travels as chunks
 * k = 0 .. ceil(n / chunk) - 1; chunk k holds payload bytes [k × chunk, min(n, (k + 1) × chunk))
 * and lives in half k mod 2.
 *
 * @example
 * const w = new DataWindow(mapping.buffer);
 * w.writeHeader(SidebandOp.H2REGION, handle, 0, src.byteLength); w.putChunk(0, src, src.byteLength);
 */
export class DataWindow {
  /** The whole window. */
  readonly bytes: Uint8Array;
  /** Bytes per chunk (one half of the window). */
  readonly chunkBytes: number;
  private readonly view: DataView;
  /** Both halves whole: most chunks fill one, and need no view made per chunk. */
  private readonly halves: readonly [Uint8Array, Uint8Array];

  constructor(buffer: ArrayBuffer) {
    this.chunkBytes = chunkBytesOf(buffer.byteLength);
    this.bytes = new Uint8Array(buffer);
    this.view = new DataView(buffer);
    const c = this.chunkBytes;
    this.halves = [this.bytes.subarray(WINDOW_DATA_OFFSET, WINDOW_DATA_OFFSET + c), this.bytes.subarray(WINDOW_DATA_OFFSET + c, WINDOW_DATA_OFFSET + 2 * c)];
  }

  /** How many chunks a payload of `nbytes` takes (0 for an empty one). */
  chunkCount(nbytes: number): number {
    return Math.ceil(nbytes / this.chunkBytes);
  }

  /** Payload bytes in chunk `k` of a payload of `nbytes`. */
  chunkLength(k: number, nbytes: number): number {
    const rest = nbytes - k * this.chunkBytes;
    return rest < this.chunkBytes ? rest : this.chunkBytes;
  }

  /** Window offset of the half that holds chunk `k`. */
  slot(k: number): number {
    return WINDOW_DATA_OFFSET + (k % 2) * this.chunkBytes;
  }

  /** Copies chunk `k` of the `nbytes`-long `payload` into its half (producer side). */
  putChunk(k: number, payload: Uint8Array, nbytes: number): void {
    const from = k * this.chunkBytes;
    const length = this.chunkLength(k, nbytes);
    this.bytes.set(length === nbytes ? payload : payload.subarray(from, from + length), this.slot(k));
  }

  /** Zeroes chunk `k`'s part of its half: what goes instead of a source that is no longer there. */
  clearChunk(k: number, nbytes: number): void {
    const at = this.slot(k);
    this.bytes.fill(0, at, at + this.chunkLength(k, nbytes));
  }

  /** Copies chunk `k` out of its half into the `nbytes`-long `payload` (consumer side). */
  takeChunk(k: number, payload: Uint8Array, nbytes: number): void {
    payload.set(this.half(k, this.chunkLength(k, nbytes)), k * this.chunkBytes);
  }

  /** The half that holds chunk `k`, `length` bytes long (for a copy straight from or into a region). */
  half(k: number, length: number): Uint8Array {
    if (length === this.chunkBytes) return this.halves[k % 2];
    const at = this.slot(k);
    return this.bytes.subarray(at, at + length);
  }

  /** Writes the header of one request (parent side); `status` 0, reserved bytes zero. */
  writeHeader(op: number, region: number, offset: number, nbytes: number): void {
    const b = this.bytes;
    const v = this.view;
    b.set(MAGIC, 0);
    v.setUint16(4, SIDEBAND_VERSION, true);
    v.setUint16(6, op, true);
    writeU64(v, 8, region);
    writeU64(v, 16, offset);
    writeU64(v, 24, nbytes);
    b.fill(0, STATUS_OFFSET, WINDOW_HEADER_BYTES);
  }

  /**
   * Reads and validates the header for a request of kind `op` (child side): magic, version, op,
   * reserved bytes, and integers a JavaScript number holds exactly. `EINVAL` otherwise.
   */
  readHeader(op: number): SidebandRequest {
    const b = this.bytes;
    const v = this.view;
    if (b[0] !== MAGIC[0] || b[1] !== MAGIC[1] || b[2] !== MAGIC[2] || b[3] !== MAGIC[3]) {
      throw new InvalidArgumentError(`data window magic must be "${SIDEBAND_MAGIC}", got bytes ${Array.from(b.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join(' ')}`);
    }
    const version = v.getUint16(4, true);
    if (version !== SIDEBAND_VERSION) throw new InvalidArgumentError(`data window header version must be ${SIDEBAND_VERSION}, got ${version}`);
    const gotOp = v.getUint16(6, true);
    if (gotOp !== op) throw new InvalidArgumentError(`data window header op must be ${op} for this command, got ${gotOp}`);
    for (let i = RESERVED_FROM; i < WINDOW_HEADER_BYTES; i++) {
      if (b[i] !== 0) throw new InvalidArgumentError('data window header reserved bytes must be zero');
    }
    const region = readU64(v, 8);
    const offset = readU64(v, 16);
    const nbytes = readU64(v, 24);
    if (!Number.isSafeInteger(region) || !Number.isSafeInteger(offset) || !Number.isSafeInteger(nbytes)) {
      throw new InvalidArgumentError(`data window region/offset/nbytes out of range: ${v.getBigUint64(8, true)}n/${v.getBigUint64(16, true)}n/${v.getBigUint64(24, true)}n`);
    }
    return { op: gotOp, region, offset, nbytes };
  }

  /** Writes the header `status` (child side): 0 or a negative errno. */
  writeStatus(errno: number): void {
    this.view.setInt32(STATUS_OFFSET, errno, true);
  }

  /** The header `status` the child wrote. */
  status(): number {
    return this.view.getInt32(STATUS_OFFSET, true);
  }
}

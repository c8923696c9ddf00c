import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  BackendError,
  InvalidArgumentError,
  MAILBOX_NAME_BYTES,
  OutOfMemoryError,
  SIDEBAND_HEADER_BYTES,
  SIDEBAND_HEADER_LAYOUT,
  SIDEBAND_MAGIC,
  SIDEBAND_VERSION,
  decodeSidebandHeader,
  describe,
  encodeSidebandHeader,
  reservedAreZero,
} from '@simpler/abi';
import { allocateOutput, typedArrayByteLength } from '../context/byte-source';

/** Directory holding side-band segments (POSIX shared memory on Linux). */
export const SHM_DIR = '/dev/shm';
/** Longest segment name: the mailbox name field is 32 bytes including its NUL. */
export const SEGMENT_NAME_MAX = MAILBOX_NAME_BYTES - 1;
/** Fewest random hex digits after the prefix. */
export const SEGMENT_RANDOM_MIN = 8;
/**
 * Payloads move in pieces of this size, one synchronous system call each, with the event loop
 * running between pieces. A thread-pool write or read of caller memory would still be in flight
 * while JS runs, and a caller who detaches or shrinks that buffer meanwhile frees the memory
 * under the kernel; between pieces, nothing is in flight and the view is checked again.
 */
const IO_PIECE_BYTES = 4 << 20;
/** Error codes of a full `/dev/shm` (or no memory to back it). */
const NO_SPACE_CODES: readonly unknown[] = ['ENOSPC', 'ENOMEM', 'EDQUOT'];

const PREFIX_PATTERN = /^[A-Za-z0-9_-]+$/;
const RANDOM_PATTERN = /^[0-9a-f]+$/;

/** The default segment-name prefix for segments created by process `pid`. */
export function defaultSegmentPrefix(pid: number): string {
  return `simpler-hdmr-${pid}-`;
}

/** Validates a segment-name prefix (letters, digits, `_`, `-`; room left for the random part). */
export function checkSegmentPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix) || prefix.length > SEGMENT_NAME_MAX - SEGMENT_RANDOM_MIN) {
    throw new InvalidArgumentError(
      `segment prefix must be 1..${SEGMENT_NAME_MAX - SEGMENT_RANDOM_MIN} characters of [A-Za-z0-9_-], got ${describe(prefix)}`,
    );
  }
  return prefix;
}

/**
 * Checks a segment name received from a peer: `<prefix><at least 8 lowercase hex digits>`, at
 * most 31 characters. This rules out `/`, `..`, NUL and anything outside our own namespace.
 */
export function checkSegmentName(name: string, prefix: string): void {
  const rest = name.startsWith(prefix) ? name.slice(prefix.length) : '';
  if (name.length > SEGMENT_NAME_MAX || rest.length < SEGMENT_RANDOM_MIN || !RANDOM_PATTERN.test(rest)) {
    throw new InvalidArgumentError(`side-band segment name ${describe(name)} is not ${describe(prefix)} followed by 8+ hex digits (max ${SEGMENT_NAME_MAX} chars)`);
  }
}

/**
 * Unlinks every segment in `dir` named `<prefix><hex>` that is a regular file of ours with mode
 * 0600: what a chip child does once its parent died, for segments it was never handed (the parent
 * may die between creating a segment and sending the frame that names it). Never throws.
 */
export function removeSegmentsWithPrefix(prefix: string, dir: string = SHM_DIR): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  for (const name of names) {
    try {
      checkSegmentName(name, prefix);
      const file = path.join(dir, name);
      const st = fs.lstatSync(file);
      if (st.isFile() && (uid === undefined || st.uid === uid) && (st.mode & 0o077) === 0) fs.unlinkSync(file);
    } catch {
      // not one of ours, or gone already
    }
  }
}

/** Parsed, validated side-band header. */
export interface SidebandRequest {
  /** 1 info, 2 h2region, 3 region2h. */
  readonly op: number;
  /** Region handle. */
  readonly region: number;
  /** Data-area offset. */
  readonly offset: number;
  /** Payload bytes. */
  readonly nbytes: number;
}

/**
 * The byte length the engine holds for a view: 0 once its buffer is detached or shrunk under a
 * fixed-length view, the current length of a length-tracking one, whatever a caller redefined.
 */
export const viewByteLength: (view: Uint8Array) => number = typedArrayByteLength;

/**
 * `EINVAL` for a datacopy view (`what`: source or destination) that no longer has `nbytes`, its
 * length at the call, but `now`; `aftermath` says what the transfer left behind, if anything.
 */
export function lentViewError(what: string, nbytes: number, now: number, aftermath = ''): InvalidArgumentError {
  return new InvalidArgumentError(
    `the datacopy ${what} went from ${nbytes} to ${now} bytes (detached or resized) before the copy settled: it is lent until then${aftermath}`,
  );
}

function writeRange(fd: number, bytes: Uint8Array, from: number, to: number, position: number): void {
  let done = from;
  while (done < to) done += fs.writeSync(fd, bytes, done, to - done, position + done);
}

function readRange(fd: number, into: Uint8Array, from: number, to: number, position: number): void {
  let done = from;
  while (done < to) {
    const n = fs.readSync(fd, into, done, to - done, position + done);
    if (n === 0) throw new BackendError(`side-band segment ended after ${done} of ${to} payload bytes`);
    done += n;
  }
}

function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  writeRange(fd, bytes, 0, bytes.byteLength, position);
}

function readFully(fd: number, into: Uint8Array, position: number): void {
  readRange(fd, into, 0, into.byteLength, position);
}

/**
 * A full `/dev/shm` as what it is, `ENOMEM` naming the place and the size (spec 5: the space for
 * a transfer could not be allocated); anything else unchanged.
 */
export function segmentSpaceError(error: unknown, name: string, nbytes: number): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (!NO_SPACE_CODES.includes(code)) return error;
  return new OutOfMemoryError(`no room in ${SHM_DIR} for the ${nbytes}-byte payload of side-band segment ${name} (${code})`, { cause: error });
}

/**
 * Runs `piece(from, to)` over `[0, total)` in {@link IO_PIECE_BYTES} steps. The first piece runs
 * at once; before each later one `check()` may throw to stop. Synchronous when one piece does.
 */
function inPieces(total: number, piece: (from: number, to: number) => void, check: () => void): void | Promise<void> {
  let done = total < IO_PIECE_BYTES ? total : IO_PIECE_BYTES;
  piece(0, done);
  if (done >= total) return;
  return new Promise((resolve, reject) => {
    const step = (): void => {
      try {
        check();
        const to = total - done < IO_PIECE_BYTES ? total : done + IO_PIECE_BYTES;
        piece(done, to);
        done = to;
      } catch (error) {
        reject(error);
        return;
      }
      if (done >= total) resolve();
      else setImmediate(step);
    };
    setImmediate(step);
  });
}

const liveSegments = new Set<ParentSegment>();
let exitHookInstalled = false;

/** Unlinks every segment this process still owns; registered on process exit. */
export function unlinkAllSegments(): void {
  for (const s of [...liveSegments]) s.dispose();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', unlinkAllSegments);
}

/**
 * The parent's side-band segment for one parent–child pair: created exclusively with mode 0600
 * under an unpredictable name, reused across requests, grown on demand, unlinked on dispose
 * and on process exit.
 *
 * @example
 * const seg = ParentSegment.create(); seg.prepare(SidebandOp.H2REGION, handle, 0, src.byteLength, true);
 * seg.writePayloadSync(src); // then send the frame with name = seg.name
 */
export class ParentSegment {
  private readonly header = new Uint8Array(SIDEBAND_HEADER_BYTES);
  private capacity = SIDEBAND_HEADER_BYTES;
  private disposed = false;

  private constructor(
    /** Segment name (what goes into the mailbox `name` field). */
    readonly name: string,
    /** Absolute path of the segment file. */
    readonly filePath: string,
    private fd: number,
  ) {}

  /** Creates a new segment; `prefix` defaults to `simpler-hdmr-<pid>-`. */
  static create(prefix: string = defaultSegmentPrefix(process.pid), dir: string = SHM_DIR): ParentSegment {
    checkSegmentPrefix(prefix);
    const flags = fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_RDWR | fs.constants.O_NOFOLLOW;
    for (let attempt = 0; ; attempt++) {
      const digits = SEGMENT_NAME_MAX - prefix.length;
      const name = prefix + randomBytes(Math.ceil(digits / 2)).toString('hex').slice(0, digits);
      const filePath = path.join(dir, name);
      try {
        const fd = fs.openSync(filePath, flags, 0o600);
        const seg = new ParentSegment(name, filePath, fd);
        try {
          fs.ftruncateSync(fd, SIDEBAND_HEADER_BYTES);
        } catch (e) {
          seg.dispose();
          throw e;
        }
        installExitHook();
        liveSegments.add(seg);
        return seg;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 8) continue;
        throw new BackendError(`cannot create side-band segment in ${dir}: ${(e as Error).message}`);
      }
    }
  }

  /** Current file size in bytes. */
  get size(): number {
    return this.capacity;
  }

  /** Writes the header for one request and, when `grow`, makes room for `nbytes` of payload. */
  prepare(op: number, region: number, offset: number, nbytes: number, grow: boolean): void {
    this.ensureOpen();
    if (grow && this.capacity - SIDEBAND_HEADER_BYTES < nbytes) {
      try {
        fs.ftruncateSync(this.fd, SIDEBAND_HEADER_BYTES + nbytes);
      } catch (error) {
        throw segmentSpaceError(error, this.name, nbytes);
      }
      this.capacity = SIDEBAND_HEADER_BYTES + nbytes;
    }
    encodeSidebandHeader({ magic: SIDEBAND_MAGIC, version: SIDEBAND_VERSION, op, region, offset, nbytes, status: 0 }, this.header);
    writeFully(this.fd, this.header, 0);
  }

  /**
   * Writes `nbytes` of `src` as the payload at byte 64 (the caller did `prepare` first). `src`
   * must hold exactly `nbytes` (its length at the call) until the write is done: `EINVAL` if it
   * was detached or resized, so a payload is never partly another request's bytes.
   */
  async writePayload(src: Uint8Array, nbytes: number = viewByteLength(src)): Promise<void> {
    const check = (): void => this.checkView(src, nbytes, 'source');
    check();
    try {
      await inPieces(nbytes, (from, to) => writeRange(this.fd, src, from, to, SIDEBAND_HEADER_BYTES), check);
    } catch (error) {
      throw segmentSpaceError(error, this.name, nbytes);
    }
  }

  /** Reads `nbytes` of payload from byte 64 into a new buffer. */
  async readPayload(nbytes: number): Promise<Buffer> {
    const out = allocateOutput(nbytes);
    await this.readPayloadInto(out, nbytes);
    return out;
  }

  /** Fills `dst` (which must hold exactly `nbytes` throughout, else `EINVAL`) from byte 64. */
  async readPayloadInto(dst: Uint8Array, nbytes: number = viewByteLength(dst)): Promise<void> {
    const check = (): void => this.checkView(dst, nbytes, 'destination');
    check();
    await inPieces(nbytes, (from, to) => readRange(this.fd, dst, from, to, SIDEBAND_HEADER_BYTES), check);
  }

  /** Before each piece: the segment is live and the caller's view still has its length of the call. */
  private checkView(view: Uint8Array, nbytes: number, what: string): void {
    this.ensureOpen();
    const now = viewByteLength(view);
    if (now !== nbytes) throw lentViewError(what, nbytes, now);
  }

  private closeFd(): void {
    if (this.fd < 0) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = -1;
  }

  /** Reads the `status` the child wrote into the header. */
  readStatus(): number {
    this.ensureOpen();
    readFully(this.fd, this.header, 0);
    return new DataView(this.header.buffer).getInt32(32, true);
  }

  /**
   * Gives the payload's memory back (tmpfs pages stay allocated otherwise): after a very large
   * payload, and after a failed transfer, which may have filled `/dev/shm`. Never throws.
   */
  shrink(): void {
    if (this.disposed || this.capacity === SIDEBAND_HEADER_BYTES) return;
    try {
      fs.ftruncateSync(this.fd, SIDEBAND_HEADER_BYTES);
      this.capacity = SIDEBAND_HEADER_BYTES;
    } catch {
      // Shrinking a tmpfs file needs no space; a failure leaves the capacity as recorded.
    }
  }

  /** Closes and unlinks the segment. Idempotent; never throws. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    liveSegments.delete(this);
    this.closeFd();
    try {
      fs.unlinkSync(this.filePath);
    } catch {
      // gone already (the child unlinks it when its parent dies)
    }
  }

  private ensureOpen(): void {
    if (this.disposed) throw new BackendError(`side-band segment ${this.name} is already released`);
  }
}

/**
 * The chip child's view of a segment it was handed by name: opened without creating or
 * following links, checked for ownership and size before any byte is used.
 */
export class ChildSegment {
  private readonly header = new Uint8Array(SIDEBAND_HEADER_BYTES);
  private readonly status = new Uint8Array(4);

  private constructor(
    /** Segment name. */
    readonly name: string,
    /** Absolute path. */
    readonly filePath: string,
    /** Open file descriptor. */
    readonly fd: number,
  ) {}

  /** Opens a segment after validating its name against `prefix`; `EINVAL` for a bad name or file. */
  static open(name: string, prefix: string, dir: string = SHM_DIR): ChildSegment {
    checkSegmentName(name, prefix);
    const filePath = path.join(dir, name);
    let fd: number;
    try {
      fd = fs.openSync(filePath, fs.constants.O_RDWR | fs.constants.O_NOFOLLOW);
    } catch (e) {
      throw new InvalidArgumentError(`cannot open side-band segment ${describe(name)}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const st = fs.fstatSync(fd);
    const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
    if (!st.isFile() || st.uid !== uid || (st.mode & 0o077) !== 0) {
      fs.closeSync(fd);
      throw new InvalidArgumentError(`side-band segment ${describe(name)} is not a regular file of ours with mode 0600`);
    }
    return new ChildSegment(name, filePath, fd);
  }

  /**
   * Reads and validates the header for a request of kind `op`: magic, version, op, reserved
   * bytes and safe integers. `EINVAL` otherwise. The payload size is checked by {@link requirePayload}.
   */
  readRequest(op: number): SidebandRequest {
    const size = fs.fstatSync(this.fd).size;
    if (size < SIDEBAND_HEADER_BYTES) throw new InvalidArgumentError(`side-band segment ${this.name} is ${size} bytes, smaller than its 64-byte header`);
    readFully(this.fd, this.header, 0);
    const h = decodeSidebandHeader(this.header);
    const magic = Buffer.from(h.magic).toString('latin1');
    if (magic !== SIDEBAND_MAGIC) throw new InvalidArgumentError(`side-band magic must be "${SIDEBAND_MAGIC}", got ${JSON.stringify(magic)}`);
    const version = h.version;
    const gotOp = h.op;
    if (version !== SIDEBAND_VERSION) throw new InvalidArgumentError(`side-band version must be ${SIDEBAND_VERSION}, got ${version}`);
    if (gotOp !== op) throw new InvalidArgumentError(`side-band op must be ${op} for this command, got ${gotOp}`);
    if (!reservedAreZero(SIDEBAND_HEADER_LAYOUT, this.header)) throw new InvalidArgumentError('side-band reserved bytes must be zero');
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    if (h.region > max || h.offset > max || h.nbytes > max) {
      throw new InvalidArgumentError(`side-band region/offset/nbytes out of range: ${h.region}n/${h.offset}n/${h.nbytes}n`);
    }
    return { op: gotOp, region: Number(h.region), offset: Number(h.offset), nbytes: Number(h.nbytes) };
  }

  /**
   * Checks that the file holds `nbytes` of payload after the header (`EINVAL` otherwise). Called
   * after the region checked handle and range, so a bad request reports the same error as at L2.
   */
  requirePayload(nbytes: number): void {
    const room = fs.fstatSync(this.fd).size - SIDEBAND_HEADER_BYTES;
    if (room < nbytes) throw new InvalidArgumentError(`side-band segment ${this.name} holds ${Math.max(room, 0)} payload bytes, the header says ${nbytes}`);
  }

  /** Fills `into` from the payload (byte 64 on). */
  readPayload(into: Uint8Array): void {
    readFully(this.fd, into, SIDEBAND_HEADER_BYTES);
  }

  /** Writes `from` as the payload (byte 64 on); a full `/dev/shm` is `ENOMEM`. */
  writePayload(from: Uint8Array): void {
    try {
      writeFully(this.fd, from, SIDEBAND_HEADER_BYTES);
    } catch (error) {
      throw segmentSpaceError(error, this.name, from.byteLength);
    }
  }

  /** Writes the header `status` field; best effort (a vanished or truncated file is ignored). */
  writeStatus(errno: number): void {
    new DataView(this.status.buffer).setInt32(0, errno, true);
    try {
      if (fs.fstatSync(this.fd).size >= SIDEBAND_HEADER_BYTES) writeFully(this.fd, this.status, 32);
    } catch {
      // the parent may have removed it; the reply frame still carries the error
    }
  }

  /** Closes the descriptor. */
  close(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}


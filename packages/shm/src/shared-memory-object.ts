import { closeSync, constants as fsConstants, fstatSync, ftruncateSync, openSync, Stats } from 'node:fs';
import { BackendError, InvalidArgumentError, describe } from '@simpler/abi';
import { fsCallError, syscallError } from './errors';
import { HeapPlacement, mapIntoHeap } from './heap-mapping';
import {
  F_ADD_SEALS,
  F_DUPFD_CLOEXEC,
  F_GET_SEALS,
  F_SEAL_GROW,
  F_SEAL_SEAL,
  F_SEAL_SHRINK,
  FALLOC_PUNCH_HOLE,
  MAP_FAILED,
  MAP_SHARED,
  MFD_ALLOW_SEALING,
  MFD_CLOEXEC,
  PROT_READ_WRITE,
} from './native/libc';
import { requireLibc, systemPageSize } from './platform';
import { MappedRange, SharedMapping } from './shared-mapping';
import { checkByteCount, checkDebugName, checkFd } from './validate';

/** Options of `SharedMemoryObject.create`. */
export interface SharedMemoryCreateOptions {
  /** Shown as `/memfd:<debugName> (deleted)` in `/proc/<pid>/maps`; never a file-system name. */
  readonly debugName?: string;
  /**
   * Seal the size once it is set (`F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL`): nobody, in any
   * process, can then cut the object under a mapping (which would raise SIGBUS there) or grow
   * it, and `resize` fails with `EINVAL`. Default false.
   */
  readonly sealSize?: boolean;
}

/** Options of `SharedMemoryObject.map`. */
export interface SharedMapOptions {
  /**
   * `'native'` (default): a fresh address range, shown to JavaScript through `koffi.view`, which
   * V8 does not count; it is unmapped once its buffer is collected after `unmap`. `'heap'`: the
   * object is mapped over the pages of an `ArrayBuffer` that V8 allocates and counts, so its
   * garbage collector sees the memory and gives the range back when it collects the buffer
   * after `unmap`. A heap mapping is pinned until `unmap`: one never unmapped stays to the exit.
   */
  readonly backing?: 'native' | 'heap';
}

const DEFAULT_DEBUG_NAME = 'simpler-shm';

/**
 * An anonymous shared memory object (`memfd_create` with `MFD_CLOEXEC`): it has no name in
 * `/dev/shm` or anywhere else, so a crash leaves nothing behind and nobody can open it by name.
 * Another process gets it by inheriting its descriptor.
 *
 * @example
 * const shm = SharedMemoryObject.create(1 << 20, { debugName: 'mailbox' });
 * const child = spawn(process.execPath, ['child.js'], { stdio: ['pipe', 'pipe', 'inherit', shm.fd] });
 * // in child.js: const mapping = SharedMemoryObject.fromFd(3).map();
 */
export class SharedMemoryObject {
  /** The descriptor; pass it in `spawn`'s `stdio` to hand the object to a child. */
  readonly fd: number;
  #closed = false;
  // Ranges of this object mapped here and not yet released: resize may not cut them (SIGBUS).
  readonly #live = new Map<MappedRange, number>();

  private constructor(fd: number) {
    this.fd = fd;
  }

  /** Creates an object of `size` bytes (zero-filled; 0 is allowed, `resize` later). */
  static create(size: number, options: SharedMemoryCreateOptions = {}): SharedMemoryObject {
    const libc = requireLibc('SharedMemoryObject.create');
    checkByteCount('size', size, 0);
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`options must be an object, got ${describe(options)}`);
    const name = options.debugName === undefined ? DEFAULT_DEBUG_NAME : checkDebugName(options.debugName);
    const seal = options.sealSize ?? false;
    if (typeof seal !== 'boolean') throw new InvalidArgumentError(`sealSize must be a boolean, got ${describe(seal)}`);
    const fd = libc.memfd_create(name, seal ? MFD_CLOEXEC | MFD_ALLOW_SEALING : MFD_CLOEXEC);
    if (fd < 0) throw syscallError('memfd_create', libc.errnoName(libc.errno()), `name ${JSON.stringify(name)}, MFD_CLOEXEC`);
    try {
      ftruncateSync(fd, size);
    } catch (error) {
      closeSync(fd);
      throw fsCallError('ftruncate', error, `fd ${fd}, size ${size}`);
    }
    if (seal && libc.fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) !== 0) {
      const errno = libc.errnoName(libc.errno());
      closeSync(fd);
      throw syscallError('fcntl', errno, `F_ADD_SEALS of fd ${fd}`);
    }
    return new SharedMemoryObject(fd);
  }

  /**
   * Adopts an inherited descriptor (e.g. fd 3 of a child spawned with the object in its stdio)
   * and takes ownership of it: `close` closes it. It must be a memfd or another regular file.
   */
  static fromFd(fd: number): SharedMemoryObject {
    requireLibc('SharedMemoryObject.fromFd');
    checkFd(fd);
    let stats: Stats;
    try {
      stats = fstatSync(fd);
    } catch (error) {
      throw fsCallError('fstat', error, `fd ${fd}`);
    }
    if (!stats.isFile()) {
      throw new InvalidArgumentError(`fd ${fd} is not a shared memory object or regular file (fstat mode 0o${stats.mode.toString(8)})`);
    }
    return new SharedMemoryObject(fd);
  }

  /**
   * Opens, read/write, the object another process holds at descriptor `fd`, through
   * `/proc/<pid>/fd/<fd>`: a new descriptor of this process over the same memory, owned by the
   * returned object. The kernel allows it only to a process that may inspect `pid` (same user,
   * ptrace read access), and nothing is named anywhere. The descriptor may have been closed or
   * reused by then: check `inode` against what the owner reported before trusting it.
   */
  static fromProcess(pid: number, fd: number): SharedMemoryObject {
    requireLibc('SharedMemoryObject.fromProcess');
    if (typeof pid !== 'number' || !Number.isInteger(pid) || pid < 1 || pid > 0x3fff_ffff) {
      throw new InvalidArgumentError(`pid must be an integer in [1, 2^30 - 1], got ${describe(pid)}`);
    }
    checkFd(fd);
    const path = `/proc/${pid}/fd/${fd}`;
    let own: number;
    try {
      own = openSync(path, fsConstants.O_RDWR);
    } catch (error) {
      throw fsCallError('open', error, path);
    }
    try {
      return SharedMemoryObject.fromFd(own);
    } catch (error) {
      closeSync(own);
      throw error;
    }
  }

  /** The object's inode number (fstat `st_ino`): names the object, e.g. across processes. */
  get inode(): bigint {
    this.#checkOpen('inode');
    try {
      return fstatSync(this.fd, { bigint: true }).ino;
    } catch (error) {
      throw fsCallError('fstat', error, `fd ${this.fd}`);
    }
  }

  /** True when the object's size is sealed against shrinking (`F_SEAL_SHRINK`), by whoever created it. */
  get sizeSealed(): boolean {
    this.#checkOpen('sizeSealed');
    const libc = requireLibc('SharedMemoryObject.sizeSealed');
    const seals = libc.fcntl(this.fd, F_GET_SEALS, 0);
    // EINVAL: a file that cannot carry seals (not a memfd, or created without sealing).
    if (seals < 0) return false;
    return (seals & F_SEAL_SHRINK) !== 0;
  }

  /** True once `close` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The current size in bytes (fstat: another process may have resized it). */
  get size(): number {
    this.#checkOpen('size');
    try {
      return fstatSync(this.fd).size;
    } catch (error) {
      throw fsCallError('fstat', error, `fd ${this.fd}`);
    }
  }

  /** Grows or shrinks the object; `EINVAL` when that would cut a live mapping of this process. */
  resize(size: number): void {
    this.#checkOpen('resize');
    checkByteCount('size', size, 0);
    let mappedEnd = 0;
    for (const end of this.#live.values()) if (end > mappedEnd) mappedEnd = end;
    if (size < mappedEnd) {
      throw new InvalidArgumentError(`resize to ${size} bytes would cut a live mapping that ends at ${mappedEnd}; unmap it first`);
    }
    try {
      ftruncateSync(this.fd, size);
    } catch (error) {
      throw fsCallError('ftruncate', error, `fd ${this.fd}, size ${size}`);
    }
  }

  /**
   * Maps `length` bytes from `offset` (a multiple of the page size) read/write and shared; by
   * default the whole object from `offset`. The range must lie inside the current size.
   */
  map(length?: number, offset = 0, options: SharedMapOptions = {}): SharedMapping {
    this.#checkOpen('map');
    const libc = requireLibc('SharedMemoryObject.map');
    checkByteCount('offset', offset, 0);
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`options must be an object, got ${describe(options)}`);
    const backing = options.backing ?? 'native';
    if (backing !== 'native' && backing !== 'heap') throw new InvalidArgumentError(`backing must be 'native' or 'heap', got ${describe(backing)}`);
    const pageSize = systemPageSize();
    if (offset % pageSize !== 0) throw new InvalidArgumentError(`offset must be a multiple of the page size ${pageSize}, got ${offset}`);
    const size = this.size;
    const bytes = length === undefined ? size - offset : checkByteCount('length', length, 1);
    if (bytes <= 0 || offset + bytes > size) {
      throw new InvalidArgumentError(`mapping ${length === undefined ? 'the rest' : bytes + ' bytes'} at offset ${offset} does not fit in an object of ${size} bytes`);
    }
    if (backing === 'heap') {
      const heap: HeapPlacement = mapIntoHeap(libc, this.fd, bytes, offset, pageSize);
      const range: MappedRange = { address: heap.address, length: bytes, live: this.#live, heap };
      this.#live.set(range, offset + bytes);
      return new SharedMapping(range, heap.buffer, offset);
    }
    const address = libc.mmap(null, bytes, PROT_READ_WRITE, MAP_SHARED, this.fd, offset);
    // koffi.view over MAP_FAILED or null would abort the process: check before viewing.
    if (address === null || address === MAP_FAILED) {
      throw syscallError('mmap', libc.errnoName(libc.errno()), `fd ${this.fd}, length ${bytes}, offset ${offset}`);
    }
    let buffer: ArrayBuffer;
    try {
      buffer = libc.view(address, bytes);
    } catch (error) {
      libc.munmap(address, bytes);
      throw new BackendError(`cannot view ${bytes} mapped bytes as an ArrayBuffer: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const range: MappedRange = { address, length: bytes, live: this.#live };
    this.#live.set(range, offset + bytes);
    return new SharedMapping(range, buffer, offset);
  }

  /**
   * A second object over the same memory with its own close-on-exec descriptor (`fcntl
   * F_DUPFD_CLOEXEC`): each is closed on its own, e.g. by another thread that maps it later.
   */
  dup(): SharedMemoryObject {
    this.#checkOpen('dup');
    const libc = requireLibc('SharedMemoryObject.dup');
    const fd = libc.fcntl(this.fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) throw syscallError('fcntl', libc.errnoName(libc.errno()), `F_DUPFD_CLOEXEC of fd ${this.fd}`);
    return new SharedMemoryObject(fd);
  }

  /**
   * Frees the pages of `[offset, offset + length)` at once (`fallocate` punching a hole; the size
   * stays): every mapping of the object, in any process, reads zeros there afterwards, and a
   * later write allocates a fresh page. By default the whole object from `offset`.
   */
  discard(offset = 0, length?: number): void {
    this.#checkOpen('discard');
    const libc = requireLibc('SharedMemoryObject.discard');
    checkByteCount('offset', offset, 0);
    const bytes = length === undefined ? Math.max(0, this.size - offset) : checkByteCount('length', length, 0);
    if (bytes === 0) return;
    if (libc.fallocate(this.fd, FALLOC_PUNCH_HOLE, offset, bytes) !== 0) {
      throw syscallError('fallocate', libc.errnoName(libc.errno()), `punching ${bytes} bytes at offset ${offset} of fd ${this.fd}`);
    }
  }

  /** Closes the descriptor; mappings stay valid. Idempotent; other methods then throw `EINVAL`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      closeSync(this.fd);
    } catch (error) {
      throw fsCallError('close', error, `fd ${this.fd}`);
    }
  }

  #checkOpen(operation: string): void {
    if (this.#closed) throw new InvalidArgumentError(`${operation}: shared memory object (fd ${this.fd}) is closed`);
  }
}

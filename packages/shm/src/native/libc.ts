import type { Koffi } from './koffi';
import { loadKoffi } from './koffi';

/** The slice of libc this package calls, bound through koffi. Pointers are `bigint` addresses. */
export interface Libc {
  /** `int memfd_create(const char *name, unsigned int flags)` */
  memfd_create(name: string, flags: number): number;
  /** `void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)` */
  mmap(addr: bigint | null, length: number, prot: number, flags: number, fd: number, offset: number): bigint | null;
  /** `int munmap(void *addr, size_t length)` */
  munmap(addr: bigint, length: number): number;
  /** `int getpagesize(void)` */
  getpagesize(): number;
  /** `int fcntl(int fd, int cmd, int arg)` (the integer-argument form). */
  fcntl(fd: number, cmd: number, arg: number): number;
  /** `int fallocate(int fd, int mode, off_t offset, off_t len)` */
  fallocate(fd: number, mode: number, offset: number, length: number): number;
  /** `syscall(SYS_futex, addr, op, val, timeout, NULL, 0)`; addresses are exact as numbers (below 2^53). */
  futex: FutexCall;
  /** `koffi.view`: an `ArrayBuffer` over native memory that does not own it. Never pass null or MAP_FAILED. */
  view(address: bigint, length: number): ArrayBuffer;
  /** `koffi.address`: where the backing store of an `ArrayBuffer` starts. */
  address(buffer: ArrayBuffer): bigint;
  /** The calling thread's `errno`, read right after a failed call. */
  errno(): number;
  /** The errno name for a number (`'ENOMEM'`), or `'errno <n>'` when koffi does not know it. */
  errnoName(errno: number): string;
}

/** A relative timeout as `struct timespec`. */
export interface Timespec {
  /** Whole seconds. */
  readonly tv_sec: number;
  /** Nanoseconds, below 10^9. */
  readonly tv_nsec: number;
}

/** The futex system call, synchronous, with its koffi `async` form (runs on a libuv pool thread). */
export interface FutexCall {
  (nr: number, address: number, op: number, value: number, timeout: Timespec | null, address2: null, value3: number): number;
  /** Same call on a pool thread; `done` gets the raw result (errno is not available there). */
  async(nr: number, address: number, op: number, value: number, timeout: Timespec | null, address2: null, value3: number, done: (error: unknown, result: number) => void): void;
}

/** Linux values (identical on every 64-bit Linux architecture koffi supports). */
export const MFD_CLOEXEC = 0x1;
/** `PROT_READ | PROT_WRITE` */
export const PROT_READ_WRITE = 0x1 | 0x2;
/** `MAP_SHARED` */
export const MAP_SHARED = 0x01;
/** `MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE`: replaces a range with private zero pages. */
export const MAP_PRIVATE_ANON_FIXED = 0x02 | 0x20 | 0x10 | 0x4000;
/** `MAP_SHARED | MAP_FIXED`: maps an object over a range this process already owns. */
export const MAP_SHARED_FIXED = 0x01 | 0x10;
/** `MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED`: gives a range back to its allocator as ordinary private memory. */
export const MAP_PRIVATE_ANON_FIXED_RESERVED = 0x02 | 0x20 | 0x10;
/** `memfd_create` flag: the object accepts seals (`fcntl` `F_ADD_SEALS`). */
export const MFD_ALLOW_SEALING = 0x2;
/** `fcntl` command: add seals to a memfd. */
export const F_ADD_SEALS = 1033;
/** `fcntl` command: read a memfd's seals. */
export const F_GET_SEALS = 1034;
/** Seal: no more seals may be added. */
export const F_SEAL_SEAL = 0x1;
/** Seal: the size may not shrink (so no mapping, in any process, can lose its pages to SIGBUS). */
export const F_SEAL_SHRINK = 0x2;
/** Seal: the size may not grow. */
export const F_SEAL_GROW = 0x4;
/** `fcntl` command: duplicate to the lowest free descriptor with `FD_CLOEXEC` set. */
export const F_DUPFD_CLOEXEC = 1030;
/** `fallocate` mode `FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE`: free the pages, keep the size. */
export const FALLOC_PUNCH_HOLE = 0x01 | 0x02;
/** `FUTEX_WAIT` without `FUTEX_PRIVATE_FLAG`: keyed by the page, so it works across processes. */
export const FUTEX_WAIT = 0;
/** `FUTEX_WAKE` without `FUTEX_PRIVATE_FLAG`. */
export const FUTEX_WAKE = 1;
/** `(void *)-1` as koffi returns it. */
export const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

const LIBC_NAMES = ['libc.so.6', 'libc.so'] as const;

/** Either the bound libc or why it could not be bound. */
export type LibcLoad = { readonly libc: Libc; readonly reason?: undefined } | { readonly libc?: undefined; readonly reason: string };

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function bind(koffi: Koffi): Libc {
  let lib: ReturnType<Koffi['load']> | undefined;
  const tried: string[] = [];
  for (const name of LIBC_NAMES) {
    try {
      lib = koffi.load(name);
      break;
    } catch (error) {
      tried.push(`${name}: ${messageOf(error)}`);
    }
  }
  if (!lib) throw new Error(`cannot load libc (${tried.join('; ')})`);
  // Anonymous: a named koffi type is process-wide, and two copies of this package may load.
  const timespec = koffi.pointer(koffi.struct({ tv_sec: 'int64_t', tv_nsec: 'long' }));
  const names = new Map<number, string>();
  for (const [name, value] of Object.entries(koffi.os.errno)) if (!names.has(value)) names.set(value, name);
  return {
    memfd_create: lib.func('int memfd_create(const char *name, unsigned int flags)'),
    mmap: lib.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)'),
    munmap: lib.func('int munmap(void *addr, size_t length)'),
    getpagesize: lib.func('int getpagesize(void)'),
    fcntl: lib.func('int fcntl(int fd, int cmd, int arg)'),
    fallocate: lib.func('int fallocate(int fd, int mode, int64_t offset, int64_t len)'),
    // glibc's syscall() is variadic but only moves registers, so a fixed prototype calls it
    // correctly on x86-64 and AArch64 (the one-register-per-argument Linux ABIs koffi runs on).
    futex: lib.func('syscall', 'long', ['long', 'uint64_t', 'int', 'int', timespec, 'void *', 'int']) as unknown as FutexCall,
    view: (address, length) => koffi.view(address, length),
    address: (buffer) => koffi.address(buffer),
    errno: () => koffi.errno(),
    errnoName: (errno) => names.get(errno) ?? `errno ${errno}`,
  };
}

/** Binds libc once; never throws (the reason says why shared memory is unsupported here). */
export function loadLibc(): LibcLoad {
  if (process.platform !== 'linux') return { reason: `not Linux (platform ${process.platform})` };
  let koffi: Koffi;
  try {
    koffi = loadKoffi();
  } catch (error) {
    return { reason: `koffi failed to load: ${messageOf(error)}` };
  }
  if (koffi.sizeof('void *') !== 8) return { reason: 'not a 64-bit platform' };
  try {
    return { libc: bind(koffi) };
  } catch (error) {
    return { reason: `libc lacks what shared memory needs: ${messageOf(error)}` };
  }
}

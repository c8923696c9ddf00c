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
  /** `koffi.view`: an `ArrayBuffer` over native memory that does not own it. Never pass null or MAP_FAILED. */
  view(address: bigint, length: number): ArrayBuffer;
  /** The calling thread's `errno`, read right after a failed call. */
  errno(): number;
  /** The errno name for a number (`'ENOMEM'`), or `'errno <n>'` when koffi does not know it. */
  errnoName(errno: number): string;
}

/** Linux values (identical on every 64-bit Linux architecture koffi supports). */
export const MFD_CLOEXEC = 0x1;
/** `PROT_READ | PROT_WRITE` */
export const PROT_READ_WRITE = 0x1 | 0x2;
/** `MAP_SHARED` */
export const MAP_SHARED = 0x01;
/** `MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE`: replaces a range with private zero pages. */
export const MAP_PRIVATE_ANON_FIXED = 0x02 | 0x20 | 0x10 | 0x4000;
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
  const names = new Map<number, string>();
  for (const [name, value] of Object.entries(koffi.os.errno)) if (!names.has(value)) names.set(value, name);
  return {
    memfd_create: lib.func('int memfd_create(const char *name, unsigned int flags)'),
    mmap: lib.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)'),
    munmap: lib.func('int munmap(void *addr, size_t length)'),
    getpagesize: lib.func('int getpagesize(void)'),
    view: (address, length) => koffi.view(address, length),
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

import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { BackendError, InvalidArgumentError, describe } from '@simpler/abi';
import { koffi, KoffiLibrary } from './koffi';
import { DRIVER_PROTOTYPES, DriverApi, OPTIONAL_DRIVER_SYMBOLS, REQUIRED_DRIVER_SYMBOLS } from './driver-api';
import { OPTIONAL_RUNTIME_SYMBOLS, REQUIRED_RUNTIME_SYMBOLS, RUNTIME_PROTOTYPES, RuntimeApi } from './runtime-api';

/** Which of the two native libraries. */
export type LibraryKind = 'hal' | 'runtime';

/** Environment variables that name a library explicitly. */
export const LIBRARY_ENV_VARS: Readonly<Record<LibraryKind, string>> = Object.freeze({
  hal: 'SIMPLER_ASCEND_HAL_LIB',
  runtime: 'SIMPLER_ASCEND_RT_LIB',
});

const LABEL: Readonly<Record<LibraryKind, string>> = { hal: 'driver', runtime: 'runtime' };
const DEFAULT_DRIVER_DIR = '/usr/local/Ascend/driver/lib64';
const DEFAULT_TOOLKIT_DIR = '/usr/local/Ascend/ascend-toolkit/latest';
const RUNTIME_NAMES = ['libascendcl.so', 'libacl_rt.so'] as const;

/** A library opened through koffi, with the path it was opened from. */
export interface LoadedLibrary {
  /** Which library this is. */
  readonly kind: LibraryKind;
  /** The path (or soname) that loaded. */
  readonly path: string;
  /** The koffi handle; kept for the life of the process. */
  readonly lib: KoffiLibrary;
}

/** Where libraries come from: an explicit path or the search order of docs/backends/ascend.md. */
export interface LibrarySearch {
  /** True when the path came from an option or environment variable (no fallback then). */
  readonly explicit: boolean;
  /** Paths or sonames, tried in order. */
  readonly candidates: readonly string[];
}

/**
 * Lists where to look for a library: the option, else its environment variable, else the CANN
 * install locations, else the bare soname through the dynamic loader's search path.
 */
export function librarySearch(kind: LibraryKind, option: unknown, env: NodeJS.ProcessEnv = process.env): LibrarySearch {
  const optionName = kind === 'hal' ? 'halLibrary' : 'runtimeLibrary';
  if (option !== undefined && option !== null) {
    if (typeof option !== 'string' || option.length === 0) {
      throw new InvalidArgumentError(`${optionName} must be a non-empty path string, got ${describe(option)}`);
    }
    return { explicit: true, candidates: [option] };
  }
  const fromEnv = env[LIBRARY_ENV_VARS[kind]];
  if (fromEnv) return { explicit: true, candidates: [fromEnv] };
  const candidates: string[] = [];
  if (kind === 'hal') {
    candidates.push(join(DEFAULT_DRIVER_DIR, 'driver', 'libascend_hal.so'), join(DEFAULT_DRIVER_DIR, 'libascend_hal.so'));
    candidates.push('libascend_hal.so');
  } else {
    const home = env.ASCEND_HOME_PATH;
    for (const dir of home ? [join(home, 'lib64'), join(DEFAULT_TOOLKIT_DIR, 'lib64')] : [join(DEFAULT_TOOLKIT_DIR, 'lib64')]) {
      for (const name of RUNTIME_NAMES) candidates.push(join(dir, name));
    }
    candidates.push(...RUNTIME_NAMES);
  }
  return { explicit: false, candidates };
}

// Libraries stay loaded for the life of the process: koffi would unload one when its handle is
// garbage-collected, and calling into (or running a thread of) an unloaded library crashes.
const loadedByPath = new Map<string, KoffiLibrary>();
let pinner: ((path: string) => void) | null | undefined;

/** Best effort: marks a loaded library RTLD_NODELETE so not even a stray unload can drop it. */
function pin(path: string): void {
  if (pinner === undefined) {
    pinner = null;
    if (process.platform === 'linux') {
      try {
        const libc = koffi.load('libc.so.6');
        const dlopen = libc.func('void *dlopen(const char *path, int flags)');
        loadedByPath.set('libc.so.6', libc);
        const RTLD_NOW_NOLOAD_NODELETE = 0x2 | 0x4 | 0x1000;
        pinner = (p) => void dlopen(p, RTLD_NOW_NOLOAD_NODELETE);
      } catch {
        pinner = null; // not glibc: the module-level map alone keeps the handles alive
      }
    }
  }
  if (pinner) pinner(path);
}

function openOne(path: string): KoffiLibrary {
  const cached = loadedByPath.get(path);
  if (cached) return cached;
  const lib = koffi.load(path);
  loadedByPath.set(path, lib);
  pin(path);
  return lib;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Opens the first library of the search that loads. koffi's load error omits the path, so the
 * `EIO` thrown when none loads names every path tried and what the loader said about it.
 */
export function openLibrary(kind: LibraryKind, search: LibrarySearch): LoadedLibrary {
  const tried: string[] = [];
  for (const candidate of search.candidates) {
    if (!search.explicit && isAbsolute(candidate) && !existsSync(candidate)) {
      tried.push(`${candidate} (not found)`);
      continue;
    }
    try {
      return { kind, path: candidate, lib: openOne(candidate) };
    } catch (error) {
      tried.push(`${candidate} (${messageOf(error)})`);
    }
  }
  const hint = search.explicit ? '' : `; set ${LIBRARY_ENV_VARS[kind]} or the ${kind === 'hal' ? 'halLibrary' : 'runtimeLibrary'} option`;
  throw new BackendError(`cannot load the Ascend ${LABEL[kind]} library: tried ${tried.join(', ')}${hint}`);
}

/** True when the library exports `name` (without declaring a function for it). */
export function hasSymbol(loaded: LoadedLibrary, name: string): boolean {
  try {
    loaded.lib.symbol(name);
    return true;
  } catch {
    return false;
  }
}

function bind(loaded: LoadedLibrary, name: string, prototype: string): (...args: never[]) => unknown {
  if (!hasSymbol(loaded, name)) {
    throw new BackendError(`symbol ${name} is missing from the Ascend ${LABEL[loaded.kind]} library ${loaded.path}`);
  }
  try {
    return loaded.lib.func(prototype) as (...args: never[]) => unknown;
  } catch (error) {
    throw new BackendError(`cannot bind ${name} from ${loaded.path}: ${messageOf(error)}`);
  }
}

const driverCache = new Map<string, DriverApi>();
const runtimeCache = new Map<string, RuntimeApi>();

/** Binds the driver functions; a missing required symbol is `EIO` naming it and the library. */
export function bindDriverApi(loaded: LoadedLibrary): DriverApi {
  const cached = driverCache.get(loaded.path);
  if (cached) return cached;
  const api: Record<string, unknown> = {};
  for (const name of REQUIRED_DRIVER_SYMBOLS) api[name] = bind(loaded, name, DRIVER_PROTOTYPES[name]);
  // Optional symbols are probed once: declaring a missing one would throw.
  for (const name of OPTIONAL_DRIVER_SYMBOLS) {
    if (hasSymbol(loaded, name)) api[name] = bind(loaded, name, DRIVER_PROTOTYPES[name]);
  }
  const driver = Object.freeze(api) as unknown as DriverApi;
  driverCache.set(loaded.path, driver);
  return driver;
}

/** Binds the runtime functions; a missing required symbol is `EIO` naming it and the library. */
export function bindRuntimeApi(loaded: LoadedLibrary): RuntimeApi {
  const cached = runtimeCache.get(loaded.path);
  if (cached) return cached;
  const api: Record<string, unknown> = {};
  for (const name of REQUIRED_RUNTIME_SYMBOLS) api[name] = bind(loaded, name, RUNTIME_PROTOTYPES[name]);
  for (const name of OPTIONAL_RUNTIME_SYMBOLS) {
    if (hasSymbol(loaded, name)) api[name] = bind(loaded, name, RUNTIME_PROTOTYPES[name]);
  }
  const runtime = Object.freeze(api) as unknown as RuntimeApi;
  runtimeCache.set(loaded.path, runtime);
  return runtime;
}

/** Both libraries, bound. */
export interface AscendLibraries {
  /** The driver functions. */
  readonly driver: DriverApi;
  /** The runtime functions. */
  readonly runtime: RuntimeApi;
  /** Where the driver library was loaded from. */
  readonly halPath: string;
  /** Where the runtime library was loaded from. */
  readonly runtimePath: string;
}

/** Loads and binds the driver and runtime libraries from options, environment or the defaults. */
export function loadAscendLibraries(options: { halLibrary?: unknown; runtimeLibrary?: unknown }, env: NodeJS.ProcessEnv = process.env): AscendLibraries {
  const hal = openLibrary('hal', librarySearch('hal', options.halLibrary, env));
  const rt = openLibrary('runtime', librarySearch('runtime', options.runtimeLibrary, env));
  return { driver: bindDriverApi(hal), runtime: bindRuntimeApi(rt), halPath: hal.path, runtimePath: rt.path };
}

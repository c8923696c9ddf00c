import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** Symbols the test double can be built without (`omit`). */
export const OMITTABLE_SYMBOLS = [
  'halHostRegister',
  'halHostUnregister',
  'halHostUnregisterEx',
  'aclInit',
  'aclrtSetDevice',
  'aclrtGetDeviceCount',
  'aclrtGetLogicDevIdByUserDevId',
  'aclrtMalloc',
  'aclrtFree',
  'aclrtResetDevice',
  'aclFinalize',
  'aclrtMemFlush',
  'aclrtMemInvalidate',
] as const;

/** One symbol the test double can leave out. */
export type OmittableSymbol = (typeof OMITTABLE_SYMBOLS)[number];

/** Options of {@link buildDriverDouble}. */
export interface DriverDoubleBuildOptions {
  /** Symbols to leave out of the driver/runtime libraries (to test missing-symbol errors). */
  readonly omit?: readonly OmittableSymbol[];
  /** File name of the runtime library; `libascendcl.so` unless given (e.g. `libacl_rt.so`). */
  readonly runtimeFileName?: string;
  /** Remapped devices, user-visible id → logical id, built in (what `dd_reset` restores). */
  readonly logicalDeviceIds?: Readonly<Record<number, number>>;
  /** Failures armed when the library loads, each failing once (`[call, code]` pairs in order). */
  readonly failAtLoad?: readonly (readonly [string, number])[];
}

/** Paths of one test-double build. */
export interface DriverDoubleBuild {
  /** The driver library (`libascend_hal.so`). */
  readonly halPath: string;
  /** The runtime library (`libascendcl.so` unless renamed). */
  readonly runtimePath: string;
  /** The shared core holding the state and the `dd_*` control API. */
  readonly controlPath: string;
}

const SOURCE_DIR = __dirname;
const CC_FLAGS = ['-shared', '-fPIC', '-O2', '-pthread', '-std=gnu11', '-Wall'];

/** True when the system C compiler `cc` can be run. */
export function haveCompiler(): boolean {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `left:right,...`, checked so nothing but names and integers reaches the compiler's command line. */
function specOf(pairs: readonly (readonly [string | number, string | number])[]): string {
  const spec = pairs.map(([left, right]) => `${left}:${right}`).join(',');
  if (!/^[A-Za-z0-9.:,-]*$/.test(spec)) throw new Error(`malformed driver-double setting ${spec}`);
  return spec;
}

/**
 * Compiles the C test-double driver into `outDir` with the system `cc`. Every build gets a core
 * library with a unique soname, so several variants can be loaded into one process side by side
 * (the dynamic loader never hands one build's state to another).
 */
export function buildDriverDouble(outDir: string, options: DriverDoubleBuildOptions = {}): DriverDoubleBuild {
  const omit = options.omit ?? [];
  for (const name of omit) {
    if (!(OMITTABLE_SYMBOLS as readonly string[]).includes(name)) throw new Error(`cannot omit unknown symbol ${name}`);
  }
  mkdirSync(outDir, { recursive: true });
  const tag = randomBytes(6).toString('hex');
  const coreName = `libdd_core_${tag}.so`;
  const controlPath = join(outDir, coreName);
  const halPath = join(outDir, 'libascend_hal.so');
  const runtimePath = join(outDir, options.runtimeFileName ?? 'libascendcl.so');
  if (existsSync(halPath) || existsSync(runtimePath)) {
    throw new Error(`buildDriverDouble needs a fresh directory (a loaded library must never be overwritten): ${outDir}`);
  }
  const defines = omit.map((name) => `-DOMIT_${name.toUpperCase()}`);
  const coreDefines = [
    ...(options.logicalDeviceIds ? [`-DDD_LOGICAL_DEVICES="${specOf(Object.entries(options.logicalDeviceIds))}"`] : []),
    ...(options.failAtLoad ? [`-DDD_FAIL_AT_LOAD="${specOf(options.failAtLoad)}"`] : []),
  ];
  const cc = (args: string[]): void => {
    execFileSync('cc', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const coreSources = ['dd-core.c', 'dd-device.c', 'dd-load-config.c'].map((f) => join(SOURCE_DIR, f));
  cc([...CC_FLAGS, ...coreDefines, `-Wl,-soname,${coreName}`, '-o', controlPath, ...coreSources]);
  // $ORIGIN lets the thin libraries find this build's core next to them, wherever outDir is.
  const link = [controlPath, '-Wl,-rpath,$ORIGIN'];
  cc([...CC_FLAGS, ...defines, '-o', halPath, join(SOURCE_DIR, 'dd-hal.c'), ...link]);
  cc([...CC_FLAGS, ...defines, '-o', runtimePath, join(SOURCE_DIR, 'dd-runtime.c'), ...link]);
  return { halPath, runtimePath, controlPath };
}

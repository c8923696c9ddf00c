import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { packageDirOf } from './workspace';

// hal-ascend's own builder (test/driver-double/build-driver-double.ts) cannot be imported from
// here: the module boundaries forbid reaching into another project by path. This compiles the
// same C sources, and only needs what the cross-package suites use: the double's load-time
// settings, since these suites may not load koffi to call its dd_* control API.
const DOUBLE_DIR = path.join(packageDirOf('@simpler/hal-ascend'), 'test', 'driver-double');
const FLAGS = ['-shared', '-fPIC', '-O2', '-pthread', '-std=gnu11', '-Wall'];

/** True when the system C compiler `cc` can be run. */
export function haveCompiler(): boolean {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Load-time settings of the test-double Ascend driver. */
export interface AscendDoubleSettings {
  /** Failures armed at load, each failing once: "call:code[,call:code...]". */
  readonly failAtLoad?: string;
  /** Remapped devices, user-visible id → the driver's logical id. */
  readonly logicalDeviceIds?: Readonly<Record<number, number>>;
}

/** Paths of a built double, as hal-ascend backend options (a type, so it fits `backendOptions`). */
export type AscendDoubleLibraries = {
  /** The driver library. */
  readonly halLibrary: string;
  /** The runtime library. */
  readonly runtimeLibrary: string;
};

/** Builds a fresh double (unique core soname, so several load side by side) into a temporary directory. */
export function buildAscendDouble(settings: AscendDoubleSettings = {}): AscendDoubleLibraries {
  const logical = Object.entries(settings.logicalDeviceIds ?? {}).map(([user, id]) => `${user}:${id}`).join(',');
  const fail = settings.failAtLoad ?? '';
  for (const spec of [logical, fail]) {
    if (!/^[A-Za-z0-9.:,-]*$/.test(spec)) throw new Error(`malformed driver-double setting ${spec}`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'simpler-cli-dd-'));
  const coreName = `libdd_core_${randomBytes(6).toString('hex')}.so`;
  const core = path.join(dir, coreName);
  const cc = (args: string[]): void => void execFileSync('cc', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const defines = [...(logical ? [`-DDD_LOGICAL_DEVICES="${logical}"`] : []), ...(fail ? [`-DDD_FAIL_AT_LOAD="${fail}"`] : [])];
  const coreSources = ['dd-core.c', 'dd-device.c', 'dd-load-config.c'].map((f) => path.join(DOUBLE_DIR, f));
  cc([...FLAGS, ...defines, `-Wl,-soname,${coreName}`, '-o', core, ...coreSources]);
  const link = [core, '-Wl,-rpath,$ORIGIN'];
  const halLibrary = path.join(dir, 'libascend_hal.so');
  const runtimeLibrary = path.join(dir, 'libascendcl.so');
  cc([...FLAGS, '-o', halLibrary, path.join(DOUBLE_DIR, 'dd-hal.c'), ...link]);
  cc([...FLAGS, '-o', runtimeLibrary, path.join(DOUBLE_DIR, 'dd-runtime.c'), ...link]);
  return { halLibrary, runtimeLibrary };
}

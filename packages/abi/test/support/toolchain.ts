// Running native toolchains (cc, c++, python3) from the ABI tests, in a per-suite scratch directory.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The package's `include` directory, the `-I` path of every compile. */
export const INCLUDE = path.resolve(__dirname, '..', '..', 'include');
/** Flags of every C compile: the strictest the header promises to pass. */
export const C_FLAGS = ['-std=c11', '-Wall', '-Wextra', '-Werror', '-Wpadded', '-pedantic'];
/** Flags of every C++ compile. */
export const CXX_FLAGS = ['-std=c++17', '-Wall', '-Wextra', '-Wpadded', '-Werror', '-pedantic'];

/** Runs a tool and returns stdout; on failure throws with the tool's stderr in the message. */
export function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${err.stderr ?? err.message}`);
  }
}

/** A scratch directory created before the suite's tests and removed after them. */
export interface ScratchDir {
  /** Absolute path of `name` inside the directory. */
  path(name: string): string;
  /** Writes `text` to `name` inside the directory and returns its absolute path. */
  write(name: string, text: string): string;
}

/** Registers beforeAll/afterAll hooks that own one scratch directory for the calling suite. */
export function useScratchDir(prefix: string): ScratchDir {
  let dir = '';
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const at = (name: string): string => path.join(dir, name);
  return {
    path: at,
    write(name, text) {
      const file = at(name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      return file;
    },
  };
}

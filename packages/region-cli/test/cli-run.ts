import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

/** Result of one run of the built binary. */
export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Absolute path of the built binary the tests exercise. */
export const BIN = path.resolve(__dirname, '..', 'dist', 'bin.js');

/** Runs `node dist/bin.js ...args` as a subprocess (stdout/stderr are pipes, so never a TTY). */
export function runCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): CliRun {
  const env = { ...process.env, ...options.env };
  delete env['SIMPLER_REGION_BACKEND'];
  // Nx and some CI systems export FORCE_COLOR to their tasks; these tests assert plain output.
  if (options.env?.['FORCE_COLOR'] === undefined) delete env['FORCE_COLOR'];
  if (options.env?.['SIMPLER_REGION_BACKEND'] !== undefined) env['SIMPLER_REGION_BACKEND'] = options.env['SIMPLER_REGION_BACKEND'];
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env,
    cwd: options.cwd ?? path.resolve(__dirname, '..'),
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Asserts the shape of a usage error: exit 2, nothing on stdout, exactly one stderr line. */
export function expectUsageError(r: CliRun, mentions: string): void {
  expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 2, stdout: '' });
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^simpler-region: /);
  expect(lines[0]).toContain(mentions);
}

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { BIN } from './cli-run';

// util-linux `script` gives the CLI a pseudo-terminal, so terminal-only output can be checked.
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
const onTty = hasScript ? it : it.skip;

function runOnTty(args: string, env: NodeJS.ProcessEnv = {}): { status: number | null; out: string } {
  const merged: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm', ...env };
  delete merged['CI'];
  if (env['NO_COLOR'] === undefined) delete merged['NO_COLOR'];
  delete merged['FORCE_COLOR'];
  const r = spawnSync('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} ${args}`, '/dev/null'], {
    env: merged,
    encoding: 'utf8',
    cwd: path.resolve(__dirname, '..'),
    timeout: 60_000,
  });
  return { status: r.status, out: r.stdout };
}

describe('simpler-region on a terminal', () => {
  onTty('layout draws the region with offsets, in colour', () => {
    const r = runOnTty('layout --data-bytes 100 --signal-count 3');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/offset 0\s+┌/);
    expect(r.out).toMatch(/offset 64\s+├/);
    expect(r.out).toMatch(/offset 256\s+├/);
    expect(r.out).toMatch(/offset 356\s+├/);
    expect(r.out).toMatch(/offset 384\s+└/);
    expect(r.out).toContain('signal slots 0..2');
    expect(r.out).toContain('\u001b[');
  });

  onTty('NO_COLOR turns colour off on a terminal', () => {
    const r = runOnTty('layout --data-bytes 100 --signal-count 3', { NO_COLOR: '1' });
    expect(r.status).toBe(0);
    expect(r.out).toContain('┌');
    expect(r.out).not.toMatch(/\u001b\[[0-9;]*m/);
  });

  onTty('roundtrip ends with its summary after the progress bar', () => {
    const r = runOnTty('roundtrip --iters 300', { NO_COLOR: '1' });
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/roundtrip ok: 300\/300 iterations verified/);
    expect(r.out).toMatch(/p50 [\d.]+ {2}p99 [\d.]+ {2}max [\d.]+/);
  });
});

import { SpawnSyncReturns, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultChildMain } from '../../src/l3/chip-endpoint';
import { TRANSPORTS } from './helpers/process-state';
import { writeTestBackend } from './helpers/test-backend';

const client = path.resolve(__dirname, '../../../../examples/python/chip_client.py');
const backend = writeTestBackend();
afterAll(() => backend.remove());

// The client is an example for other languages: without python3 here there is nothing to run it with.
const python = spawnSync('python3', ['--version']).status === 0;
const describeWithPython = python ? describe : describe.skip;

function runClient(args: readonly string[], backendModule: string): SpawnSyncReturns<string> {
  return spawnSync('python3', [client, ...args], {
    env: { ...process.env, SIMPLER_L3_NODE: process.execPath, SIMPLER_L3_CHILD_MAIN: defaultChildMain(), SIMPLER_L3_BACKEND: backendModule },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describeWithPython('examples/python/chip_client.py (standard-library Python client)', () => {
  it.each(TRANSPORTS)('drives a chip child over %s through open, info, h2region, notify, wait, region2h (1 MiB too), close and shutdown', (transport) => {
    const before = new Set(fs.readdirSync('/dev/shm'));
    const run = runClient(['--transport', transport, '--big', String(1 << 20)], backend.file);
    expect(run.error).toBeUndefined();
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/opened handle 0x[0-9a-f]+: device data 0x[0-9a-f]+/);
    expect(run.stdout).toContain(`moved ${1 << 20} bytes in and out`);
    expect(run.stdout.trim().endsWith(`OK (${transport} transport)`)).toBe(true);
    const leftovers = fs.readdirSync('/dev/shm').filter((n) => !before.has(n) && n.startsWith('simpler-hdmr-'));
    expect(leftovers).toEqual([]);
  });

  it.each(TRANSPORTS)(
    'over %s, maps a direct region of the simulator (share, /proc, futex waits) and runs the round-trip kernel on it; a share after close is EINVAL',
    (transport) => {
      const run = runClient(['--transport', transport, '--round-trip', '--direct'], '@simpler/hal-sim');
      expect(run.error).toBeUndefined();
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toContain('round trip verified');
      expect(run.stdout).toMatch(/direct region 0x[0-9a-f]+: \d+ bytes mapped at offset \d+ of the child's object, sleepers futex/);
      // The client checks every byte of each iteration, and EINVAL for a share of the closed handle.
      expect(run.stdout).toContain('direct round trip verified (3 iterations)');
      expect(run.stdout.trim().endsWith(`OK (${transport} transport)`)).toBe(true);
    },
  );
});

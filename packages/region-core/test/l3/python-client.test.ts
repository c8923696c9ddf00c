import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultChildMain } from '../../src/l3/chip-endpoint';
import { TRANSPORTS } from './helpers/process-state';
import { writeTestBackend } from './helpers/test-backend';

const client = path.resolve(__dirname, '../../../../examples/python/chip_client.py');
const backend = writeTestBackend();
afterAll(() => backend.remove());

describe('examples/python/chip_client.py (standard-library Python client)', () => {
  it.each(TRANSPORTS)('drives a chip child over %s through open, info, h2region, notify, wait, region2h (1 MiB too), close and shutdown', (transport) => {
    const before = new Set(fs.readdirSync('/dev/shm'));
    const run = spawnSync('python3', [client, '--transport', transport, '--big', String(1 << 20)], {
      env: { ...process.env, SIMPLER_L3_NODE: process.execPath, SIMPLER_L3_CHILD_MAIN: defaultChildMain(), SIMPLER_L3_BACKEND: backend.file },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.error).toBeUndefined();
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/opened handle 0x[0-9a-f]+: device data 0x[0-9a-f]+/);
    expect(run.stdout).toContain(`moved ${1 << 20} bytes in and out`);
    expect(run.stdout.trim().endsWith(`OK (${transport} transport)`)).toBe(true);
    const leftovers = fs.readdirSync('/dev/shm').filter((n) => !before.has(n) && n.startsWith('simpler-hdmr-'));
    expect(leftovers).toEqual([]);
  });
});

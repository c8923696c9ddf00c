import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultChildMain } from '../../src/l3/chip-endpoint';
import { writeTestBackend } from './helpers/test-backend';

const client = path.resolve(__dirname, '../../../../examples/python/chip_client.py');
const backend = writeTestBackend();
afterAll(() => backend.remove());

describe('examples/python/chip_client.py (standard-library Python client)', () => {
  it('drives a chip child through open, info, h2region, notify, wait, region2h, close and shutdown', () => {
    const before = new Set(fs.readdirSync('/dev/shm'));
    const run = spawnSync('python3', [client], {
      env: { ...process.env, SIMPLER_L3_NODE: process.execPath, SIMPLER_L3_CHILD_MAIN: defaultChildMain(), SIMPLER_L3_BACKEND: backend.file },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.error).toBeUndefined();
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/opened handle 0x[0-9a-f]+: device data 0x[0-9a-f]+/);
    expect(run.stdout.trim().endsWith('OK')).toBe(true);
    const leftovers = fs.readdirSync('/dev/shm').filter((n) => !before.has(n) && n.startsWith('simpler-hdmr-'));
    expect(leftovers).toEqual([]);
  });
});

import { spawnSync } from 'node:child_process';
import path from 'node:path';

const tool = path.resolve(__dirname, '..', '..', 'tools', 'bench-l3.js');

/**
 * tools/bench-l3.js --gib: both buffers of the in-and-out check are faulted in before the copies
 * are timed, and the first touch is reported apart. Timed inside region2h only, it once made
 * region2h of 1 GiB look 15 times slower than h2region (issue 13 figures).
 */
describe('tools/bench-l3.js', () => {
  it('moves N GiB in and out, checks every byte, and times the first touch of fresh buffers apart from the copies', () => {
    const run = spawnSync(process.execPath, [tool, '--gib', '0.0625', '--iterations', '50', '--bulk-iterations', '2'], { encoding: 'utf8', timeout: 120_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^0\.0625 GiB over (shm|pipe): h2region \d+ ms .*, region2h \d+ ms .*, every byte checked/m);
    expect(run.stdout).toMatch(/not timed above: the first touch of each fresh 0\.0625 GiB buffer took \d+ ms/);
  });
});

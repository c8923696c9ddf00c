import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SHM_DIR } from '../../src/l3/sideband-segment';
import { eventually, processGone, segmentsOf } from './helpers/process-state';
import { writeTestBackend } from './helpers/test-backend';

// Issue 11 item 5: SIGKILL of the parent (as the OOM killer would) during a worker's first large
// h2region left the segment in /dev/shm: the parent had created and grown it, but had not sent
// the frame naming it yet, and the child unlinked only segments it had been handed. No transfer
// object may outlive both processes: a child whose parent died removes its parent's segments.
// (Over shared memory nothing is named: shm-faults.test.ts covers that transport.)

const backend = writeTestBackend();
afterAll(() => backend.remove());

const MiB = 1 << 20;

/** A parent that starts a 64 MiB h2region, reports, and then never gets to send the frame. */
const PARENT = `
const { ChipEndpoint } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'l3', 'chip-endpoint.js'))});
(async () => {
  const e = await ChipEndpoint.spawn({ deviceId: 0, backend: process.argv[1], stderr: 'ignore', transport: 'pipe' });
  const n = ${64 * MiB};
  const h = await e.open(n, 1, 0);
  void e.h2region(h, 0, Buffer.alloc(n, 7)).catch(() => undefined);
  // The request is under way: its segment exists and is grown, its frame is not sent yet.
  process.stdout.write(JSON.stringify({ child: e.pid, segment: e.segmentName }) + '\\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
})();
`;

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (c: Buffer) => {
      text += c.toString();
      if (text.includes('\n')) resolve(text.split('\n')[0]);
    });
    child.once('exit', (code) => reject(new Error(`parent exited early with ${code}`)));
  });
}

describe('kill -9 of a parent during its first large h2region', () => {
  it('the chip child exits and removes the segment the parent had not announced yet', async () => {
    const parent = spawn(process.execPath, ['-e', PARENT, backend.file], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const { child, segment } = JSON.parse(await firstLine(parent)) as { child: number; segment: string };
      const file = path.join(SHM_DIR, segment);
      expect(fs.statSync(file).size).toBe(64 + 64 * MiB);
      const died = new Promise((r) => parent.once('exit', (_code, signal) => r(signal)));
      parent.kill('SIGKILL');
      expect(await died).toBe('SIGKILL');
      expect(await eventually(() => processGone(child), 10_000)).toBe(true);
      expect(await eventually(() => !fs.existsSync(file), 5000)).toBe(true);
      expect(segmentsOf(parent.pid!, fs.readdirSync(SHM_DIR))).toEqual([]);
    } finally {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
    }
  });
});

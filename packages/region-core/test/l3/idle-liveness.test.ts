import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TRANSPORTS } from './helpers/process-state';
import { writeTestBackend } from './helpers/test-backend';

// docs/l3-protocol.md: idle chip children do not keep the parent alive. Issue 11 item 8: with
// childStderr 'pipe' the stderr pipe stayed referenced, so a script that never closed its worker
// never exited. This needs a real process exit, so the script runs the built package.
const backend = writeTestBackend();
afterAll(() => backend.remove());

function scriptFor(stderr: string, transport: string): string {
  return `
const { createL3Worker } = require(${JSON.stringify(join(__dirname, '..', '..', 'dist', 'l3', 'create-l3-worker.js'))});
(async () => {
  const worker = await createL3Worker({ backend: ${JSON.stringify(backend.file)}, deviceIds: [0, 1], childStderr: '${stderr}', transport: '${transport}' });
  const region = await worker.openMappedRegion(64, { signalCount: 1 });
  await worker.mappedRegionDatacopyH2Region(region, 0, Uint8Array.of(1, 2, 3));
  await worker.mappedRegionNotify(region, 0, 1);
  console.log('idle');
  // The worker is never closed: the event loop must still run dry.
})();
`;
}

describe('an idle L3 worker that is never closed does not keep the process alive', () => {
  const cases = TRANSPORTS.flatMap((transport) => ['pipe', 'inherit', 'ignore'].map((stderr) => [stderr, transport] as const));
  it.each(cases)('childStderr %s over %s: the script exits by itself', (stderr, transport) => {
    // A hang is what failed; 20 s only bounds the test, a healthy run exits in about a second.
    const result = spawnSync(process.execPath, ['-e', scriptFor(stderr, transport)], { encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
    expect(result.signal).toBeNull();
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe('idle');
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendError } from '@simpler/abi';
import { ChipEndpoint } from '../../src/l3/chip-endpoint';

// A stand-in child that speaks the framing but breaks the protocol in the way its --backend
// argument names: the parent must turn that into BackendError, not a bogus region.
const FAKE_CHILD = `
const mode = process.argv[process.argv.indexOf('--backend') + 1];
const frame = () => Buffer.alloc(4096);
const init = frame(); init.writeInt32LE(6, 0); process.stdout.write(init);
let pending = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  while (pending.length >= 4096) {
    const req = pending.subarray(0, 4096); pending = pending.subarray(4096);
    if (req.readInt32LE(0) === 3) process.exit(0);
    const reply = frame();
    reply.writeInt32LE(5, 0);
    const command = req.readUInt32LE(8);
    reply.writeUInt32LE(mode === 'wrong-command' ? command + 1 : command, 8);
    // zero-handle: RESULT stays 0; huge-handle: RESULT = 2^63.
    if (mode === 'huge-handle') reply.writeUInt32LE(0x80000000, 52);
    process.stdout.write(reply);
  }
});
process.stdin.on('end', () => process.exit(0));
`;

describe('a chip child that breaks the protocol', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simpler-fake-child-'));
  const childMain = join(dir, 'fake-child.js');
  writeFileSync(childMain, FAKE_CHILD);

  it.each(['wrong-command', 'zero-handle', 'huge-handle'])('%s: open fails with BackendError instead of yielding a handle', async (mode) => {
    const chip = await ChipEndpoint.spawn({ deviceId: 0, backend: mode, childMain, stderr: 'ignore' });
    try {
      const error = await chip.open(4096, 2, 0).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BackendError);
      expect((error as Error).message).toMatch(mode === 'wrong-command' ? /answered command 13 to request 12/ : /invalid region handle/);
    } finally {
      await chip.shutdown();
    }
  });
});

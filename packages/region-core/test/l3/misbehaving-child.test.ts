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
    const chip = await ChipEndpoint.spawn({ deviceId: 0, backend: mode, childMain, stderr: 'ignore', transport: 'pipe' });
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

// A stand-in child for the shared-memory transport: it maps the control block and the data
// window it inherited, answers open properly, then writes the nonsense its --backend argument
// names into the control block. The parent must fail the endpoint with EIO, never trust it.
const FAKE_SHM_CHILD = `
const { SharedMemoryObject } = require(${JSON.stringify(require.resolve('@simpler/shm'))});
const mode = process.argv[process.argv.indexOf('--backend') + 1];
const block = SharedMemoryObject.fromFd(3).map();
const words = new Int32Array(block.buffer);
const view = new DataView(block.buffer);
const init = Buffer.alloc(4096); init.writeInt32LE(6, 0); process.stdout.write(init);
const ring = () => process.stdout.write(Buffer.of(1));
setInterval(() => {
  const state = Atomics.load(words, 0);
  if (state === 3) process.exit(0);
  if (state !== 4) return;
  const command = view.getUint32(8, true);
  view.setInt32(4, 0, true);
  if (command === 12) {
    view.setUint32(48, 0x1234, true);
    Atomics.store(words, 0, 5);
  } else if (mode === 'unknown-state') {
    Atomics.store(words, 0, 7);
  } else if (mode === 'idle-state') {
    Atomics.store(words, 0, 0);
  } else if (mode === 'wrong-command') {
    view.setUint32(8, command + 1, true);
    Atomics.store(words, 0, 5);
  } else if (mode === 'result-beyond-window') {
    view.setUint32(48, 0, true);
    view.setUint32(52, 0x100, true);
    Atomics.store(words, 0, 5);
  } else if (mode === 'counter-beyond') {
    Atomics.store(words, 320 / 4, 5);
  } else if (mode === 'early-reply') {
    view.setUint32(48, 3 * 4096, true);
    Atomics.store(words, 320 / 4, 1);
    Atomics.store(words, 0, 5);
  }
  ring();
}, 1);
process.stdin.on('data', () => undefined);
process.stdin.on('end', () => process.exit(0));
`;

describe('a chip child that writes nonsense into the shared-memory control block', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simpler-fake-shm-child-'));
  const childMain = join(dir, 'fake-shm-child.js');
  writeFileSync(childMain, FAKE_SHM_CHILD);

  it.each([
    ['unknown-state', /unexpected frame \(state 7\)/],
    ['idle-state', /unexpected frame \(state 0\)/],
    ['wrong-command', /answered command 17 to request 16/],
    ['result-beyond-window', /reported \d+ payload bytes for region2h, expected 12288/],
    ['counter-beyond', /child_chunks 5/],
    ['early-reply', /replied to region2h after \d of 3 chunks/],
  ])('%s: region2h fails with EIO and the child is not trusted again', async (mode, message) => {
    const chip = await ChipEndpoint.spawn({ deviceId: 0, backend: mode, childMain, stderr: 'ignore', transport: 'shm', shmTuning: { chunkBytes: 4096 } });
    try {
      const handle = await chip.open(1 << 20, 1, 0);
      const error = await chip.region2h(handle, 0, 3 * 4096).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BackendError);
      expect(error).toMatchObject({ code: 'EIO', message: expect.stringMatching(message) });
      await expect(chip.notify(handle, 0, 1)).rejects.toMatchObject({ code: 'EIO' });
      expect(chip.lost).toBeDefined();
    } finally {
      await chip.shutdown();
    }
  });
});

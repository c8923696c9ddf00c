import { spawnSync } from 'node:child_process';
import { SharedMemoryObject } from '../src';
import { ShmChild, uniqueName } from './fixtures/shm-process';

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

// Spins on word 0 like the child does, napping now and then so a loaded machine runs the child.
function awaitWord(words: Int32Array, expected: number): void {
  for (let spins = 1; Atomics.load(words, 0) !== expected; spins++) {
    if (spins % 20000 === 0) Atomics.wait(sleepCell, 0, 0, 1);
  }
}

describe('two processes sharing one object', () => {
  let shm: SharedMemoryObject;
  let child: ShmChild;

  beforeEach(async () => {
    shm = SharedMemoryObject.create(64 * 1024, { debugName: uniqueName('xproc') });
    child = new ShmChild(shm);
    expect(await child.next()).toBe('ready');
  });

  afterEach(async () => {
    expect(await child.end()).toBe(0);
    shm.close();
  });

  it('maps the inherited descriptor and sees the size the parent gave it', async () => {
    child.send('size');
    expect(await child.next()).toBe(`size ${64 * 1024}`);
  });

  it('sees writes both ways', async () => {
    const mapping = shm.map();
    const bytes = new Uint8Array(mapping.buffer);
    for (let i = 0; i < 1000; i++) bytes[i] = i & 0xff;
    child.send('echo 1000');
    expect(await child.next()).toBe('echoed 1000');
    for (let i = 0; i < 1000; i++) expect(bytes[1000 + i]).toBe((i + 1) & 0xff);
    mapping.unmap();
  });

  it('sees a resize made by the other process', async () => {
    shm.resize(128 * 1024);
    child.send('size');
    expect(await child.next()).toBe(`size ${128 * 1024}`);
  });

  it('ping-pongs a few thousand rounds with Atomics.load/store', async () => {
    const rounds = 3000;
    const mapping = shm.map(4096);
    const words = new Int32Array(mapping.buffer);
    child.send(`pingpong ${rounds}`);
    for (let i = 0; i < rounds; i++) {
      Atomics.store(words, 0, 2 * i + 1);
      awaitWord(words, 2 * i + 2);
    }
    expect(await child.next()).toBe(`ponged ${rounds}`);
    expect(Atomics.load(words, 1)).toBe(rounds);
    mapping.unmap();
  });
});

describe('MFD_CLOEXEC', () => {
  it('does not leak the descriptor into a child that was not given it', () => {
    const name = uniqueName('cloexec');
    const shm = SharedMemoryObject.create(4096, { debugName: name });
    const script = `const fs = require('fs');
      const links = fs.readdirSync('/proc/self/fd').map((e) => { try { return fs.readlinkSync('/proc/self/fd/' + e); } catch { return ''; } });
      process.stdout.write(JSON.stringify(links));`;
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    shm.close();
    expect(result.status).toBe(0);
    const links = JSON.parse(result.stdout) as string[];
    expect(links.some((link) => link.includes(name))).toBe(false);
  });
});

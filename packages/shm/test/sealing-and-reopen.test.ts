import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { SharedMemoryObject } from '../src';
import { uniqueName } from './fixtures/shm-process';

function fdsNamed(name: string): number {
  let count = 0;
  for (const entry of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${entry}`).includes(name)) count++;
    } catch {
      // closed between readdir and readlink
    }
  }
  return count;
}

describe('sealSize', () => {
  it('seals a created object against shrinking and growing', () => {
    const shm = SharedMemoryObject.create(8192, { sealSize: true });
    try {
      expect(shm.sizeSealed).toBe(true);
      expect(() => shm.resize(4096)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      expect(() => shm.resize(16384)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      expect(shm.size).toBe(8192);
    } finally {
      shm.close();
    }
  });

  it('leaves an object unsealed by default', () => {
    const shm = SharedMemoryObject.create(4096);
    try {
      expect(shm.sizeSealed).toBe(false);
      shm.resize(8192);
      expect(shm.size).toBe(8192);
    } finally {
      shm.close();
    }
  });

  it('rejects a sealSize that is not a boolean', () => {
    expect(() => SharedMemoryObject.create(4096, { sealSize: 1 as unknown as boolean })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('SharedMemoryObject.fromProcess', () => {
  it('opens the same object through /proc/<pid>/fd and sees writes both ways', () => {
    const name = uniqueName('reopen');
    const shm = SharedMemoryObject.create(4096, { debugName: name, sealSize: true });
    const other = SharedMemoryObject.fromProcess(process.pid, shm.fd);
    try {
      expect(other.fd).not.toBe(shm.fd);
      expect(other.inode).toBe(shm.inode);
      expect(other.sizeSealed).toBe(true);
      const a = shm.map();
      const b = other.map();
      new Uint8Array(a.buffer)[100] = 0x5a;
      expect(new Uint8Array(b.buffer)[100]).toBe(0x5a);
      new Int32Array(b.buffer)[0] = 77;
      expect(Atomics.load(new Int32Array(a.buffer), 0)).toBe(77);
      a.unmap();
      b.unmap();
    } finally {
      other.close();
      shm.close();
    }
    expect(fdsNamed(name)).toBe(0);
  });

  it('opens an object held by a child process', async () => {
    const name = uniqueName('childfd');
    // The child makes its own sealed memfd, writes a marker, reports its pid-local fd and inode.
    const script = `const { SharedMemoryObject } = require(${JSON.stringify(require.resolve('../dist/index.js'))});
      const shm = SharedMemoryObject.create(4096, { debugName: ${JSON.stringify(name)}, sealSize: true });
      const m = shm.map(); new Uint8Array(m.buffer)[7] = 0xc3;
      process.stdout.write(JSON.stringify({ fd: shm.fd, inode: String(shm.inode) }) + '\\n');
      process.stdin.on('data', () => { process.stdout.write(String(new Uint8Array(m.buffer)[8]) + '\\n'); process.exit(0); });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: string[] = [];
    let wake: (() => void) | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      lines.push(...chunk.split('\n').filter(Boolean));
      wake?.();
    });
    const nextLine = async (): Promise<string> => {
      while (lines.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return lines.shift()!;
    };
    const { fd, inode } = JSON.parse(await nextLine()) as { fd: number; inode: string };
    const other = SharedMemoryObject.fromProcess(child.pid!, fd);
    try {
      expect(other.inode).toBe(BigInt(inode));
      expect(other.sizeSealed).toBe(true);
      const m = other.map();
      expect(new Uint8Array(m.buffer)[7]).toBe(0xc3);
      new Uint8Array(m.buffer)[8] = 0x3c;
      child.stdin.write('x');
      expect(await nextLine()).toBe(String(0x3c));
      m.unmap();
    } finally {
      other.close();
    }
    await new Promise((resolve) => child.once('exit', resolve));
  });

  it('is a typed error for a descriptor that is not open, and for bad arguments', () => {
    expect(() => SharedMemoryObject.fromProcess(process.pid, 0x7fff_fff0)).toThrow(expect.objectContaining({ code: 'EIO' }));
    expect(() => SharedMemoryObject.fromProcess(0, 3)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => SharedMemoryObject.fromProcess(process.pid, -1)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => SharedMemoryObject.fromProcess(1.5, 3)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('refuses a descriptor that is not a regular file (a pipe)', () => {
    // fd 0 of a Jest worker is a pipe or /dev/null: neither is a shared memory object.
    expect(() => SharedMemoryObject.fromProcess(process.pid, 0)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

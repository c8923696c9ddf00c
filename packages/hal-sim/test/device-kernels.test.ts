import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SimBackend, createBackend } from '../src';
import { hostNotify, hostWait } from './support/host-side';

// Small user kernels written as plain JS, loaded by the device thread from a module path.
const KERNELS: Record<string, string> = {
  'fill.js': `module.exports = (mem, [addr, n]) => { for (let i = 0n; i < n; i++) mem.write8(addr + i, Number((i + 1n) & 0xffn)); };`,
  'copy.js': `exports.kernel = (mem, [src, dst, n]) => { mem.writeBytes(dst, mem.readBytes(src, Number(n))); };`,
  'esm.mjs': `export default function (mem, [addr]) { mem.bytes(addr, 4).set([9, 8, 7, 6]); }`,
  'poke.js': `module.exports = (mem, [addr]) => { mem.write8(addr, 1); };`,
  'poke-caught.js': `module.exports = (mem, [addr, ok]) => { try { mem.read8(addr); } catch {} mem.write8(ok, 5); };`,
  'spin.js': `module.exports = (mem, [flag, timeoutUs]) => {
    if (!mem.waitU32AtLeast(flag, 1, Number(timeoutUs))) throw new Error('flag never set');
    mem.store32Release(flag + 4n, 2);
  };`,
  'late.js': `module.exports = (mem, [flag]) => {
    mem.store32Release(flag + 16n, 1);
    if (!mem.waitU32AtLeast(flag, 1, 10000000)) throw new Error('flag never set');
    const addr = mem.load32Acquire(flag + 8n) + mem.load32Acquire(flag + 12n) * 2 ** 32;
    mem.write8(addr, 7);
    mem.store32Release(flag + 4n, 1);
  };`,
  'async.js': `module.exports = async (mem, [addr, fail]) => {
    await new Promise((r) => setTimeout(r, 5));
    if (fail) throw new Error('async kernel gave up');
    mem.write8(addr, 3);
  };`,
  'not-a-kernel.js': `module.exports = { answer: 42 };`,
  'throws.js': `module.exports = () => { throw new Error('kernel said no'); };`,
};

let dir: string;

/** The rejection of the next synchronize; fails the test if it resolves. */
async function syncError(): Promise<Error> {
  try {
    await b.synchronize();
  } catch (e) {
    return e as Error;
  }
  throw new Error('synchronize resolved but a failure was expected');
}

let b: SimBackend;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hal-sim-kernels-'));
  for (const [file, text] of Object.entries(KERNELS)) fs.writeFileSync(path.join(dir, file), text);
  b = await createBackend({ deviceId: 0, kernels: { fill: path.join(dir, 'fill.js') } });
  for (const file of Object.keys(KERNELS)) {
    const name = path.basename(file, path.extname(file));
    if (name !== 'fill') b.registerKernel(name, path.join(dir, file));
  }
});
afterAll(async () => {
  await b.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('user kernels from module paths', () => {
  it('a kernel writing by device address is visible in the host view', async () => {
    const a = b.allocate(4096);
    try {
      b.launch('fill', [a.deviceBase + 100n, 300n]);
      await b.synchronize();
      for (let i = 0; i < 300; i++) expect(a.bytes[100 + i]).toBe((i + 1) & 0xff);
      expect(a.bytes[99]).toBe(0);
      expect(a.bytes[400]).toBe(0);
    } finally {
      a.release();
    }
  });

  it('host writes are visible to the kernel (copy inside one allocation and across two)', async () => {
    const a = b.allocate(1024);
    const c = b.allocate(1024);
    try {
      for (let i = 0; i < 200; i++) a.bytes[i] = (i * 7 + 1) & 0xff;
      b.launch('copy', [a.deviceBase, a.deviceBase + 512n, 200n]);
      b.launch('copy', [a.deviceBase, c.deviceBase + 8n, 200n]);
      await b.synchronize();
      for (let i = 0; i < 200; i++) {
        expect(a.bytes[512 + i]).toBe((i * 7 + 1) & 0xff);
        expect(c.bytes[8 + i]).toBe((i * 7 + 1) & 0xff);
      }
    } finally {
      a.release();
      c.release();
    }
  });

  it('ES modules and async kernels work; an async rejection is reported', async () => {
    const a = b.allocate(64);
    try {
      b.launch('esm', [a.deviceBase + 4n]);
      b.launch('async', [a.deviceBase + 20n, 0n]);
      await b.synchronize();
      expect([...a.bytes.subarray(4, 8)]).toEqual([9, 8, 7, 6]);
      expect(a.bytes[20]).toBe(3);
      b.launch('async', [a.deviceBase, 1n]);
      await expect(b.synchronize()).rejects.toMatchObject({ code: 'EIO', message: expect.stringContaining('async kernel gave up') });
    } finally {
      a.release();
    }
  });

  it('kernel errors are EIO at synchronize, the first one kept, later kernels still run', async () => {
    const a = b.allocate(64);
    try {
      b.launch('throws', []);
      b.launch('not-a-kernel', []);
      b.launch('poke', [a.deviceBase + 1n]);
      const err = await syncError();
      expect(err).toMatchObject({ code: 'EIO', errno: -5 });
      expect(err.message).toContain("kernel 'throws' failed: kernel said no");
      expect(err.message).toContain('and 1 more');
      expect(a.bytes[1]).toBe(1);
      b.launch('not-a-kernel', []);
      await expect(b.synchronize()).rejects.toThrow(/exports no function/);
    } finally {
      a.release();
    }
  });

  it('registration is validated', () => {
    expect(() => b.registerKernel('fill', path.join(dir, 'fill.js'))).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('already registered') }));
    expect(() => b.registerKernel('round-trip', path.join(dir, 'fill.js'))).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => b.registerKernel('', path.join(dir, 'fill.js'))).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => b.registerKernel('ghost', path.join(dir, 'ghost.js'))).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('ghost.js') }));
    expect(b.kernels()).toEqual(expect.arrayContaining(['round-trip', 'fill', 'copy', 'spin']));
  });
});

describe('device faults', () => {
  it.each([
    ['in the gap after an allocation', (base: bigint, size: number) => base + BigInt(size) + 100n, 'outside every open allocation'],
    ['one past the end', (base: bigint, size: number) => base + BigInt(size), 'runs past the end'],
    ['below every allocation', () => 0x1000n, 'outside every open allocation'],
  ])('an access %s is EIO naming the address', async (_label, where, why) => {
    const size = 256;
    const a = b.allocate(size);
    try {
      const addr = where(a.deviceBase, size);
      b.launch('poke', [addr]);
      const err = await syncError();
      expect(err).toMatchObject({ code: 'EIO', errno: -5 });
      expect(err.message).toContain('device fault');
      expect(err.message).toContain(why);
      expect(err.message).toContain(`0x${addr.toString(16)}`);
      expect(a.bytes.every((x) => x === 0)).toBe(true);
    } finally {
      a.release();
    }
  });

  it('a fault the kernel catches is still reported', async () => {
    const a = b.allocate(64);
    try {
      b.launch('poke-caught', [a.deviceBase + (1n << 20n), a.deviceBase]);
      await expect(b.synchronize()).rejects.toMatchObject({ code: 'EIO', message: expect.stringContaining('device fault') });
      expect(a.bytes[0]).toBe(5);
    } finally {
      a.release();
    }
  });

  it('an access to a released allocation is a fault, not a crash', async () => {
    const a = b.allocate(64);
    a.release();
    b.launch('poke', [a.deviceBase]);
    await expect(b.synchronize()).rejects.toMatchObject({ code: 'EIO', message: expect.stringContaining(`0x${a.deviceBase.toString(16)}`) });
    expect(a.bytes[0]).toBe(0);
  });

  it('releasing memory a kernel is waiting on faults that kernel', async () => {
    const a = b.allocate(64);
    b.launch('spin', [a.deviceBase, 10_000_000n]);
    await new Promise((r) => setTimeout(r, 20));
    a.release();
    await expect(b.synchronize()).rejects.toMatchObject({ code: 'EIO', message: expect.stringContaining('released allocation') });
  });
});

describe('concurrency', () => {
  it('the device runs on its own thread: it answers while the host thread is blocked', async () => {
    const a = b.allocate(64);
    try {
      b.launch('spin', [a.deviceBase, 10_000_000n]);
      // Only after launch returned does the host publish; then it blocks this thread.
      hostNotify(a, 0, 1);
      expect(hostWait(a, 4, 2, 10_000)).toBe(true);
      await b.synchronize();
    } finally {
      a.release();
    }
  });

  it('a running kernel can reach memory allocated after it started', async () => {
    const a = b.allocate(64);
    let late: ReturnType<SimBackend['allocate']> | undefined;
    try {
      b.launch('late', [a.deviceBase]);
      // Allocate only once the kernel is running, so the device learns of it mid-kernel.
      expect(hostWait(a, 16, 1, 10_000)).toBe(true);
      late = b.allocate(64);
      const w = new Uint32Array(a.bytes.buffer, a.bytes.byteOffset, 16);
      w[2] = Number(late.deviceBase % 2n ** 32n);
      w[3] = Number(late.deviceBase / 2n ** 32n);
      hostNotify(a, 0, 1);
      expect(hostWait(a, 4, 1, 10_000)).toBe(true);
      await b.synchronize();
      expect(late.bytes[0]).toBe(7);
    } finally {
      a.release();
      late?.release();
    }
  });
});

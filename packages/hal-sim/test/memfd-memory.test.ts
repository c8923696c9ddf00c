import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, ftruncateSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { isRegionError } from '@simpler/abi';
import { SimBackend, createBackend } from '../src';
import { DATA, SIGNAL0, SIGNAL1, firstWrongOutput, hostWait, roundTripBytes, writePayload } from './support/host-side';

const MEMFD = '/memfd:simpler-sim-region (deleted)';
const MIB = 1 << 20;

/** Lines of /proc/self/maps that map a simulator region's object. */
function regionMaps(): string[] {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((line) => line.endsWith(MEMFD));
}

/** Descriptors of this process that refer to a simulator region's object. */
function regionFds(): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${entry}`) === MEMFD) found.push(entry);
    } catch {
      // closed between readdir and readlink
    }
  }
  return found;
}

function statusKiB(field: string): number {
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync('/proc/self/status', 'utf8'))![1]);
}

async function until(condition: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

describe('memfd memory', () => {
  let b: SimBackend;
  beforeAll(async () => {
    b = await createBackend({ deviceId: 0 });
  });
  afterAll(() => b.destroy());

  it('is the default here, and each allocation is shared with another process through share()', () => {
    expect(b.memory).toBe('memfd');
    const a = b.allocate(4096 + 64);
    try {
      const shared = a.share!();
      expect(shared).toEqual({ fd: expect.any(Number), offset: 4096, length: 4096 + 64, cacheHooks: 'none', wake: { kind: 'futex', sleepersOffset: 0 } });
      a.bytes[100] = 42;
      const read = Buffer.alloc(1);
      readSync(shared.fd, read, 0, 1, shared.offset + 100);
      expect(read[0]).toBe(42);
      // Sealed against shrinking: another process that maps it can never lose pages to SIGBUS.
      expect(() => ftruncateSync(shared.fd, 0)).toThrow(expect.objectContaining({ code: 'EPERM' }));
    } finally {
      a.release();
    }
    expect(() => a.share!()).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('was released') }));
  });

  it('release gives the memory back at once: resident memory drops, no mapping or descriptor is left', async () => {
    // Let the device map and unmap anything earlier tests left, then measure.
    expect(await until(() => regionMaps().length === 0)).toBe(true);
    const size = 128 * MIB;
    const a = b.allocate(size);
    // The device maps its own view once it hears of the allocation.
    b.launch('round-trip', [a.deviceBase + 192n, a.deviceBase + 64n, 1n, 1n]);
    for (let offset = 0; offset < size; offset += 4096) a.bytes[offset] = 1;
    expect(await until(() => regionMaps().length === 2)).toBe(true);
    expect(regionFds()).toHaveLength(1);
    const touched = statusKiB('RssShmem');
    a.release();
    // At once: the host's view and the pages are gone before release returns.
    expect(touched - statusKiB('RssShmem')).toBeGreaterThan((size / 1024) * 0.9);
    expect(regionMaps().length).toBeLessThanOrEqual(1);
    expect(regionFds()).toEqual([]);
    // The device gives its own view back as soon as it hears of the release (the waiting kernel faults).
    await expect(b.synchronize()).rejects.toMatchObject({ code: 'EIO', message: expect.stringContaining('released allocation') });
    expect(await until(() => regionMaps().length === 0)).toBe(true);
  });

  it('a stale view of a released allocation stays safe: it reads zeros and its writes reach nobody', () => {
    const a = b.allocate(4096);
    const view = a.bytes;
    view.fill(7);
    const fd = a.share!().fd;
    a.release();
    expect(view.every((x) => x === 0)).toBe(true);
    view[0] = 9;
    expect(regionFds()).not.toContain(String(fd));
  });

  it('the device answers a signal another process publishes through its own mapping (futex wake protocol)', async () => {
    const n = 4096;
    const a = b.allocate(roundTripBytes(n));
    const shared = a.share!();
    const script = join(__dirname, 'fixtures', 'foreign-publisher.js');
    const child = spawn(process.execPath, [script, String(shared.offset), String(shared.wake.kind === 'futex' ? shared.wake.sleepersOffset : -1)], {
      stdio: ['pipe', 'pipe', 'inherit', shared.fd],
    });
    const lines: string[] = [];
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
    try {
      for (let seq = 1; seq <= 3; seq++) {
        // The kernel sleeps (spins 20 us, then futex) until the other process publishes.
        b.launch('round-trip', [a.deviceBase + BigInt(DATA), a.deviceBase + BigInt(SIGNAL0), BigInt(seq), BigInt(n)]);
        writePayload(a, seq, n);
        child.stdin!.write(`publish ${SIGNAL0} ${seq}\n`);
        expect(hostWait(a, SIGNAL1, seq, 10_000)).toBe(true);
        expect(firstWrongOutput(a, seq, n)).toBe(-1);
        expect(await until(() => lines.length === seq)).toBe(true);
        // The publisher found the device announced as a sleeper, and woke it.
        expect(JSON.parse(lines[seq - 1])).toMatchObject({ sleepers: 1 });
      }
      await b.synchronize();
    } finally {
      child.stdin!.end();
      await new Promise((resolve) => child.once('exit', resolve));
      a.release();
    }
  }, 30_000);

  it('destroy releases what was not released: no mapping or descriptor is left', async () => {
    const other = await createBackend({ deviceId: 1 });
    const a = other.allocate(64 * 1024);
    other.launch('round-trip', [a.deviceBase + 192n, a.deviceBase + 64n, 1n, 1n, 1000n]);
    await other.synchronize().catch(() => undefined);
    await other.destroy();
    expect(() => a.share!()).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(await until(() => regionMaps().length === 0 && regionFds().length === 0)).toBe(true);
  });
});

describe('the memory option', () => {
  it("refuses anything but 'memfd' or 'sab' with EINVAL", async () => {
    for (const memory of ['shm', 1, null]) {
      const err = await createBackend({ deviceId: 0, memory: memory as 'sab' }).catch((e: unknown) => e);
      expect(isRegionError(err) && err.code).toBe('EINVAL');
    }
  });

  it("where @simpler/shm cannot work, defaults to 'sab' and answers 'memfd' with ENOTSUP saying why", () => {
    const script = `Object.defineProperty(process, 'platform', { value: 'darwin' });
      const sim = require(${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))});
      (async () => {
        const b = await sim.createBackend({ deviceId: 0 });
        const memfd = await sim.createBackend({ deviceId: 0, memory: 'memfd' }).then(() => 'created', (e) => e.code + ': ' + e.message);
        process.stdout.write(JSON.stringify({ memory: b.memory, share: typeof b.allocate(64).share, memfd }));
        await b.destroy();
      })();`;
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      memory: 'sab',
      share: 'undefined',
      memfd: "ENOTSUP: createBackend: memory 'memfd' is not available: not Linux (platform darwin)",
    });
  });
});

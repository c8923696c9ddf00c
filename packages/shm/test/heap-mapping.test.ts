import { spawnSync } from 'node:child_process';
import { readSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { isRegionError } from '@simpler/abi';
import { SharedMemoryObject, systemPageSize } from '../src';
import { mapsOf, uniqueName } from './fixtures/shm-process';

const page = systemPageSize();
const MIB = 1 << 20;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isRegionError(error) ? error.code : String(error);
  }
  return undefined;
}

describe("map with backing: 'heap'", () => {
  it('maps the object over an ArrayBuffer V8 counts, at byteOffset, as the same memory as a native mapping', () => {
    const shm = SharedMemoryObject.create(3 * page + 100);
    const before = process.memoryUsage().arrayBuffers;
    const heap = shm.map(undefined, 0, { backing: 'heap' });
    expect(process.memoryUsage().arrayBuffers - before).toBeGreaterThanOrEqual(3 * page + 100);
    expect(heap.byteLength).toBe(3 * page + 100);
    expect(heap.byteOffset).toBeGreaterThanOrEqual(0);
    expect(heap.byteOffset).toBeLessThan(page);
    expect(heap.buffer.byteLength).toBeGreaterThanOrEqual(heap.byteOffset + heap.byteLength);
    expect(Object.prototype.toString.call(heap.buffer)).toBe('[object ArrayBuffer]');
    const native = shm.map();
    expect(native.byteOffset).toBe(0);
    const view = new Uint8Array(heap.buffer, heap.byteOffset, heap.byteLength);
    view[3 * page + 99] = 42;
    expect(new Uint8Array(native.buffer)[3 * page + 99]).toBe(42);
    new Uint8Array(native.buffer)[5] = 7;
    expect(view[5]).toBe(7);
    const read = Buffer.alloc(1);
    readSync(shm.fd, read, 0, 1, 3 * page + 99);
    expect(read[0]).toBe(42);
    heap.unmap();
    native.unmap();
    shm.close();
  });

  it('unmap leaves no mapping of the object; an old view reads zeros and keeps its writes private', () => {
    const name = uniqueName('heap-stale');
    const shm = SharedMemoryObject.create(2 * page, { debugName: name });
    const heap = shm.map(undefined, 0, { backing: 'heap' });
    const stale = new Uint8Array(heap.buffer, heap.byteOffset, heap.byteLength);
    stale.fill(9);
    expect(mapsOf(name)).toHaveLength(1);
    heap.unmap();
    heap.unmap();
    expect(heap.released).toBe(true);
    expect(codeOf(() => heap.buffer)).toBe('EINVAL');
    expect(mapsOf(name)).toEqual([]);
    expect(stale.every((b) => b === 0)).toBe(true);
    stale.fill(3);
    const fresh = shm.map();
    expect(new Uint8Array(fresh.buffer).every((b) => b === 9)).toBe(true);
    fresh.unmap();
    shm.close();
  });

  it('cannot be transferred away: postMessage clones it and the mapping stays', () => {
    const shm = SharedMemoryObject.create(page);
    const heap = shm.map(undefined, 0, { backing: 'heap' });
    const { port1, port2 } = new MessageChannel();
    try {
      port1.postMessage(heap.buffer, [heap.buffer]);
    } catch {
      // Newer Node versions refuse instead of cloning; either way nothing is detached.
    }
    expect(heap.buffer.byteLength).toBeGreaterThan(0);
    port1.close();
    port2.close();
    heap.unmap();
    shm.close();
  });

  it("refuses a backing that is not 'native' or 'heap' with EINVAL", () => {
    const shm = SharedMemoryObject.create(page);
    expect(codeOf(() => shm.map(undefined, 0, { backing: 'file' as 'heap' }))).toBe('EINVAL');
    expect(codeOf(() => shm.map(undefined, 0, null as unknown as object))).toBe('EINVAL');
    shm.close();
  });

  // The point of heap backing: released ranges go back when V8 collects, and V8 collects
  // because it counts them, so a loop of large mappings fits a 4 GiB address-space limit.
  it('40 map/touch/unmap cycles of 256 MiB fit in a 4 GiB address space (native backing does not)', () => {
    const script = join(__dirname, 'fixtures', 'heap-cycles-child.js');
    const run = (backing: string): { done: number; error: string | null; peakKiB: number } => {
      const command = `ulimit -v 4194304; exec "${process.execPath}" "${script}" 40 256`;
      const result = spawnSync('bash', ['-c', command], { encoding: 'utf8', env: { ...process.env, BACKING: backing } });
      expect(result.stderr).toBe('');
      return JSON.parse(result.stdout);
    };
    expect(run('heap')).toEqual({ done: 40, error: null, peakKiB: expect.any(Number) });
    // The control: released native ranges wait for a collection V8 has no reason to run.
    const native = run('native');
    expect(native.done).toBeLessThan(40);
    expect(native.error).toMatch(/^ENOMEM: mmap failed with ENOMEM/);
  }, 120_000);
});

describe('dup', () => {
  it('gives a second descriptor of the same memory that outlives the first', () => {
    const shm = SharedMemoryObject.create(page);
    const copy = shm.dup();
    expect(copy.fd).not.toBe(shm.fd);
    const mapping = shm.map();
    shm.close();
    expect(copy.size).toBe(page);
    const other = copy.map();
    new Uint8Array(mapping.buffer)[10] = 77;
    expect(new Uint8Array(other.buffer)[10]).toBe(77);
    mapping.unmap();
    other.unmap();
    copy.close();
    expect(codeOf(() => copy.dup())).toBe('EINVAL');
  });
});

describe('discard', () => {
  it('frees the pages at once: every mapping reads zeros and resident memory drops', () => {
    const shm = SharedMemoryObject.create(64 * MIB);
    const a = shm.map(undefined, 0, { backing: 'heap' });
    const b = shm.map();
    const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    for (let o = 0; o < view.length; o += page) view[o] = 5;
    const shmemKiB = (): number => Number(/RssShmem:\s+(\d+)/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8') as string)![1]);
    const touched = shmemKiB();
    shm.discard();
    expect(touched - shmemKiB()).toBeGreaterThan(60 * 1024);
    expect(view[page]).toBe(0);
    expect(new Uint8Array(b.buffer)[page]).toBe(0);
    view[0] = 1;
    expect(new Uint8Array(b.buffer)[0]).toBe(1);
    a.unmap();
    b.unmap();
    shm.close();
  });

  it('discards a range only, accepts an empty one, and refuses bad ranges with EINVAL', () => {
    const shm = SharedMemoryObject.create(2 * page);
    const m = shm.map();
    const view = new Uint8Array(m.buffer);
    view.fill(4);
    shm.discard(page, page);
    expect(view[page - 1]).toBe(4);
    expect(view[page]).toBe(0);
    shm.discard(0, 0);
    expect(view[0]).toBe(4);
    expect(codeOf(() => shm.discard(-1))).toBe('EINVAL');
    expect(codeOf(() => shm.discard(0, 1.5))).toBe('EINVAL');
    m.unmap();
    shm.close();
    expect(codeOf(() => shm.discard())).toBe('EINVAL');
  });
});

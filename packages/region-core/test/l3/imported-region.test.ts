import { computeRegionLayout } from '@simpler/abi';
import type { SharedMemoryObject } from '@simpler/shm';
import { writeRegionHeader } from '../../src/context/region-allocation';
import type { ShareReply } from '../../src/l3/chip-endpoint';
import { requireShm } from '../../src/l3/shm-loader';
import { DirectUnavailableError, WAKE_BY_POLLING, importRegion } from '../../src/l3/direct/imported-region';

// The parent's side of a direct region, against replies a lying or broken child could send: only a
// reply that names exactly the sealed object holding exactly the region it asked for is mapped.

const shm = requireShm('imported-region test');
const layout = computeRegionLayout(4096, 2);
const page = shm.systemPageSize();

/** A sealed object laid out like a simulator region: control page, then the region with its header. */
function regionObject(options: { seal?: boolean; header?: boolean } = {}): SharedMemoryObject {
  const object = shm.SharedMemoryObject.create(page + layout.totalBytes, { sealSize: options.seal ?? true });
  if (options.header ?? true) {
    const m = object.map();
    writeRegionHeader(layout, new Uint8Array(m.buffer), page);
    m.unmap();
  }
  return object;
}

function replyFor(object: SharedMemoryObject, over: Partial<ShareReply> = {}): ShareReply {
  return { fd: BigInt(object.fd), offset: BigInt(page), length: BigInt(layout.totalBytes), wake: 0n, inode: object.inode, ...over };
}

function mappedRegions(): number {
  return require('node:fs').readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l: string) => l.includes('memfd:simpler-shm')).length;
}

describe('importRegion', () => {
  let object: SharedMemoryObject;
  beforeEach(() => {
    object = regionObject();
  });
  afterEach(() => object.close());

  it('maps exactly the region: writes here land in the object, and release unmaps it', () => {
    const before = mappedRegions();
    const allocation = importRegion(shm, process.pid, replyFor(object), layout, 0);
    expect(allocation.bytes.byteLength).toBe(layout.totalBytes);
    expect(allocation.hostBase).toBe(0n);
    allocation.bytes[layout.dataOffset] = 0xab;
    const m = object.map();
    expect(new Uint8Array(m.buffer)[page + layout.dataOffset]).toBe(0xab);
    m.unmap();
    expect(typeof allocation.wakeSignal).toBe('function');
    expect(typeof allocation.sleepSignalAsync).toBe('function');
    allocation.release();
    expect(mappedRegions()).toBe(before);
  });

  it('a sleeper wakes when another mapping publishes and wakes the futex', async () => {
    const allocation = importRegion(shm, process.pid, replyFor(object), layout, 0);
    const slot = layout.signalOffset;
    const sleeping = allocation.sleepSignalAsync!(slot, 0, 5000);
    expect(sleeping).toBeInstanceOf(Promise);
    const other = object.map();
    const words = new Int32Array(other.buffer);
    // The sleeper announced itself in the count at offset 0 of the object.
    expect(Atomics.load(words, 0)).toBe(1);
    Atomics.store(words, (page + slot) / 4, 1);
    other.futexWake(page + slot);
    const started = Date.now();
    await sleeping;
    expect(Date.now() - started).toBeLessThan(4000);
    expect(Atomics.load(words, 0)).toBe(0);
    other.unmap();
    allocation.release();
  });

  it('release wakes a pending sleeper at once', async () => {
    const allocation = importRegion(shm, process.pid, replyFor(object), layout, 0);
    const before = mappedRegions();
    const sleeping = allocation.sleepSignalAsync!(layout.signalOffset, 0, 10_000);
    // Let the pool thread reach FUTEX_WAIT.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    allocation.release();
    // The sleeper still holds the mapping: it goes when the sleep returns.
    expect(mappedRegions()).toBe(before);
    await sleeping;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(mappedRegions()).toBe(before - 1);
  });

  it('without a futex (ARG3 all ones) there is no wake hook: waits poll', () => {
    const allocation = importRegion(shm, process.pid, replyFor(object, { wake: WAKE_BY_POLLING }), layout, 0);
    expect(allocation.wakeSignal).toBeUndefined();
    expect(allocation.sleepSignalAsync).toBeUndefined();
    allocation.release();
  });

  const lies: [string, (o: SharedMemoryObject) => Partial<ShareReply>, RegExp][] = [
    ['another inode', (o) => ({ inode: o.inode + 1n }), /is not the object it described/],
    ['a length that is not the region', () => ({ length: BigInt(layout.totalBytes + 64) }), /length/],
    ['an offset that is not a page multiple', () => ({ offset: 64n }), /page multiple/],
    ['an offset past the end', () => ({ offset: BigInt(16 * page) }), /fewer than/],
    ['a sleeper count inside the region', () => ({ wake: BigInt(page + 64) }), /inside the region/],
    ['a misaligned sleeper count', () => ({ wake: 2n }), /multiple of 4/],
    ['a descriptor beyond any', () => ({ fd: 1n << 40n }), /out of range/],
    ['memory that is not the region (offset 0: the control page)', () => ({ offset: 0n, wake: BigInt(layout.totalBytes + 64) }), /header magic/],
  ];
  it.each(lies)('a reply with %s is EIO and maps nothing', (_what, lie, message) => {
    const before = mappedRegions();
    let thrown: unknown;
    try {
      importRegion(shm, process.pid, replyFor(object, lie(object)), layout, 0);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'EIO', message: expect.stringMatching(message) });
    expect(mappedRegions()).toBe(before);
  });

  it('an unsealed object, or a descriptor that cannot be opened, is "unavailable" (the region stays proxied)', () => {
    const unsealed = regionObject({ seal: false });
    try {
      expect(() => importRegion(shm, process.pid, replyFor(unsealed), layout, 0)).toThrow(DirectUnavailableError);
    } finally {
      unsealed.close();
    }
    expect(() => importRegion(shm, process.pid, replyFor(object, { fd: 0x7fff_0000n }), layout, 0)).toThrow(DirectUnavailableError);
  });
});

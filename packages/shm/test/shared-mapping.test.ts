import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { isRegionError } from '@simpler/abi';
import { SharedMemoryObject } from '../src';
import { fdsOf, mapsOf, uniqueName } from './fixtures/shm-process';

const PAGE = 4096;

describe('SharedMapping', () => {
  it('returns the same ArrayBuffer on every call and reports its length and offset', () => {
    const shm = SharedMemoryObject.create(2 * PAGE);
    const mapping = shm.map(PAGE, PAGE);
    expect(mapping.buffer).toBe(mapping.buffer);
    expect(mapping.buffer.byteLength).toBe(PAGE);
    expect(mapping.byteLength).toBe(PAGE);
    expect(mapping.offset).toBe(PAGE);
    expect(mapping.released).toBe(false);
    mapping.unmap();
    shm.close();
  });

  it('two mappings of one object are the same memory', () => {
    const shm = SharedMemoryObject.create(2 * PAGE);
    const whole = shm.map();
    const second = shm.map(PAGE, PAGE);
    new Uint8Array(whole.buffer)[PAGE + 3] = 99;
    expect(new Uint8Array(second.buffer)[3]).toBe(99);
    whole.unmap();
    second.unmap();
    shm.close();
  });

  it('unmap and close leave no mapping and no descriptor behind', () => {
    const name = uniqueName('cleanup');
    const shm = SharedMemoryObject.create(4 * PAGE, { debugName: name });
    const mappings = [shm.map(), shm.map(PAGE, 2 * PAGE)];
    expect(mapsOf(name)).toHaveLength(2);
    expect(fdsOf(name)).toHaveLength(1);
    for (const mapping of mappings) mapping.unmap();
    shm.close();
    expect(mapsOf(name)).toEqual([]);
    expect(fdsOf(name)).toEqual([]);
  });

  it('once released, its buffer throws EINVAL and unmap is idempotent', () => {
    const shm = SharedMemoryObject.create(PAGE);
    const mapping = shm.map();
    mapping.unmap();
    mapping.unmap();
    expect(mapping.released).toBe(true);
    let error: unknown;
    try {
      void mapping.buffer;
    } catch (e) {
      error = e;
    }
    expect(isRegionError(error) && error.code).toBe('EINVAL');
    expect((error as Error).message).toBe(`mapping of ${PAGE} bytes at offset 0 was unmapped`);
    shm.close();
  });

  it('an ArrayBuffer obtained before unmap stays safe: it reads zeros and its writes stay private', () => {
    const name = uniqueName('stale');
    const shm = SharedMemoryObject.create(PAGE, { debugName: name });
    const mapping = shm.map();
    const stale = new Uint8Array(mapping.buffer);
    stale.fill(7);
    mapping.unmap();
    expect(mapsOf(name)).toEqual([]);
    expect(stale.every((b) => b === 0)).toBe(true);
    stale.fill(5);
    expect(stale[PAGE - 1]).toBe(5);
    const fresh = shm.map();
    expect(new Uint8Array(fresh.buffer).every((b) => b === 7)).toBe(true);
    fresh.unmap();
    shm.close();
  });

  it('gives the address range back once the last view of a released mapping is collected', () => {
    const name = uniqueName('reclaim');
    const result = spawnSync(process.execPath, ['--expose-gc', join(__dirname, 'fixtures', 'reclaim-child.js'), name], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const stages = JSON.parse(result.stdout) as Record<string, string | number | null>;
    expect(stages.mapped).toMatch(/ rw-s .*\/memfd:.* \(deleted\)$/);
    // While a view is reachable the range stays reserved, now private and anonymous.
    expect(stages.unmappedViewAlive).toMatch(/ rw-p /);
    expect(stages.viewByte).toBe(0);
    // Gone: nothing covers the address any more, or something else that was mapped there since.
    expect(stages.viewCollected).not.toBe(stages.unmappedViewAlive);
  });
});

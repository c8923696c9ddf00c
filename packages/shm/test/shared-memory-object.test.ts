import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRegionError } from '@simpler/abi';
import { SharedMemoryObject, shmSupported, shmUnsupportedReason, systemPageSize } from '../src';
import { fdsOf, uniqueName } from './fixtures/shm-process';

/** The typed error `fn` throws, checked to be ours with `code`. */
function thrown(fn: () => unknown, code: string): Error {
  try {
    fn();
  } catch (error) {
    expect(isRegionError(error)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
    return error as Error;
  }
  throw new Error('expected a throw');
}

const page = shmSupported ? systemPageSize() : 4096;
const open: SharedMemoryObject[] = [];

function create(size: number, tag = 'obj'): SharedMemoryObject {
  const shm = SharedMemoryObject.create(size, { debugName: uniqueName(tag) });
  open.push(shm);
  return shm;
}

afterEach(() => {
  for (const shm of open.splice(0)) shm.close();
});

it('is supported on this Linux machine', () => {
  expect(shmUnsupportedReason).toBeUndefined();
  expect(shmSupported).toBe(true);
  expect(page % 4096).toBe(0);
});

it('where unsupported, says why and answers every call with ENOTSUP', () => {
  // A child that believes it runs on macOS loads the built package: the flag and reason come
  // from the same detection a real non-Linux host goes through.
  const script = `Object.defineProperty(process, 'platform', { value: 'darwin' });
    const shm = require(${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))});
    const codes = [() => shm.SharedMemoryObject.create(4096), () => shm.SharedMemoryObject.fromFd(0)].map((f) => { try { f(); return 'none'; } catch (e) { return e.code + ': ' + e.message; } });
    process.stdout.write(JSON.stringify({ supported: shm.shmSupported, reason: shm.shmUnsupportedReason, codes }));`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(JSON.parse(result.stdout)).toEqual({
    supported: false,
    reason: 'not Linux (platform darwin)',
    codes: [
      'ENOTSUP: SharedMemoryObject.create: shared memory is not supported here: not Linux (platform darwin)',
      'ENOTSUP: SharedMemoryObject.fromFd: shared memory is not supported here: not Linux (platform darwin)',
    ],
  });
});

describe('create', () => {
  it('makes a zero-filled object of the size asked, 0 included', () => {
    const shm = create(3 * page + 5);
    expect(shm.size).toBe(3 * page + 5);
    expect(new Uint8Array(shm.map().buffer).every((b) => b === 0)).toBe(true);
    expect(create(0).size).toBe(0);
  });

  it.each([-1, NaN, 2 ** 60, 2 ** 53, 1.5, Infinity, '4096', null, 10n])('refuses size %p with EINVAL naming it', (size) => {
    const error = thrown(() => SharedMemoryObject.create(size as number), 'EINVAL');
    expect(error.message).toContain('size must be');
  });

  it.each([
    ['empty', ''],
    ['250 bytes long', 'x'.repeat(250)],
    ['holding a NUL', 'a\0b'],
    ['a number', 42],
  ])('refuses a debugName %s with EINVAL', (_label, debugName) => {
    expect(thrown(() => SharedMemoryObject.create(4096, { debugName: debugName as string }), 'EINVAL').message).toContain('debugName must be');
  });

  it('accepts a debugName of 249 bytes and shows it in /proc/self/fd', () => {
    const name = uniqueName('long').padEnd(249, 'n');
    const shm = SharedMemoryObject.create(4096, { debugName: name });
    open.push(shm);
    expect(fdsOf(name)).toEqual([String(shm.fd)]);
  });

  it('creates sparse objects up to 2^53 - 1 bytes; mapping more than the address space is ENOMEM naming mmap', () => {
    const shm = create(2 ** 53 - 1);
    expect(shm.size).toBe(2 ** 53 - 1);
    shm.resize(2 ** 50);
    const error = thrown(() => shm.map(), 'ENOMEM');
    expect(error.message).toBe(`mmap failed with ENOMEM (fd ${shm.fd}, length ${2 ** 50}, offset 0)`);
  });
});

describe('fromFd', () => {
  it('adopts a descriptor of a memfd and of a regular file', () => {
    const shm = create(page);
    const adopted = SharedMemoryObject.fromFd(shm.fd);
    expect(adopted.size).toBe(page);
    const dir = mkdtempSync(join(tmpdir(), 'shm-test-'));
    try {
      writeFileSync(join(dir, 'f'), Buffer.alloc(page, 7));
      const file = SharedMemoryObject.fromFd(openSync(join(dir, 'f'), 'r+'));
      expect(new Uint8Array(file.map().buffer)[page - 1]).toBe(7);
      file.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([-1, 1.5, 2 ** 31, NaN, '3', undefined])('refuses fd %p with EINVAL', (fd) => {
    expect(thrown(() => SharedMemoryObject.fromFd(fd as number), 'EINVAL').message).toContain('fd must be');
  });

  it('refuses a closed descriptor with EINVAL naming fstat and EBADF', () => {
    const shm = SharedMemoryObject.create(page);
    const fd = shm.fd;
    shm.close();
    expect(thrown(() => SharedMemoryObject.fromFd(fd), 'EINVAL').message).toBe(`fstat failed with EBADF (fd ${fd})`);
  });

  it('refuses a descriptor that is not a file (a directory, a character device)', () => {
    const dirFd = openSync(tmpdir(), 'r');
    const nullFd = openSync('/dev/null', 'r+');
    try {
      expect(thrown(() => SharedMemoryObject.fromFd(dirFd), 'EINVAL').message).toContain(`fd ${dirFd} is not a shared memory object`);
      thrown(() => SharedMemoryObject.fromFd(nullFd), 'EINVAL');
    } finally {
      closeSync(dirFd);
      closeSync(nullFd);
    }
  });

  it('maps a read-only descriptor into EINVAL naming mmap and EACCES', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shm-test-'));
    try {
      writeFileSync(join(dir, 'f'), Buffer.alloc(page));
      const file = SharedMemoryObject.fromFd(openSync(join(dir, 'f'), 'r'));
      expect(thrown(() => file.map(), 'EINVAL').message).toMatch(/^mmap failed with EACCES \(fd \d+, length 4096, offset 0\)$/);
      file.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('resize', () => {
  it('grows and shrinks, keeping the bytes that stay', () => {
    const shm = create(page);
    const first = shm.map();
    new Uint8Array(first.buffer)[10] = 42;
    shm.resize(4 * page);
    expect(shm.size).toBe(4 * page);
    const grown = shm.map();
    expect(grown.byteLength).toBe(4 * page);
    expect(new Uint8Array(grown.buffer)[10]).toBe(42);
    new Uint8Array(grown.buffer)[4 * page - 1] = 1;
    grown.unmap();
    shm.resize(2 * page);
    expect(shm.size).toBe(2 * page);
    expect(new Uint8Array(first.buffer)[10]).toBe(42);
    shm.resize(4 * page);
    expect(new Uint8Array(shm.map(page, 3 * page).buffer)[page - 1]).toBe(0);
  });

  it('refuses to cut a live mapping of this process, and allows it once unmapped', () => {
    const shm = create(4 * page);
    const mapping = shm.map(page, 2 * page);
    expect(thrown(() => shm.resize(3 * page - 1), 'EINVAL').message).toContain(`ends at ${3 * page}`);
    shm.resize(3 * page);
    mapping.unmap();
    shm.resize(0);
    expect(shm.size).toBe(0);
  });

  it.each([-1, NaN, 2 ** 60, 0.5])('refuses size %p with EINVAL', (size) => {
    thrown(() => create(page).resize(size), 'EINVAL');
  });
});

describe('map arguments', () => {
  it('maps the rest of the object from an offset by default', () => {
    const shm = create(3 * page);
    const mapping = shm.map(undefined, page);
    expect(mapping.byteLength).toBe(2 * page);
    expect(mapping.offset).toBe(page);
  });

  it.each([
    [0, 0, 'length must be'],
    [-1, 0, 'length must be'],
    [1.5, 0, 'length must be'],
    [2 * page + 1, 0, 'does not fit'],
    [page, 2 * page, 'does not fit'],
    [undefined, 2 * page, 'does not fit'],
    [1, 100, 'multiple of the page size'],
    [1, -page, 'offset must be'],
    [1, NaN, 'offset must be'],
  ])('refuses length %p at offset %p with EINVAL', (length, offset, message) => {
    const shm = create(2 * page);
    expect(thrown(() => shm.map(length as number, offset), 'EINVAL').message).toContain(message);
  });

  it('refuses to map an empty object', () => {
    expect(thrown(() => create(0).map(), 'EINVAL').message).toContain('does not fit in an object of 0 bytes');
  });
});

describe('close', () => {
  it('is idempotent, keeps mappings valid, and makes the other methods throw EINVAL', () => {
    const name = uniqueName('close');
    const shm = SharedMemoryObject.create(page, { debugName: name });
    const mapping = shm.map();
    expect(fdsOf(name)).toHaveLength(1);
    shm.close();
    shm.close();
    expect(shm.closed).toBe(true);
    expect(fdsOf(name)).toEqual([]);
    new Uint8Array(mapping.buffer)[0] = 1;
    expect(new Uint8Array(mapping.buffer)[0]).toBe(1);
    for (const call of [() => shm.size, () => shm.map(), () => shm.resize(1)]) {
      expect(thrown(call, 'EINVAL').message).toContain(`(fd ${shm.fd}) is closed`);
    }
    mapping.unmap();
  });
});

import {
  BackendError,
  ERRNO,
  ERROR_CODES,
  InvalidArgumentError,
  OutOfMemoryError,
  RegionError,
  UnsupportedError,
  WaitTimeoutError,
  codeForErrno,
  isRegionError,
  regionErrorForCode,
  regionErrorForErrno,
} from '../src';

describe('errno table', () => {
  it('matches spec section 5', () => {
    expect(ERRNO).toEqual({ EINVAL: -22, EAGAIN: -11, ENOMEM: -12, EIO: -5, ENOTSUP: -95 });
    expect(ERROR_CODES).toEqual(['EINVAL', 'EAGAIN', 'ENOMEM', 'EIO', 'ENOTSUP']);
    expect(codeForErrno(-95)).toBe('ENOTSUP');
    expect(codeForErrno(-1)).toBeUndefined();
  });
});

describe('error classes', () => {
  it.each([
    [InvalidArgumentError, 'EINVAL', -22],
    [WaitTimeoutError, 'EAGAIN', -11],
    [OutOfMemoryError, 'ENOMEM', -12],
    [BackendError, 'EIO', -5],
    [UnsupportedError, 'ENOTSUP', -95],
  ] as const)('%p carries code %s and errno %d', (Cls, code, errno) => {
    const cause = new Error('root');
    const e = new Cls('what went wrong: 7', { cause });
    expect(e).toBeInstanceOf(RegionError);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ code, errno, name: Cls.name, message: 'what went wrong: 7', cause });
    expect(isRegionError(e)).toBe(true);
    expect(regionErrorForCode(code, 'm')).toBeInstanceOf(Cls);
    expect(regionErrorForErrno(errno, 'm')).toBeInstanceOf(Cls);
  });

  it('an unknown errno becomes EIO and says which number it was', () => {
    const e = regionErrorForErrno(-999, 'driver said no');
    expect(e).toBeInstanceOf(BackendError);
    expect(e.message).toBe('driver said no (unknown errno -999)');
  });
});

describe('isRegionError', () => {
  it('accepts an error from a duplicate install of the package (same global brand, other class)', () => {
    // A second copy of the package has its own classes but brands them with the same Symbol.for key.
    class OtherCopyError extends Error {
      readonly code = 'EAGAIN';
      readonly errno = -11;
    }
    Object.defineProperty(OtherCopyError.prototype, Symbol.for('@simpler/abi.RegionError'), { value: true });
    const e = new OtherCopyError('timed out');
    expect(e).not.toBeInstanceOf(RegionError);
    expect(isRegionError(e)).toBe(true);
  });

  it('rejects look-alikes: a plain object or a Node system error with a matching code and errno', () => {
    expect(isRegionError({ code: 'EINVAL', errno: -22, message: 'x' })).toBe(false);
    expect(isRegionError(Object.assign(new Error('EINVAL: invalid argument, read'), { code: 'EINVAL', errno: -22, syscall: 'read' }))).toBe(false);
    expect(isRegionError(Object.assign(new Error('EIO: i/o error'), { code: 'EIO', errno: -5 }))).toBe(false);
  });

  it.each([
    ['mismatched errno', { code: 'EINVAL', errno: -11 }],
    ['unknown code', { code: 'EPERM', errno: -1 }],
    ['inherited property as code', { code: 'toString', errno: -22 }],
    ['errno as string', { code: 'EINVAL', errno: '-22' }],
    ['missing errno', { code: 'EINVAL' }],
    ['a Node system error', Object.assign(new Error('x'), { code: 'ENOENT', errno: -2 })],
    ['null', null],
    ['a string', 'EINVAL'],
    ['undefined', undefined],
  ])('rejects %s', (_what, value) => {
    expect(isRegionError(value)).toBe(false);
  });
});

import { computeRegionLayout, isValidCopyRange, requireCopyRange, requireU32, requireU64 } from '../src';

const EINVAL = expect.objectContaining({ code: 'EINVAL', errno: -22, name: 'InvalidArgumentError' });
const TWO_53 = 2 ** 53;

describe('computeRegionLayout', () => {
  it('1 byte, 1 signal', () => {
    expect(computeRegionLayout(1, 1)).toEqual({ dataBytes: 1, signalCount: 1, signalOffset: 64, dataOffset: 128, totalBytes: 192 });
  });

  it('aligns the data area and the total to 64 bytes', () => {
    expect(computeRegionLayout(100, 3)).toEqual({ dataBytes: 100, signalCount: 3, signalOffset: 64, dataOffset: 256, totalBytes: 384 });
    expect(computeRegionLayout(64, 1).totalBytes).toBe(192);
    expect(computeRegionLayout(65, 1).totalBytes).toBe(256);
  });

  it('accepts bigint inputs', () => {
    expect(computeRegionLayout(4096n, 2n)).toEqual({ dataBytes: 4096, signalCount: 2, signalOffset: 64, dataOffset: 192, totalBytes: 4288 });
  });

  it('u32 max signals', () => {
    const l = computeRegionLayout(1, 0xffff_ffff);
    expect(l.dataOffset).toBe(2 ** 38); // 64 + (2^32 - 1) * 64
    expect(l.totalBytes).toBe(2 ** 38 + 64);
    expect(() => computeRegionLayout(1, 2 ** 32)).toThrow(EINVAL);
    expect(() => computeRegionLayout(1, 2n ** 32n)).toThrow(EINVAL);
  });

  it('2^53 boundary: total_bytes may reach 2^53 - 64 and not one byte more', () => {
    const maxData = TWO_53 - 64 - 128; // one signal: data starts at 128
    expect(computeRegionLayout(maxData, 1)).toEqual({ dataBytes: maxData, signalCount: 1, signalOffset: 64, dataOffset: 128, totalBytes: TWO_53 - 64 });
    expect(() => computeRegionLayout(maxData + 1, 1)).toThrow(EINVAL);
    expect(() => computeRegionLayout(Number.MAX_SAFE_INTEGER, 1)).toThrow(EINVAL);
    expect(() => computeRegionLayout(TWO_53, 1)).toThrow(EINVAL);
    expect(() => computeRegionLayout(2n ** 53n, 1)).toThrow(EINVAL);
    // Many signals leave less room for data.
    expect(() => computeRegionLayout(maxData, 2)).toThrow(EINVAL);
    expect(computeRegionLayout(maxData - 64, 2).totalBytes).toBe(TWO_53 - 64);
  });

  it('u64 overflow is EINVAL, with the value in the message', () => {
    expect(() => computeRegionLayout(2n ** 64n - 1n, 1)).toThrow(/18446744073709551615n exceeds 2\^53-1/);
    expect(() => computeRegionLayout(2n ** 64n, 1)).toThrow(EINVAL);
    expect(() => computeRegionLayout(2n ** 64n - 1n, 0xffff_ffff)).toThrow(EINVAL);
  });

  it.each([
    ['zero bytes', 0, 1, /data_bytes must be > 0/],
    ['zero signals', 1, 0, /signal_count must be > 0/],
    ['NaN', NaN, 1, /got NaN/],
    ['negative', -1, 1, /got -1/],
    ['negative bigint', -1n, 1, /got -1n/],
    ['fractional', 1.5, 1, /got 1\.5/],
    ['fractional signals', 1, 2.5, /got 2\.5/],
    ['a string', '64', 1, /got "64"/],
    ['Infinity', Infinity, 1, /got Infinity/],
    ['null', null, 1, /got null/],
    ['undefined signals', 1, undefined, /got undefined/],
    ['an object', {}, 1, /got an Object/],
  ])('%s is EINVAL', (_what, bytes, signals, message) => {
    let caught: unknown;
    try {
      computeRegionLayout(bytes, signals);
    } catch (e) {
      caught = e;
    }
    expect(caught).toEqual(EINVAL);
    expect((caught as Error).message).toMatch(message);
  });
});

describe('requireU64 / requireU32', () => {
  it('accepts numbers and bigints in range', () => {
    expect(requireU64(0, 'x')).toBe(0);
    expect(requireU64(Number.MAX_SAFE_INTEGER, 'x')).toBe(Number.MAX_SAFE_INTEGER);
    expect(requireU64(2n ** 53n - 1n, 'x')).toBe(Number.MAX_SAFE_INTEGER);
    expect(requireU32(0xffff_ffff, 'x')).toBe(0xffff_ffff);
    expect(requireU32(7n, 'x')).toBe(7);
  });

  it('rejects everything else with EINVAL naming the argument', () => {
    expect(() => requireU64(2 ** 53, 'offset')).toThrow(/offset must be an integer/);
    expect(() => requireU64(-0.5, 'offset')).toThrow(EINVAL);
    expect(() => requireU32(2 ** 32, 'value')).toThrow(/value must be an integer in 0..2\^32-1, got 4294967296/);
    expect(() => requireU32(-1n, 'value')).toThrow(EINVAL);
    expect(() => requireU32('1', 'value')).toThrow(EINVAL);
  });
});

describe('copy ranges (subtraction form)', () => {
  it('accepts ranges inside the data area, including zero-length at the end', () => {
    expect(isValidCopyRange(100, 0, 100)).toBe(true);
    expect(isValidCopyRange(100, 100, 0)).toBe(true);
    expect(isValidCopyRange(100, 40, 60)).toBe(true);
    expect(requireCopyRange(100, 100n, 0)).toEqual({ offset: 100, nbytes: 0 });
  });

  it('rejects ranges that start past the end or run past it', () => {
    expect(isValidCopyRange(100, 101, 0)).toBe(false);
    expect(isValidCopyRange(100, 1, 100)).toBe(false);
    expect(isValidCopyRange(100, 50, 51)).toBe(false);
    expect(() => requireCopyRange(100, 101, 0)).toThrow(/offset=101 nbytes=0 is outside the data area of 100 bytes/);
    expect(() => requireCopyRange(100, 0, 101)).toThrow(EINVAL);
  });

  it('never overflows: huge offset and nbytes whose sum is not exact are still judged correctly', () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(isValidCopyRange(max, max, 0)).toBe(true);
    expect(isValidCopyRange(max, max - 1, 1)).toBe(true);
    expect(isValidCopyRange(max, max - 1, max)).toBe(false); // offset + nbytes would be inexact
    expect(isValidCopyRange(max, 1, max)).toBe(false);
  });

  it('rejects bad offset and nbytes types with EINVAL', () => {
    expect(() => requireCopyRange(100, NaN, 1)).toThrow(EINVAL);
    expect(() => requireCopyRange(100, 0, -1)).toThrow(EINVAL);
    expect(() => requireCopyRange(100, 0, '4')).toThrow(/nbytes must be/);
    expect(() => requireCopyRange(100, 0.5, 1)).toThrow(/offset must be/);
  });
});

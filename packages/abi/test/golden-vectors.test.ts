// Golden byte vectors written by hand from the spec tables (never produced by the encoder).
import {
  ALL_LAYOUTS,
  decodeConfig,
  decodeInfo,
  decodeMailbox,
  decodeRegionHeader,
  decodeSidebandHeader,
  decodeSignalSlot,
  decodeStruct,
  encodeConfig,
  encodeInfo,
  encodeMailbox,
  encodeRegionHeader,
  encodeSidebandHeader,
  encodeSignalSlot,
  encodeStruct,
  INFO_LAYOUT,
  reservedAreZero,
} from '../src';

/** Bytes from a hex string with optional whitespace. */
function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}

/** A zeroed buffer of `size` with hand-written hex patches at given offsets. */
function patched(size: number, patches: Record<number, string>): Uint8Array {
  const out = new Uint8Array(size);
  for (const [at, text] of Object.entries(patches)) out.set(hex(text), Number(at));
  return out;
}

const CONFIG_HEX = '0807060504030201 44332211 00000000';
const INFO_HEX = `
  8877665544332211 8000000000100000 0010000000000000 efbeadde00000000
  4000000000100000 02000000 00000000 c010000000000000 00000000 00000000`;
const HEADER_HEX = `
  524d4448 01000000 00000000 03000000 4000000000000000 0001000000000000
  6400000000000000 8001000000000000 0000000000000000 0000000000000000`;
const SIGNAL_HEX = `feffffff 00000000 ${'00'.repeat(56)}`;
const SIDEBAND_HEX = `
  484d5244 0100 0300 89674523 01efcdab 1000000000000000 0000000001000000
  eaffffff 00000000 ${'00'.repeat(24)}`;
const MAILBOX_BYTES = patched(4096, {
  0: '04000000 a1ffffff 1100000000000000',
  16: 'efcdab8967452301 0100000000000000 0700000000000000 0000000000000000 ffffffffffffffff',
  64: '686d72642d31323334', // "hmrd-1234"
  3840: '626164', // "bad"
});

const INFO_VALUE = {
  host_data_ptr: 0x1122334455667788n,
  device_data_ptr: 0x1000_0000_0080n,
  data_bytes: 4096n,
  host_signal_ptr: 0xdeadbeefn,
  device_signal_ptr: 0x1000_0000_0040n,
  signal_count: 2,
  total_bytes: 0x10c0n,
  flags: 0,
};
const HEADER_VALUE = {
  magic: 0x48444d52, version: 1, flags: 0, signal_count: 3,
  signal_offset: 64n, data_offset: 256n, data_bytes: 100n, total_bytes: 384n,
};
const SIDEBAND_VALUE = { magic: 'HMRD', version: 1, op: 3, region: 0xabcdef0123456789n, offset: 16n, nbytes: 0x1_0000_0000n, status: -22 };
const MAILBOX_VALUE = {
  state: 4, error: -95, command: 17n, arg0: 0x0123456789abcdefn, arg1: 1n, arg2: 7n, arg3: 0n,
  result: 0xffff_ffff_ffff_ffffn, name: 'hmrd-1234', error_message: 'bad',
};

describe('golden vectors', () => {
  it('config (16 B)', () => {
    const bytes = encodeConfig({ data_bytes: 0x0102030405060708n, signal_count: 0x11223344, flags: 0 });
    expect(bytes).toEqual(hex(CONFIG_HEX));
    expect(decodeConfig(hex(CONFIG_HEX))).toEqual({ data_bytes: 0x0102030405060708n, signal_count: 0x11223344, flags: 0 });
  });

  it('info (64 B) with explicit reserved0/reserved1', () => {
    expect(encodeInfo(INFO_VALUE)).toEqual(hex(INFO_HEX));
    expect(decodeInfo(hex(INFO_HEX))).toEqual({ ...INFO_VALUE, reserved0: 0, reserved1: 0 });
  });

  it('info accepts safe numbers for u64 fields and writes the same bytes', () => {
    const asNumbers = { ...INFO_VALUE, host_data_ptr: 0n, device_data_ptr: 0x1000_0000_0080, data_bytes: 4096, total_bytes: 0x10c0 };
    const expected = hex(INFO_HEX);
    expected.fill(0, 0, 8);
    expect(encodeInfo(asNumbers)).toEqual(expected);
  });

  it('region header (64 B)', () => {
    expect(encodeRegionHeader(HEADER_VALUE)).toEqual(hex(HEADER_HEX));
    expect(decodeRegionHeader(hex(HEADER_HEX))).toEqual({ ...HEADER_VALUE, reserved: [0n, 0n] });
  });

  it('signal slot (64 B)', () => {
    expect(encodeSignalSlot({ value: 0xfffffffe })).toEqual(hex(SIGNAL_HEX));
    expect(decodeSignalSlot(hex(SIGNAL_HEX))).toEqual({ value: 0xfffffffe, reserved0: 0, reserved: Array(7).fill(0n) });
  });

  it('side-band header (64 B)', () => {
    expect(encodeSidebandHeader(SIDEBAND_VALUE)).toEqual(hex(SIDEBAND_HEX));
    const d = decodeSidebandHeader(hex(SIDEBAND_HEX));
    expect(Buffer.from(d.magic).toString('latin1')).toBe('HMRD');
    expect({ ...d, magic: undefined, reserved: undefined }).toEqual({ ...SIDEBAND_VALUE, magic: undefined, reserved0: 0, reserved: undefined });
    expect(d.reserved).toEqual(new Uint8Array(24));
  });

  it('mailbox block (4096 B)', () => {
    expect(encodeMailbox(MAILBOX_VALUE)).toEqual(MAILBOX_BYTES);
    const d = decodeMailbox(MAILBOX_BYTES);
    expect({ ...d, reserved_body: undefined }).toEqual({ ...MAILBOX_VALUE, reserved: 0n, reserved_body: undefined });
    expect(d.reserved_body).toEqual(new Uint8Array(3744));
  });

  it('encodes at an offset inside a larger buffer, leaving the rest alone', () => {
    const target = new Uint8Array(16 + 8).fill(0x55);
    encodeConfig({ data_bytes: 0x0102030405060708n, signal_count: 0x11223344, flags: 0 }, target, 4);
    expect(target.subarray(4, 20)).toEqual(hex(CONFIG_HEX));
    expect([...target.subarray(0, 4), ...target.subarray(20)]).toEqual(Array(8).fill(0x55));
    expect(decodeConfig(target, 4).signal_count).toBe(0x11223344);
  });
});

describe('padding and reserved fields', () => {
  it.each(ALL_LAYOUTS.map((l) => [l.name, l] as const))('%s: reserved bytes are zero even over garbage and even when the caller passes values', (_name, layout) => {
    const target = new Uint8Array(layout.size).fill(0xaa);
    const value: Record<string, unknown> = {};
    for (const f of layout.fields) {
      // Reserved fields given non-zero values must still come out as zero.
      if (f.type === 'bytes') value[f.name] = new Uint8Array(f.size).fill(0x11);
      else if (f.type === 'cstring') value[f.name] = 'x';
      else if (f.count) value[f.name] = Array(f.count).fill(f.type === 'u64' ? 9n : 9);
      else value[f.name] = f.type === 'u64' ? 9n : 9;
    }
    encodeStruct(layout, value, target);
    expect(reservedAreZero(layout, target)).toBe(true);
    for (const f of layout.fields.filter((x) => x.reserved)) {
      expect(target.subarray(f.offset, f.offset + f.size)).toEqual(new Uint8Array(f.size));
    }
    // Fields left out of the value are zero too, not left-over garbage.
    const partial = new Uint8Array(layout.size).fill(0xaa);
    encodeStruct(layout, {}, partial);
    expect(partial).toEqual(new Uint8Array(layout.size));
  });

  it('reservedAreZero spots a non-zero reserved byte', () => {
    const bytes = hex(INFO_HEX);
    bytes[46] = 1; // inside reserved0
    expect(reservedAreZero(INFO_LAYOUT, bytes)).toBe(false);
  });
});

describe('round trips', () => {
  it.each(ALL_LAYOUTS.map((l) => [l.name, l] as const))('%s: decode(encode(x)) == x and encode(decode(b)) == b', (_name, layout) => {
    const value: Record<string, unknown> = {};
    let seed = 1;
    for (const f of layout.fields) {
      if (f.reserved) continue;
      seed = (seed * 31 + 7) % 251;
      if (f.type === 'cstring') value[f.name] = `n${seed}`;
      else if (f.type === 'bytes') value[f.name] = Uint8Array.from({ length: f.size }, (_, i) => (seed + i) & 0xff);
      else if (f.type === 'u64') value[f.name] = BigInt(seed) << 40n;
      else if (f.type === 'i32') value[f.name] = -seed;
      else value[f.name] = seed;
    }
    const bytes = encodeStruct(layout, value);
    const decoded = decodeStruct(layout, bytes);
    for (const [k, v] of Object.entries(value)) expect(decoded[k]).toEqual(v);
    expect(encodeStruct(layout, decoded)).toEqual(bytes);
  });
});

describe('codec input errors are EINVAL', () => {
  it.each([
    ['a u32 above range', { data_bytes: 1, signal_count: 2 ** 32, flags: 0 }],
    ['a negative u32', { data_bytes: 1, signal_count: -1, flags: 0 }],
    ['a fractional u32', { data_bytes: 1, signal_count: 1.5, flags: 0 }],
    ['a u64 above 2^64-1', { data_bytes: 2n ** 64n, signal_count: 1, flags: 0 }],
    ['an unsafe number for a u64', { data_bytes: 2 ** 53, signal_count: 1, flags: 0 }],
    ['a string for a u64', { data_bytes: '1', signal_count: 1, flags: 0 }],
  ])('%s', (_what, value) => {
    expect(() => encodeConfig(value as never)).toThrow(expect.objectContaining({ code: 'EINVAL', errno: -22 }));
  });

  it.each([[null], [undefined], [42], ['text']])('rejects a value that is not an object (%p)', (value) => {
    expect(() => encodeConfig(value as never)).toThrow(expect.objectContaining({ code: 'EINVAL', errno: -22 }));
    expect(() => encodeMailbox(value as never)).toThrow(expect.objectContaining({ code: 'EINVAL', errno: -22 }));
  });

  it('rejects a target that is too small or not bytes', () => {
    expect(() => encodeConfig({ data_bytes: 1, signal_count: 1, flags: 0 }, new Uint8Array(15))).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => decodeInfo(new Uint8Array(64), 1)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => decodeInfo('x' as never)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('truncates strings at the field size without splitting UTF-8', () => {
    const name = 'k'.repeat(40);
    expect(decodeMailbox(encodeMailbox({ ...MAILBOX_VALUE, name })).name).toBe('k'.repeat(31));
    const msg = 'a'.repeat(254) + 'é'; // 'é' is 2 bytes and would need bytes 254..255
    expect(decodeMailbox(encodeMailbox({ ...MAILBOX_VALUE, error_message: msg })).error_message).toBe('a'.repeat(254));
  });
});

// Issue 7: other toolchains consume @simpler/abi from its published tarball. A C and a C++
// program compiled against the packed header and a Python program reading the packed abi.json
// must produce the same bytes as the TypeScript encoders, and those bytes are the golden ones.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type * as Abi from '@simpler/abi';
import { makeTempDir, packPackage, removeTempDir, run, runOk } from './fixtures/release-workspace';

const TOOLCHAINS = path.join(__dirname, 'fixtures', 'toolchains');

interface KnownStruct {
  values: Record<string, number | string>;
  golden?: string;
  size?: number;
  patches?: Record<string, string>;
}
const KNOWN = (JSON.parse(readFileSync(path.join(TOOLCHAINS, 'known-values.json'), 'utf8')) as { structs: Record<string, KnownStruct> }).structs;
const STRUCT_NAMES = Object.keys(KNOWN);

let work: string;
let pkg: string;
let abi: typeof Abi;

function clean(hex: string): string {
  return hex.replace(/\s+/g, '').toLowerCase();
}

function goldenHex(entry: KnownStruct): string {
  if (entry.golden !== undefined) return clean(entry.golden);
  const bytes = Buffer.alloc(entry.size ?? 0);
  for (const [at, hex] of Object.entries(entry.patches ?? {})) Buffer.from(clean(hex), 'hex').copy(bytes, Number(at));
  return bytes.toString('hex');
}

/** `<name> <hex>` lines as a map. */
function parseLines(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.trim().split('\n')) {
    const [name, hex] = line.trim().split(/\s+/);
    out[name] = hex;
  }
  return out;
}

/** The TypeScript encoders of the packed package, fed the same known values. */
function typescriptEncodings(): Record<string, string> {
  const encoders: Record<string, (value: never) => Uint8Array> = {
    HostDeviceMappedRegionConfig: abi.encodeConfig,
    HostDeviceMappedRegionInfo: abi.encodeInfo,
    RegionHeader: abi.encodeRegionHeader,
    SignalSlot: abi.encodeSignalSlot,
    SidebandHeader: abi.encodeSidebandHeader,
    MailboxBlock: abi.encodeMailbox,
  };
  const out: Record<string, string> = {};
  for (const name of STRUCT_NAMES) {
    const layout = abi.ALL_LAYOUTS.find((l) => l.name === name);
    if (layout === undefined) throw new Error(`@simpler/abi has no layout named ${name}`);
    const record: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(KNOWN[name].values)) {
      const type = abi.fieldOf(layout, field).type;
      record[field] = type === 'u64' ? BigInt(value) : value;
    }
    out[name] = Buffer.from(encoders[name](record as never)).toString('hex');
  }
  return out;
}

beforeAll(() => {
  work = makeTempDir('abi-toolchains');
  const { tarball } = packPackage('abi', work);
  runOk('tar', ['-xzf', tarball, '-C', work], { cwd: work });
  pkg = path.join(work, 'package');
  // The shipped JavaScript, not the workspace build: require the extracted package by path.
  abi = require(pkg) as typeof Abi;
}, 120_000);

afterAll(() => removeTempDir(work));

describe('@simpler/abi from its tarball, in other toolchains', () => {
  it('covers every struct the package describes', () => {
    const described = (JSON.parse(readFileSync(path.join(pkg, 'abi.json'), 'utf8')) as { structs: { name: string }[] }).structs.map((s) => s.name);
    expect([...STRUCT_NAMES].sort()).toEqual([...described].sort());
    expect(abi.ALL_LAYOUTS.map((l) => l.name).sort()).toEqual([...described].sort());
  });

  it('the TypeScript encoders of the packed package produce the golden bytes', () => {
    const ts = typescriptEncodings();
    for (const name of STRUCT_NAMES) expect({ name, hex: ts[name] }).toEqual({ name, hex: goldenHex(KNOWN[name]) });
  });

  it.each([
    ['C', 'cc', ['-std=c11', '-Wall', '-Wextra', '-Werror', '-pedantic'], 'encode-structs.c'],
    ['C++', 'c++', ['-std=c++17', '-Wall', '-Wextra', '-Werror', '-pedantic'], 'encode-structs.cpp'],
  ])('a %s program built against the packed include/simpler/hdmr_abi.h agrees byte for byte', (_lang, compiler, flags, source) => {
    const exe = path.join(work, `${source}.out`);
    runOk(compiler, [...flags, '-I', path.join(pkg, 'include'), '-o', exe, path.join(TOOLCHAINS, source)], { cwd: work });
    const native = parseLines(runOk(exe, [], { cwd: work }).stdout);
    const ts = typescriptEncodings();
    expect(Object.keys(native).sort()).toEqual([...STRUCT_NAMES].sort());
    for (const name of STRUCT_NAMES) {
      expect({ name, hex: native[name] }).toEqual({ name, hex: ts[name] });
      expect({ name, hex: native[name] }).toEqual({ name, hex: goldenHex(KNOWN[name]) });
    }
  });

  it('a Python program reading the packed abi.json agrees byte for byte', () => {
    const r = run('python3', [path.join(TOOLCHAINS, 'encode_structs.py'), path.join(pkg, 'abi.json'), path.join(TOOLCHAINS, 'known-values.json')], { cwd: work });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const python = parseLines(r.stdout);
    const ts = typescriptEncodings();
    expect(Object.keys(python).sort()).toEqual([...STRUCT_NAMES].sort());
    for (const name of STRUCT_NAMES) {
      expect({ name, hex: python[name] }).toEqual({ name, hex: ts[name] });
      expect({ name, hex: python[name] }).toEqual({ name, hex: goldenHex(KNOWN[name]) });
    }
  });
});

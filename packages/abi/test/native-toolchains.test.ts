// The generated header and abi.json, checked by real toolchains: cc, c++ and python3 ctypes.
import * as path from 'node:path';
import { ABI_CONSTANTS, ALL_LAYOUTS, ENTRY_POINTS, ERRNO, ERROR_CODES, encodeStruct, renderCHeader } from '../src';
import { CXX_FLAGS, C_FLAGS, INCLUDE, run, useScratchDir } from './support/toolchain';

const PKG = path.resolve(__dirname, '..');
const scratch = useScratchDir('simpler-abi-');
const write = scratch.write;

/** A translation unit that checks the header's constants and prototypes against the TypeScript values. */
function constantsUnit(cxx: boolean): string {
  const sa = cxx ? 'static_assert' : '_Static_assert';
  const lines = ['#include "simpler/hdmr_abi.h"'];
  for (const c of ABI_CONSTANTS) {
    if (typeof c.value === 'string') lines.push(`${sa}(sizeof(${c.cName}) == ${c.value.length + 1}, "${c.cName}");`);
    else lines.push(`${sa}(${c.cName} == ${c.value}u, "${c.cName}");`);
  }
  for (const code of ERROR_CODES) lines.push(`${sa}(HDMR_${code} == ${ERRNO[code]}, "HDMR_${code}");`);
  lines.push(`${sa}(DEV_SVM_MAP_HOST == 2, "DEV_SVM_MAP_HOST");`);
  for (const ep of ENTRY_POINTS) {
    // Assigning to a pointer of the exact type fails to compile if the prototype differs.
    lines.push(`int (*const check_${ep.name})(${ep.params.map((p) => p.cType).join(', ')}) = ${ep.name};`);
  }
  return `${lines.join('\n')}\n`;
}

describe('the generated header compiles', () => {
  it('as C11 with -Wall -Wextra -Werror -Wpadded', () => {
    const src = write('header-only.c', '#include "simpler/hdmr_abi.h"\n#include "simpler/hdmr_abi.h"\nint main(void) { return 0; }\n');
    run('cc', [...C_FLAGS, '-I', INCLUDE, src, '-o', scratch.path('header-only-c')]);
  });

  it('as C++17 with -Wall -Wextra -Wpadded -Werror', () => {
    const src = write('header-only.cpp', '#include "simpler/hdmr_abi.h"\nint main() { return 0; }\n');
    run('c++', [...CXX_FLAGS, '-I', INCLUDE, src, '-o', scratch.path('header-only-cxx')]);
  });

  it.each([['C', 'cc', C_FLAGS, 'c'], ['C++', 'c++', CXX_FLAGS, 'cpp']] as const)(
    'its constants and entry-point prototypes match the TypeScript values (%s)',
    (_lang, compiler, flags, ext) => {
      const src = write(`constants.${ext}`, constantsUnit(ext === 'cpp'));
      run(compiler, [...flags, '-Wno-unused-variable', '-I', INCLUDE, '-c', src, '-o', scratch.path(`constants-${ext}.o`)]);
    },
  );

  it('its static assertions really fire when an offset is wrong', () => {
    const broken = renderCHeader().replace('offsetof(HostDeviceMappedRegionInfo, reserved1) == 60', 'offsetof(HostDeviceMappedRegionInfo, reserved1) == 56');
    write('broken/simpler/hdmr_abi.h', broken);
    const src = write('broken.c', '#include "simpler/hdmr_abi.h"\n');
    expect(() => run('cc', [...C_FLAGS, '-I', scratch.path('broken'), '-c', src, '-o', scratch.path('broken.o')])).toThrow(/reserved1/);
  });
});

describe('offsetof/sizeof printed by a C program', () => {
  it('equal the TypeScript layout data, field by field', () => {
    const exe = scratch.path('print-layout');
    run('cc', [...C_FLAGS, '-I', INCLUDE, path.join(__dirname, 'c', 'print-layout.c'), '-o', exe]);
    const printed = JSON.parse(run(exe, []));
    const expected = Object.fromEntries(
      ALL_LAYOUTS.map((l) => [l.cName, { size: l.size, align: l.align, fields: Object.fromEntries(l.fields.map((f) => [f.name, [f.offset, f.size]])) }]),
    );
    expect(printed).toEqual(expected);
  });
});

describe('python3 ctypes built from abi.json', () => {
  it('lays out every struct as the TypeScript data says and decodes encoder output', () => {
    const samples: Record<string, string> = {};
    const expectedDecoded: Record<string, Record<string, string>> = {};
    for (const l of ALL_LAYOUTS) {
      const value: Record<string, unknown> = {};
      const shown: Record<string, string> = {};
      l.fields.forEach((f, i) => {
        if (f.reserved || (f.count !== undefined)) return;
        if (f.type === 'cstring') value[f.name] = shown[f.name] = `${f.name}-${i}`;
        else if (f.type === 'bytes') value[f.name] = Uint8Array.of(1, 2, 3, 4);
        else {
          const v = f.type === 'u64' ? (1n << 60n) + BigInt(i) : f.type === 'i32' ? -100 - i : 1000 + i;
          value[f.name] = v;
          shown[f.name] = String(v);
        }
      });
      samples[l.name] = Buffer.from(encodeStruct(l, value)).toString('hex');
      expectedDecoded[l.name] = shown;
    }
    const samplesFile = write('samples.json', JSON.stringify(samples));
    const out = JSON.parse(run('python3', [path.join(__dirname, 'python', 'check_abi.py'), path.join(PKG, 'abi.json'), samplesFile]));
    expect(out.errors).toEqual([]);
    const expectedStructs = Object.fromEntries(
      ALL_LAYOUTS.map((l) => [l.name, { size: l.size, fields: Object.fromEntries(l.fields.map((f) => [f.name, [f.offset, f.size]])) }]),
    );
    expect(out.structs).toEqual(expectedStructs);
    expect(out.decoded).toEqual(expectedDecoded);
  });
});

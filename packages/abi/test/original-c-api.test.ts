// The generated header and abi.json speak the original design's C API exactly: the handle
// typedefs, the seven entry points' names and parameter types, checked as text and by compilers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { abiDescription, renderCHeader } from '../src';
import { CXX_FLAGS, C_FLAGS, INCLUDE, run, useScratchDir } from './support/toolchain';

const C_DIR = path.join(__dirname, 'c');
const scratch = useScratchDir('simpler-abi-original-');

/** The original entry points as `[name, "type name, type name, ..."]`, read from the X-macro list in test/c/original-api.h. */
const ORIGINAL: Array<[string, string]> = [...fs.readFileSync(path.join(C_DIR, 'original-api.h'), 'utf8').matchAll(/^ {2}X\((\w+), \((.*)\)\)/gm)].map((m) => [m[1], m[2]]);

/** What the check program prints when the seven calls reach the toy implementation intact. */
const EXPECTED_RUN = [
  'open 0',
  'token-nonzero-below-2^53 0',
  'token-round-trip 0',
  'info 0',
  'info data_bytes=100 signal_count=2 total_bytes=320 host_data_ptr=0 reserved0=0 reserved1=0',
  'h2region 0',
  'region2h 0',
  'read hello',
  'h2region-past-end -22',
  'notify 0',
  'wait-reached 0',
  'wait-probe-miss -11',
  'close-forged -22',
  'close 0',
  'close-again -22',
].join('\n');

function paramList(params: ReadonlyArray<{ name: string; cType: string }>): string {
  return params.map((p) => (p.cType.endsWith('*') ? `${p.cType}${p.name}` : `${p.cType} ${p.name}`)).join(', ');
}

describe('the original C API as text', () => {
  const header = renderCHeader();

  it('the fixture lists the seven entry points', () => {
    expect(ORIGINAL.map(([name]) => name)).toEqual([
      'open_host_device_mapped_region_ctx',
      'close_host_device_mapped_region_ctx',
      'host_device_mapped_region_info_ctx',
      'host_device_mapped_region_datacopy_h2region_ctx',
      'host_device_mapped_region_datacopy_region2h_ctx',
      'host_device_mapped_region_notify_ctx',
      'host_device_mapped_region_wait_ctx',
    ]);
  });

  it('the header declares both handle typedefs, a 64-bit host assertion and exactly these prototypes', () => {
    expect(header).toContain('\ntypedef void *DeviceContextHandle;\n');
    expect(header).toContain('\ntypedef void *HostDeviceMappedRegionHandle;\n');
    expect(header).toMatch(/\nHDMR_STATIC_ASSERT\(sizeof\(void \*\) == 8, /);
    const declared = [...header.matchAll(/^int (\w+_ctx)\((.*)\);$/gm)].map((m) => [m[1], m[2]]);
    expect(declared).toEqual(ORIGINAL);
  });

  it('abi.json describes the same typedefs and entry points', () => {
    const abi = abiDescription() as {
      handleTypes: Array<{ name: string; cType: string }>;
      entryPoints: Array<{ name: string; returns: string; params: Array<{ name: string; cType: string }> }>;
    };
    expect(abi.handleTypes.map((t) => [t.name, t.cType])).toEqual([['DeviceContextHandle', 'void *'], ['HostDeviceMappedRegionHandle', 'void *']]);
    expect(abi.entryPoints.map((ep) => [ep.name, paramList(ep.params)])).toEqual(ORIGINAL);
    for (const ep of abi.entryPoints) expect(ep.returns).toBe('int');
  });
});

describe('the original C API through the compilers', () => {
  const check = path.join(C_DIR, 'original-api-check.c');
  const impl = path.join(C_DIR, 'original-api-impl.c');

  /** Builds the check program against the toy implementation with the given include path and runs it. */
  function buildAndRun(lang: 'C' | 'C++' | 'C++ caller, C callee', include: string): string {
    const exe = scratch.path(`original-api-${lang.replace(/\W+/g, '-')}`);
    const cFlags = [...C_FLAGS, '-I', include, '-I', C_DIR];
    const cxxFlags = [...CXX_FLAGS, '-I', include, '-I', C_DIR, '-x', 'c++'];
    if (lang === 'C') {
      run('cc', [...cFlags, check, impl, '-o', exe]);
    } else if (lang === 'C++') {
      run('c++', [...cxxFlags, check, impl, '-o', exe]);
    } else {
      const implObj = scratch.path('original-api-impl.o');
      run('cc', [...cFlags, '-c', impl, '-o', implObj]);
      run('c++', [...cxxFlags, check, '-x', 'none', implObj, '-o', exe]);
    }
    return run(exe, []).trimEnd();
  }

  it.each(['C', 'C++', 'C++ caller, C callee'] as const)(
    'each entry point fits a pointer of its original type, and definitions with the original signatures link and run (%s)',
    (lang) => {
      expect(buildAndRun(lang, INCLUDE)).toBe(EXPECTED_RUN);
    },
  );

  it.each([
    ['the info call under its old name', (h: string) => h.replace('int host_device_mapped_region_info_ctx(', 'int get_host_device_mapped_region_info_ctx('), /host_device_mapped_region_info_ctx/],
    ['a region handle typed uint64_t', (h: string) => h.replace('typedef void *HostDeviceMappedRegionHandle;', 'typedef uint64_t HostDeviceMappedRegionHandle;'), /HostDeviceMappedRegionHandle/],
    ['a context typed const void *', (h: string) => h.replace('typedef void *DeviceContextHandle;', 'typedef const void *DeviceContextHandle;'), /DeviceContextHandle/],
    ['a wait without its timeout', (h: string) => h.replace(', uint32_t target, uint32_t timeout_us);', ', uint32_t target);'), /host_device_mapped_region_wait_ctx/],
  ])('a header with %s does not compile against them', (_what, mutate, message) => {
    const header = renderCHeader();
    const broken = mutate(header);
    expect(broken).not.toBe(header);
    scratch.write('drifted/simpler/hdmr_abi.h', broken);
    expect(() => run('cc', [...C_FLAGS, '-I', scratch.path('drifted'), '-I', C_DIR, '-c', check, '-o', scratch.path('drifted.o')])).toThrow(message);
  });
});

// Only where the compiler can target i386 (gcc -m32 with its freestanding headers); skipped otherwise.
const canTarget32 = (() => {
  try {
    run('cc', ['-m32', '-ffreestanding', '-x', 'c', '-fsyntax-only', '/dev/null']);
    return true;
  } catch {
    return false;
  }
})();

(canTarget32 ? it : it.skip)('the header refuses a 32-bit host, where a pointer cannot carry a u64 token', () => {
  const src = scratch.write('host32.c', '#include "simpler/hdmr_abi.h"\n');
  expect(() => run('cc', ['-m32', '-ffreestanding', ...C_FLAGS, '-I', INCLUDE, '-fsyntax-only', src])).toThrow(/64-bit hosts only/);
});

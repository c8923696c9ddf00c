import * as fs from 'node:fs';
import * as path from 'node:path';
import { ALL_LAYOUTS, StructLayout, abiDescription, assertLayoutCovered, renderAbiJson, renderCHeader } from '../src';

const PKG = path.resolve(__dirname, '..');
const HEADER = path.join(PKG, 'include', 'simpler', 'hdmr_abi.h');
const JSON_FILE = path.join(PKG, 'abi.json');
const STALE = 'is stale: run `npm run gen` at the workspace root and commit the result';

describe('generated files', () => {
  it('include/simpler/hdmr_abi.h matches renderCHeader()', () => {
    const committed = fs.existsSync(HEADER) ? fs.readFileSync(HEADER, 'utf8') : '';
    if (committed !== renderCHeader()) throw new Error(`packages/abi/include/simpler/hdmr_abi.h ${STALE}`);
  });

  it('abi.json matches renderAbiJson()', () => {
    const committed = fs.existsSync(JSON_FILE) ? fs.readFileSync(JSON_FILE, 'utf8') : '';
    if (committed !== renderAbiJson()) throw new Error(`packages/abi/abi.json ${STALE}`);
  });

  it('package.json publishes and exports both files', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(PKG, 'package.json'), 'utf8'));
    expect(pkg.files).toEqual(expect.arrayContaining(['include', 'abi.json']));
    expect(pkg.exports['./include/simpler/hdmr_abi.h']).toBe('./include/simpler/hdmr_abi.h');
    expect(pkg.exports['./abi.json']).toBe('./abi.json');
  });
});

describe('C header content', () => {
  const h = renderCHeader();

  it('has an include guard, the standard includes and extern "C" guards', () => {
    expect(h).toMatch(/#ifndef SIMPLER_HDMR_ABI_H\n#define SIMPLER_HDMR_ABI_H\n/);
    expect(h).toContain('#include <stdint.h>');
    expect(h).toContain('#include <stddef.h>');
    expect(h).toMatch(/#ifdef __cplusplus\n[^]*extern "C" \{/);
    expect(h.trimEnd().endsWith('#endif /* SIMPLER_HDMR_ABI_H */')).toBe(true);
  });

  it('declares every field with its C type and a static assertion on every offset and size', () => {
    for (const l of ALL_LAYOUTS) {
      expect(h).toContain(`typedef struct ${l.cName} {`);
      expect(h).toContain(`HDMR_STATIC_ASSERT(sizeof(${l.cName}) == ${l.size},`);
      for (const f of l.fields) {
        expect(h).toContain(`HDMR_STATIC_ASSERT(offsetof(${l.cName}, ${f.name}) == ${f.offset},`);
        expect(h).toContain(`HDMR_STATIC_ASSERT(HDMR_FIELD_SIZE(${l.cName}, ${f.name}) == ${f.size},`);
      }
    }
    expect(h).toContain('uint32_t reserved0; /**< offset 44');
    expect(h).toContain('uint64_t reserved[2];');
    expect(h).toContain('char name[32];');
    expect(h).toContain('uint8_t magic[4];');
  });

  it('declares the seven entry points returning int', () => {
    expect(h).toContain('int open_host_device_mapped_region_ctx(DeviceContextHandle ctx, const HostDeviceMappedRegionConfig *cfg, HostDeviceMappedRegionHandle *out_region);');
    expect(h).toContain('int host_device_mapped_region_wait_ctx(DeviceContextHandle ctx, HostDeviceMappedRegionHandle region, uint32_t signal_id, uint32_t target, uint32_t timeout_us);');
    expect(h.match(/^int \w+_ctx\(/gm)).toHaveLength(7);
  });

  it('defines the errno values and DEV_SVM_MAP_HOST', () => {
    expect(h).toMatch(/#define HDMR_EINVAL \(-22\)/);
    expect(h).toMatch(/#define HDMR_ENOTSUP \(-95\)/);
    expect(h).toMatch(/#define DEV_SVM_MAP_HOST /);
    expect(h).toMatch(/#define HDMR_REGION_MAGIC 0x48444D52u/);
  });
});

describe('abi.json content', () => {
  it('describes every struct field by field', () => {
    const json = JSON.parse(renderAbiJson());
    expect(json.version).toBe(1);
    expect(json.endianness).toBe('little');
    expect(json.structs.map((s: { name: string }) => s.name)).toEqual(ALL_LAYOUTS.map((l) => l.name));
    const info = json.structs[1];
    expect(info).toMatchObject({ cName: 'HostDeviceMappedRegionInfo', size: 64, align: 8 });
    expect(info.fields[6]).toEqual({ name: 'reserved0', offset: 44, size: 4, type: 'u32', count: 1, array: false, reserved: true, cType: 'uint32_t', doc: expect.any(String) });
    expect(json.errno).toContainEqual({ code: 'EIO', errno: -5, cName: 'HDMR_EIO', errorClass: 'BackendError', doc: expect.any(String) });
    expect(json.mailboxCommands).toContainEqual({ name: 'WAIT', cName: 'HDMR_MAILBOX_CMD_WAIT', value: 18 });
    expect(json.sidebandOps).toHaveLength(3);
    expect(json.entryPoints).toHaveLength(7);
    expect(json.handleTypes).toHaveLength(2);
    expect(json.pointerBytes).toBe(8);
    expect(json).toEqual(abiDescription());
  });
});

describe('assertLayoutCovered', () => {
  const base: StructLayout = { name: 'T', cName: 'T', size: 8, align: 4, fields: [{ name: 'a', offset: 0, size: 4, type: 'u32', doc: '' }, { name: 'b', offset: 4, size: 4, type: 'u32', doc: '' }] };

  it('accepts every published layout and a tight struct', () => {
    for (const l of ALL_LAYOUTS) expect(() => assertLayoutCovered(l)).not.toThrow();
    expect(() => assertLayoutCovered(base)).not.toThrow();
  });

  it.each([
    ['a gap (implicit padding)', { ...base, fields: [base.fields[0], { ...base.fields[1], offset: 8 }], size: 12 }, /starts at 8, expected 4/],
    ['an uncovered tail', { ...base, size: 16 }, /cover 8 bytes, struct is 16/],
    ['a misaligned scalar', { ...base, size: 8, fields: [{ name: 'a', offset: 0, size: 2, type: 'u16', doc: '' }, { name: 'b', offset: 2, size: 4, type: 'u32', doc: '' }, { name: 'c', offset: 6, size: 2, type: 'u16', doc: '' }] }, /b is not 4-byte aligned/],
    ['a wrong array size', { ...base, fields: [{ name: 'a', offset: 0, size: 8, type: 'u32', count: 3, doc: '' }] }, /size 8 != 3 x 4/],
  ] as const)('rejects %s', (_what, layout, message) => {
    expect(() => assertLayoutCovered(layout as StructLayout)).toThrow(message);
  });
});

describe('docs/abi.md', () => {
  it('has a row for every field of every layout, with its offset and size', () => {
    const doc = fs.readFileSync(path.resolve(PKG, '..', '..', 'docs', 'abi.md'), 'utf8');
    for (const l of ALL_LAYOUTS) {
      expect(doc).toContain(`\`${l.cName}\` — ${l.size} bytes`);
      for (const f of l.fields) expect(doc).toContain(`| ${f.offset} | ${f.size} | \`${f.name}\` |`);
    }
  });
});

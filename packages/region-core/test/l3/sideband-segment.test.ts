import * as fs from 'node:fs';
import { SidebandOp } from '@simpler/abi';
import { ChildSegment, ParentSegment, SEGMENT_NAME_MAX, checkSegmentName, checkSegmentPrefix, defaultSegmentPrefix, unlinkAllSegments } from '../../src/l3/sideband-segment';

const prefix = defaultSegmentPrefix(process.pid);

describe('segment names', () => {
  it('are the prefix plus random hex, exactly 31 characters, and differ every time', () => {
    const a = ParentSegment.create();
    const b = ParentSegment.create();
    try {
      expect(a.name).toHaveLength(SEGMENT_NAME_MAX);
      expect(a.name.startsWith(prefix)).toBe(true);
      expect(a.name.slice(prefix.length)).toMatch(/^[0-9a-f]{8,}$/);
      expect(a.name).not.toBe(b.name);
      expect(() => checkSegmentName(a.name, prefix)).not.toThrow();
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it.each([
    ['a slash', `${prefix}ab/cdef0123`],
    ['dot-dot', `${prefix}..abcdef01`],
    ['another prefix', 'simpler-hdmr-1-abcdef0123'],
    ['too long', `${prefix}${'a'.repeat(40)}`],
    ['too short a random part', `${prefix}abc`],
    ['a NUL', `${prefix}abcdef01\0`],
  ])('refuses %s with EINVAL', (_label, name) => {
    expect(() => checkSegmentName(name, prefix)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it.each(['', 'a/b', '..', 'x'.repeat(30), 'a.b'])('refuses the prefix %j', (p) => {
    expect(() => checkSegmentPrefix(p)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('ParentSegment', () => {
  it('is a 0600 regular file, created exclusively, grown on demand, shrunk, and unlinked on dispose', async () => {
    const seg = ParentSegment.create();
    const st = fs.statSync(seg.filePath);
    expect(st.isFile()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.size).toBe(64);
    expect(() => fs.openSync(seg.filePath, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_RDWR, 0o600)).toThrow(/EEXIST/);
    seg.prepare(SidebandOp.H2REGION, 7, 0, 1000, true);
    expect(fs.statSync(seg.filePath).size).toBe(1064);
    seg.prepare(SidebandOp.H2REGION, 7, 0, 10, true);
    expect(fs.statSync(seg.filePath).size).toBe(1064); // reused, not shrunk per request
    await seg.writePayload(Buffer.from('abc'));
    expect((await seg.readPayload(3)).toString()).toBe('abc');
    seg.shrink();
    expect(fs.statSync(seg.filePath).size).toBe(64);
    seg.prepare(SidebandOp.H2REGION, 7, 0, 1 << 30, false);
    expect(fs.statSync(seg.filePath).size).toBe(64); // no growth for a request the child will refuse
    seg.dispose();
    expect(fs.existsSync(seg.filePath)).toBe(false);
    seg.dispose();
  });

  it('unlinkAllSegments removes every live segment (the exit hook)', () => {
    const a = ParentSegment.create();
    unlinkAllSegments();
    expect(fs.existsSync(a.filePath)).toBe(false);
  });
});

describe('ChildSegment', () => {
  it('reads a header the parent wrote and reports status back', () => {
    const seg = ParentSegment.create();
    try {
      seg.prepare(SidebandOp.REGION2H, 42, 8, 16, true);
      const child = ChildSegment.open(seg.name, prefix);
      expect(child.readRequest(SidebandOp.REGION2H)).toEqual({ op: SidebandOp.REGION2H, region: 42, offset: 8, nbytes: 16 });
      expect(() => child.readRequest(SidebandOp.H2REGION)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      expect(() => child.requirePayload(17)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      child.writeStatus(-22);
      expect(seg.readStatus()).toBe(-22);
      child.close();
    } finally {
      seg.dispose();
    }
  });
});

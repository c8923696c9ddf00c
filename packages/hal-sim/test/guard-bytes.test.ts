import { SimBackend, createBackend } from '../src';
import { DATA, MEMORIES, SIGNAL0, SIGNAL1, hostNotify, hostWait, roundTripBytes } from './support/host-side';

/** The view with `guard` bytes on each side (the guards and the allocation). */
function guarded(bytes: Uint8Array, guard: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset - guard, bytes.byteLength + 2 * guard);
}

describe.each(MEMORIES)('guardBytes option, %s memory', (memory) => {
  let b: SimBackend;
  beforeAll(async () => {
    b = await createBackend({ deviceId: 0, guardBytes: 100, memory });
  });
  afterAll(() => b.destroy());

  it('places the allocation between two patterned guards, rounded up to 64 bytes each', () => {
    const a = b.allocate(4096);
    try {
      expect(a.bytes.byteLength).toBe(4096);
      expect(a.bytes.byteOffset).toBeGreaterThanOrEqual(128);
      if (memory === 'sab') expect(a.bytes.buffer.byteLength).toBe(4096 + 256);
      expect(a.bytes.every((x) => x === 0)).toBe(true);
      const all = guarded(a.bytes, 128);
      expect(all.subarray(0, 128).some((x) => x !== 0)).toBe(true);
      expect(all.subarray(128 + 4096).some((x) => x !== 0)).toBe(true);
      expect(b.checkGuards()).toEqual({ ok: true, violations: [] });
    } finally {
      a.release();
    }
  });

  it('reports a write just before or just after the view, also once the allocation is released', async () => {
    const fresh = await createBackend({ deviceId: 1, guardBytes: 64, memory });
    try {
      const a = fresh.allocate(256);
      a.bytes.fill(0xff); // inside: never a violation
      expect(fresh.checkGuards().ok).toBe(true);
      const all = guarded(a.bytes, 64);
      all[63] ^= 1; // the byte right before the view
      all[64 + 256 + 5] ^= 0x80; // 5 bytes past the end
      const report = fresh.checkGuards();
      expect(report.ok).toBe(false);
      expect(report.violations).toEqual([
        expect.objectContaining({ deviceBase: a.deviceBase, side: 'before', distance: 0 }),
        expect.objectContaining({ deviceBase: a.deviceBase, side: 'after', distance: 5 }),
      ]);
      a.release();
      expect(fresh.checkGuards().violations).toHaveLength(2);
    } finally {
      await fresh.destroy();
    }
  });

  it('the device sees only the allocation: kernels work and an access one byte past it faults', async () => {
    const n = 32;
    const a = b.allocate(roundTripBytes(n));
    try {
      const base = a.deviceBase;
      a.bytes.set(Array.from({ length: n }, (_, i) => i), DATA);
      b.launch('round-trip', [base + BigInt(DATA), base + BigInt(SIGNAL0), 1n, BigInt(n)]);
      hostNotify(a, SIGNAL0, 1);
      expect(hostWait(a, SIGNAL1, 1, 5000)).toBe(true);
      await b.synchronize();
      for (let i = 0; i < n; i++) expect(a.bytes[DATA + n + i]).toBe(i ^ ((1 + i * 3) & 0xff));
      // A kernel reaching just past the allocation must fault, not touch the host's guard.
      b.launch('round-trip', [base + BigInt(a.bytes.byteLength - 8), base + BigInt(SIGNAL0), 1n, 16n]);
      await expect(b.synchronize()).rejects.toMatchObject({ code: 'EIO', message: expect.stringContaining('device fault') });
      expect(b.checkGuards().ok).toBe(true);
    } finally {
      a.release();
    }
  });

  it.each([[-1], [1.5], [Number.NaN], ['64'], [(1 << 20) + 1]])('guardBytes %p is EINVAL', async (guardBytes) => {
    await expect(createBackend({ deviceId: 0, guardBytes: guardBytes as number })).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('without the option there are no guards and checkGuards is trivially ok', async () => {
    const plain = await createBackend({ deviceId: 2, memory });
    try {
      const a = plain.allocate(128);
      if (memory === 'sab') expect([a.bytes.byteOffset, a.bytes.buffer.byteLength]).toEqual([0, 128]);
      expect(plain.checkGuards()).toEqual({ ok: true, violations: [] });
      a.release();
    } finally {
      await plain.destroy();
    }
  });
});

import { BackendAllocation } from '@simpler/abi';
import { SimBackend, createBackend } from '../src';
import { DATA, MEMORIES, SIGNAL0, SIGNAL1, firstWrongOutput, hostNotify, hostWait, roundTripBytes, writePayload } from './support/host-side';

function args(a: BackendAllocation, seq: number, n: number, timeoutUs?: number): bigint[] {
  const base = [a.deviceBase + BigInt(DATA), a.deviceBase + BigInt(SIGNAL0), BigInt(seq), BigInt(n)];
  return timeoutUs === undefined ? base : [...base, BigInt(timeoutUs)];
}

describe.each(MEMORIES)('round-trip kernel (spec 11) with the host side done by hand, %s memory', (memory) => {
  let backend: SimBackend;
  beforeAll(async () => {
    backend = await createBackend({ deviceId: 0, memory });
    expect(backend.memory).toBe(memory);
  });
  afterAll(async () => {
    await backend.destroy();
  });

  it.each([
    [1, 40],
    [3, 40],
    [64, 20],
    [1000, 20],
    [4099, 10],
    [65536, 5],
    [1 << 20, 3],
  ])('n = %i bytes, %i iterations reusing one allocation: every output byte matches', async (n, iters) => {
    const a = backend.allocate(roundTripBytes(n));
    try {
      for (let seq = 1; seq <= iters; seq++) {
        // Launch first: the kernel is already polling when the host publishes.
        backend.launch('round-trip', args(a, seq, n));
        writePayload(a, seq, n);
        hostNotify(a, SIGNAL0, seq);
        // The main thread blocks here; only a concurrent device thread can answer.
        expect(hostWait(a, SIGNAL1, seq, 10_000)).toBe(true);
        expect(firstWrongOutput(a, seq, n)).toBe(-1);
      }
      await backend.synchronize();
    } finally {
      a.release();
    }
  });

  it('works when the host publishes before the launch, 1000 iterations', async () => {
    const n = 16;
    const a = backend.allocate(roundTripBytes(n));
    try {
      for (let seq = 1; seq <= 1000; seq++) {
        writePayload(a, seq, n);
        hostNotify(a, SIGNAL0, seq);
        backend.launch('round-trip', args(a, seq, n));
        expect(hostWait(a, SIGNAL1, seq, 10_000)).toBe(true);
        const wrong = firstWrongOutput(a, seq, n);
        if (wrong !== -1) throw new Error(`seq ${seq}: byte ${wrong} wrong`);
      }
      await backend.synchronize();
    } finally {
      a.release();
    }
  });

  it('a signal that never arrives is a kernel failure reported by synchronize', async () => {
    const a = backend.allocate(roundTripBytes(8));
    try {
      backend.launch('round-trip', args(a, 5, 8, 2000));
      await expect(backend.synchronize()).rejects.toMatchObject({
        code: 'EIO',
        errno: -5,
        message: expect.stringMatching(/signal 0 at 0x[0-9a-f]+ did not reach 5 within 2000 us \(last value 0\)/),
      });
      expect(a.bytes[SIGNAL1]).toBe(0);
      // The failure was consumed: the next synchronize is clean.
      await expect(backend.synchronize()).resolves.toBeUndefined();
    } finally {
      a.release();
    }
  });

  it('bad round-trip arguments are a kernel failure, not a crash', async () => {
    const a = backend.allocate(roundTripBytes(8));
    try {
      backend.launch('round-trip', [a.deviceBase]);
      await expect(backend.synchronize()).rejects.toMatchObject({ code: 'EIO', message: expect.stringMatching(/expected 4 or 5 arguments/) });
      backend.launch('round-trip', args(a, 2 ** 32, 8));
      await expect(backend.synchronize()).rejects.toMatchObject({ code: 'EIO', message: expect.stringMatching(/seq 4294967296 is not a u32/) });
    } finally {
      a.release();
    }
  });

  it('an n that overruns the allocation is a device fault naming the address', async () => {
    const a = backend.allocate(roundTripBytes(8));
    try {
      hostNotify(a, SIGNAL0, 1);
      const n = a.bytes.length; // data + n is past the end
      backend.launch('round-trip', args(a, 1, n));
      const where = (a.deviceBase + BigInt(DATA)).toString(16);
      await expect(backend.synchronize()).rejects.toMatchObject({
        code: 'EIO',
        message: expect.stringContaining(`device fault: access of ${n} byte(s) runs past the end of allocation`),
      });
      await expect(backend.synchronize()).resolves.toBeUndefined();
      backend.launch('round-trip', args(a, 1, n));
      await expect(backend.synchronize()).rejects.toThrow(`at 0x${where}`);
    } finally {
      a.release();
    }
  });
});

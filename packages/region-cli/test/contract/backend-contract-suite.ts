// The one backend contract suite (docs/architecture.md): it exercises the raw RegionBackend
// contract of @simpler/abi, without the core, against every backend that can run here.
import { BACKEND_ABI_VERSION, BackendAllocation, RegionBackend, isRegionError } from '@simpler/abi';

/** What the suite should expect from the backend under test. */
export interface BackendContractExpectations {
  /** False for a backend whose platform has no mapping path: allocate/launch/synchronize must be ENOTSUP. */
  readonly supported: boolean;
  /** Whether to run the spec-11 round-trip kernel on the device; defaults to `supported`. */
  readonly roundTrip?: boolean;
}

// Region-like layout used by the round trip: header, signal slots 0 and 1, then data.
const SIGNAL0 = 64;
const SIGNAL1 = 128;
const DATA = 192;

function expectCode(err: unknown, code: string): void {
  expect(isRegionError(err)).toBe(true);
  expect(err).toMatchObject({ code });
}

function hostWaitAtLeast(w: Int32Array, index: number, target: number, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = Atomics.load(w, index);
    if (v >>> 0 >= target) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    Atomics.wait(w, index, v, Math.min(left, 50));
  }
}

/** Registers the contract tests for one backend. `factory` is called once per test; the suite destroys what it creates. */
export function describeBackendContract(
  label: string,
  factory: () => Promise<RegionBackend>,
  expectations: BackendContractExpectations,
): void {
  const roundTrip = expectations.roundTrip ?? expectations.supported;

  describe(`backend contract: ${label}`, () => {
    let backend: RegionBackend;
    const allocations: BackendAllocation[] = [];
    const alloc = (n: number): BackendAllocation => {
      const a = backend.allocate(n);
      allocations.push(a);
      return a;
    };

    beforeEach(async () => {
      backend = await factory();
    });
    afterEach(async () => {
      for (const a of allocations.splice(0)) a.release();
      await backend.destroy();
    });

    it('identifies itself: name, abiVersion, platform, deviceId', () => {
      expect(typeof backend.name).toBe('string');
      expect(backend.name).toMatch(/^@simpler\/hal-/);
      expect(backend.abiVersion).toBe(BACKEND_ABI_VERSION);
      expect(typeof backend.platform).toBe('string');
      expect(backend.platform.length).toBeGreaterThan(0);
      expect(Number.isSafeInteger(backend.deviceId) && backend.deviceId >= 0).toBe(true);
      expect(typeof backend.allocate).toBe('function');
      expect(typeof backend.destroy).toBe('function');
    });

    if (!expectations.supported) {
      it('answers allocate, launch and synchronize with ENOTSUP naming the operation and platform', async () => {
        for (const op of ['allocate', 'launch', 'synchronize'] as const) {
          let err: unknown;
          try {
            if (op === 'allocate') backend.allocate(4096);
            else if (op === 'launch') backend.launch?.('round-trip', [0n]);
            else await backend.synchronize?.();
          } catch (e) {
            err = e;
          }
          expectCode(err, 'ENOTSUP');
          expect((err as Error).message).toContain(op);
          expect((err as Error).message).toContain(backend.platform);
        }
      });
      return;
    }

    it('allocates zeroed memory of exactly the size at a non-zero 64-aligned device base; release once', () => {
      for (const size of [64, 4096, 65_536 + 64]) {
        const a = backend.allocate(size);
        try {
          expect(a.bytes).toBeInstanceOf(Uint8Array);
          expect(a.bytes.length).toBe(size);
          expect(a.bytes.every((x) => x === 0)).toBe(true);
          expect(typeof a.deviceBase).toBe('bigint');
          expect(a.deviceBase).not.toBe(0n);
          expect(a.deviceBase % 64n).toBe(0n);
          expect(typeof a.hostBase).toBe('bigint');
          expect(a.deviceBase).not.toBe(a.hostBase);
        } finally {
          expect(() => a.release()).not.toThrow();
        }
      }
    });

    it('rejects a non-positive size with EINVAL', () => {
      for (const size of [0, -64]) {
        let err: unknown;
        try {
          alloc(size);
        } catch (e) {
          err = e;
        }
        expectCode(err, 'EINVAL');
      }
    });

    it('gives distinct allocations non-overlapping device ranges', () => {
      const sizes = [64, 1000, 4096, 64];
      const ranges = sizes.map((n) => {
        const a = alloc(n);
        return [a.deviceBase, a.deviceBase + BigInt(n)] as const;
      });
      for (let i = 0; i < ranges.length; i++) {
        for (let j = i + 1; j < ranges.length; j++) {
          const [a0, a1] = ranges[i];
          const [b0, b1] = ranges[j];
          expect(a1 <= b0 || b1 <= a0).toBe(true);
        }
      }
    });

    if (!roundTrip) return;

    it('runs the round-trip kernel: launch, host publishes, device answers, synchronize', async () => {
      if (backend.launch === undefined || backend.synchronize === undefined) {
        throw new Error(`${label}: launch/synchronize are missing but the round trip is expected`);
      }
      for (const n of [1, 100, 65_536]) {
        const a = alloc(Math.ceil((DATA + 2 * n) / 64) * 64);
        const w = new Int32Array(a.bytes.buffer, a.bytes.byteOffset, a.bytes.length >>> 2);
        for (let seq = 1; seq <= 3; seq++) {
          backend.launch('round-trip', [a.deviceBase + BigInt(DATA), a.deviceBase + BigInt(SIGNAL0), BigInt(seq), BigInt(n)]);
          for (let i = 0; i < n; i++) a.bytes[DATA + i] = (seq * 17 + i * 5) & 0xff;
          a.flush?.(0, a.bytes.length);
          Atomics.store(w, SIGNAL0 / 4, seq);
          Atomics.notify(w, SIGNAL0 / 4);
          expect(hostWaitAtLeast(w, SIGNAL1 / 4, seq, 10_000)).toBe(true);
          a.invalidate?.(0, a.bytes.length);
          let wrong = -1;
          for (let i = 0; i < n && wrong < 0; i++) {
            if (a.bytes[DATA + n + i] !== (((seq * 17 + i * 5) & 0xff) ^ ((seq + i * 3) & 0xff))) wrong = i;
          }
          expect({ n, seq, wrong }).toEqual({ n, seq, wrong: -1 });
        }
        await backend.synchronize();
      }
    });

    it('reports an unknown kernel name as EINVAL at launch', () => {
      let err: unknown;
      try {
        backend.launch?.('no-such-kernel-anywhere', []);
      } catch (e) {
        err = e;
      }
      expectCode(err, 'EINVAL');
    });
  });
}

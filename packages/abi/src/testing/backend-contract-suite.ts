// The one backend contract suite (docs/architecture.md): it exercises the raw RegionBackend
// contract, without the core. Published as `@simpler/abi/testing` so every backend, ours or a
// third party's, runs the same checks from its own tests. Assertions use node:assert, so any
// runner with describe/it globals works.
import assert from 'node:assert/strict';
import { BACKEND_ABI_VERSION } from '../backend/region-backend';
import type { BackendAllocation } from '../backend/backend-allocation';
import type { RegionBackend } from '../backend/region-backend';
import { isRegionError } from '../errors';
import { publish, waitAtLeast, wordsOf } from './host-signals';
import { MapShared, describeShareContract } from './share-contract';

type Body = () => void | Promise<void>;
/** The slice of a test runner the suite needs (Jest, Vitest and node:test-style globals fit). */
export interface TestRunnerApi {
  describe(name: string, body: () => void): void;
  it(name: string, body: Body, timeoutMs?: number): void;
  beforeEach(body: Body): void;
  afterEach(body: Body): void;
}

/** What the suite should expect from the backend under test. */
export interface BackendContractExpectations {
  /** False for a backend whose platform has no mapping path: allocate/launch/synchronize must be ENOTSUP. */
  readonly supported: boolean;
  /** Whether to run the spec-11 round-trip kernel on the device; defaults to `supported`. */
  readonly roundTrip?: boolean;
  /**
   * Whether allocations offer `share()`: true (required), false (must be absent), undefined
   * (checked when present).
   */
  readonly share?: boolean;
  /** Maps a shared allocation a second time; the suite then also drives the device through it. */
  readonly mapShared?: MapShared;
}

// Region-like layout used by the round trip: header, signal slots 0 and 1, then data.
const SIGNAL0 = 64;
const SIGNAL1 = 128;
const DATA = 192;

function expectCode(err: unknown, code: string): void {
  assert.ok(isRegionError(err), `expected a RegionError with code ${code}, got ${String(err)}`);
  assert.equal(err.code, code);
}

/** Registers the contract tests for one backend. `factory` is called once per test; the suite destroys what it creates. */
export function describeBackendContract(
  label: string,
  factory: () => Promise<RegionBackend>,
  expectations: BackendContractExpectations,
  runner: TestRunnerApi = globalThis as unknown as TestRunnerApi,
): void {
  const { describe, it, beforeEach, afterEach } = runner;
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
      assert.equal(typeof backend.name, 'string');
      assert.ok(backend.name.length > 0);
      assert.equal(backend.abiVersion, BACKEND_ABI_VERSION);
      assert.equal(typeof backend.platform, 'string');
      assert.ok(backend.platform.length > 0);
      assert.ok(Number.isSafeInteger(backend.deviceId) && backend.deviceId >= 0);
      assert.equal(typeof backend.allocate, 'function');
      assert.equal(typeof backend.destroy, 'function');
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
          assert.ok((err as Error).message.includes(op), (err as Error).message);
          assert.ok((err as Error).message.includes(backend.platform), (err as Error).message);
        }
      });
      return;
    }

    it('allocates zeroed memory of exactly the size at a non-zero 64-aligned device base; release once', () => {
      for (const size of [64, 4096, 65_536 + 64]) {
        const a = backend.allocate(size);
        try {
          assert.ok(a.bytes instanceof Uint8Array);
          assert.equal(a.bytes.length, size);
          assert.ok(a.bytes.every((x) => x === 0), 'allocation is not zero-filled');
          assert.equal(typeof a.deviceBase, 'bigint');
          assert.notEqual(a.deviceBase, 0n);
          assert.equal(a.deviceBase % 64n, 0n);
          assert.equal(typeof a.hostBase, 'bigint');
          assert.notEqual(a.deviceBase, a.hostBase);
        } finally {
          a.release();
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

    if (expectations.share === false) {
      it('offers no share()', () => {
        assert.equal(alloc(4096).share, undefined);
      });
    } else {
      describeShareContract({
        it,
        backend: () => backend,
        alloc,
        required: expectations.share,
        roundTrip,
        mapShared: expectations.mapShared,
      });
    }

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
          assert.ok(a1 <= b0 || b1 <= a0, `device ranges ${i} and ${j} overlap`);
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
        const w = wordsOf(a.bytes);
        const wake = a.wakeSignal?.bind(a);
        for (let seq = 1; seq <= 3; seq++) {
          backend.launch('round-trip', [a.deviceBase + BigInt(DATA), a.deviceBase + BigInt(SIGNAL0), BigInt(seq), BigInt(n)]);
          for (let i = 0; i < n; i++) a.bytes[DATA + i] = (seq * 17 + i * 5) & 0xff;
          a.flush?.(0, a.bytes.length);
          publish(w, SIGNAL0, seq, wake);
          assert.ok(waitAtLeast(w, SIGNAL1, seq, 10_000, a), `device did not answer seq ${seq}`);
          a.invalidate?.(0, a.bytes.length);
          let wrong = -1;
          for (let i = 0; i < n && wrong < 0; i++) {
            if (a.bytes[DATA + n + i] !== (((seq * 17 + i * 5) & 0xff) ^ ((seq + i * 3) & 0xff))) wrong = i;
          }
          assert.deepEqual({ n, seq, wrong }, { n, seq, wrong: -1 });
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

// The part of the backend contract suite about sharing an allocation with another process
// (`BackendAllocation.share`). The descriptor is read and written with pread/pwrite through
// node:fs, so no mapping library is needed; a caller that can map (e.g. with @simpler/shm)
// passes `mapShared` and the suite also drives the device through that second mapping.
import assert from 'node:assert/strict';
import { fstatSync, readSync, writeSync } from 'node:fs';
import type { BackendAllocation } from '../backend/backend-allocation';
import type { RegionBackend } from '../backend/region-backend';
import { SharedAllocation, sharedAllocationProblem } from '../backend/shared-allocation';
import { isRegionError } from '../errors';
import { publish, waitAtLeast, wordsOf } from './host-signals';

/** A second mapping of a shared allocation, as another process would make it. */
export interface ForeignMapping {
  /** Exactly the allocation's bytes, through the second mapping. */
  readonly bytes: Uint8Array;
  /** The publisher's side of `shared.wake`, run after a store to the signal word at byte `offset` of the allocation. */
  wake(offset: number): void;
  /** Unmaps the second mapping. */
  unmap(): void;
}

/** Maps a shared allocation a second time (e.g. with `@simpler/shm`), as another process would. */
export type MapShared = (shared: SharedAllocation) => ForeignMapping;

/** What the share tests need from the suite around them. */
export interface ShareContext {
  readonly it: (name: string, body: () => void | Promise<void>, timeoutMs?: number) => void;
  readonly backend: () => RegionBackend;
  readonly alloc: (n: number) => BackendAllocation;
  /** True: every allocation must offer `share`; undefined: it may. */
  readonly required: boolean | undefined;
  readonly roundTrip: boolean;
  readonly mapShared?: MapShared;
}

// Smallest page size of any supported platform: a page-aligned offset is a multiple of it.
const MIN_PAGE = 4096;
const SIZES = [64, 4096 + 64, 65_536 + 64];

function sharedOf(ctx: ShareContext, a: BackendAllocation): SharedAllocation | undefined {
  if (a.share === undefined) {
    assert.notEqual(ctx.required, true, 'the allocation offers no share() but the backend is expected to');
    return undefined;
  }
  return a.share();
}

/** Registers the share tests (inside the suite's describe). */
export function describeShareContract(ctx: ShareContext): void {
  const { it } = ctx;

  it('share(): an open regular descriptor, a page-aligned offset, the exact length, coherent memory, a valid wake', () => {
    for (const size of SIZES) {
      const a = ctx.alloc(size);
      const s = sharedOf(ctx, a);
      if (s === undefined) return;
      // The shape (descriptor number, offset, exact length, coherent memory, a wake outside the bytes).
      assert.equal(sharedAllocationProblem(s, size), undefined);
      const stats = fstatSync(s.fd);
      assert.ok(stats.isFile(), 'the descriptor is not a regular file or memfd');
      assert.ok(s.offset % MIN_PAGE === 0, `offset ${s.offset} is not page-aligned`);
      assert.ok(stats.size >= s.offset + s.length, `descriptor of ${stats.size} bytes is shorter than offset + length`);
      assert.equal(a.flush, undefined, "cacheHooks 'none' but the allocation has a flush hook");
      assert.equal(a.invalidate, undefined, "cacheHooks 'none' but the allocation has an invalidate hook");
      if (s.wake.kind === 'futex') assert.ok(s.wake.sleepersOffset + 4 <= stats.size, `sleepersOffset ${s.wake.sleepersOffset} lies past the descriptor's end`);
    }
  });

  it('share(): the descriptor holds exactly the allocation bytes, seen both ways', () => {
    for (const size of SIZES) {
      const a = ctx.alloc(size);
      const s = sharedOf(ctx, a);
      if (s === undefined) return;
      for (let i = 0; i < size; i++) a.bytes[i] = (i * 7 + size) & 0xff;
      const read = new Uint8Array(size);
      assert.equal(readSync(s.fd, read, 0, size, s.offset), size);
      assert.deepEqual(read, a.bytes, 'the descriptor does not hold what the host view holds');
      const written = new Uint8Array(size).map((_, i) => (i * 13 + 1) & 0xff);
      assert.equal(writeSync(s.fd, written, 0, size, s.offset), size);
      assert.deepEqual(new Uint8Array(a.bytes), written, 'the host view does not see what was written to the descriptor');
    }
  });

  it('share() after release is EINVAL', () => {
    const a = ctx.backend().allocate(4096);
    const offered = a.share !== undefined;
    a.release();
    if (!offered) return;
    let err: unknown;
    try {
      a.share?.();
    } catch (e) {
      err = e;
    }
    assert.ok(isRegionError(err) && err.code === 'EINVAL', `expected EINVAL, got ${String(err)}`);
  });

  const mapShared = ctx.mapShared;
  if (mapShared === undefined || !ctx.roundTrip) return;

  it('a second mapping is the same memory, and the device answers a signal published through it', async () => {
    const backend = ctx.backend();
    const n = 4096;
    const a = ctx.alloc(192 + 2 * n);
    const s = sharedOf(ctx, a);
    if (s === undefined) return;
    const foreign = mapShared(s);
    try {
      assert.equal(foreign.bytes.length, a.bytes.length);
      const words = wordsOf(foreign.bytes);
      for (let seq = 1; seq <= 3; seq++) {
        backend.launch?.('round-trip', [a.deviceBase + 192n, a.deviceBase + 64n, BigInt(seq), BigInt(n)]);
        for (let i = 0; i < n; i++) foreign.bytes[192 + i] = (seq * 17 + i * 5) & 0xff;
        publish(words, 64, seq, (offset) => foreign.wake(offset));
        assert.ok(waitAtLeast(words, 128, seq, 10_000), `device did not answer seq ${seq} published through the second mapping`);
        for (let i = 0; i < n; i++) {
          if (foreign.bytes[192 + n + i] !== (((seq * 17 + i * 5) & 0xff) ^ ((seq + i * 3) & 0xff))) assert.fail(`byte ${i} of seq ${seq}`);
        }
        assert.equal(a.bytes[192 + n + 7], foreign.bytes[192 + n + 7]);
      }
      await backend.synchronize?.();
    } finally {
      foreign.unmap();
    }
  });
}

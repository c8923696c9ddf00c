import { InvalidArgumentError } from '@simpler/abi';

/** Guard sizes are rounded up to this, so a guarded region keeps the alignment of an unguarded one. */
export const GUARD_ALIGN = 64;
/** Largest `guardBytes` accepted (per side). */
export const GUARD_BYTES_MAX = 1 << 20;
/** At most this many violations are reported per allocation (a smashed guard would flood the list). */
const MAX_VIOLATIONS_PER_ALLOCATION = 16;

/** One guard byte that no longer holds its pattern. */
export interface GuardViolation {
  /** Device base of the allocation whose guard was hit. */
  readonly deviceBase: bigint;
  /** Which guard: before the allocation's first byte or after its last. */
  readonly side: 'before' | 'after';
  /** Distance from the allocation: 0 is the byte right next to it. */
  readonly distance: number;
  /** The pattern byte that should be there. */
  readonly expected: number;
  /** The byte found. */
  readonly actual: number;
}

/** Result of `SimBackend.checkGuards()`. */
export interface GuardReport {
  /** True when every guard byte of every allocation (live or released) still holds its pattern. */
  readonly ok: boolean;
  /** The damaged bytes found (capped per allocation). */
  readonly violations: readonly GuardViolation[];
}

/** Validates the `guardBytes` option and rounds it up to {@link GUARD_ALIGN}. */
export function guardSizeOf(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > GUARD_BYTES_MAX) {
    throw new InvalidArgumentError(`createBackend: guardBytes ${String(value)} is not an integer in 0..${GUARD_BYTES_MAX}`);
  }
  return Math.ceil(value / GUARD_ALIGN) * GUARD_ALIGN;
}

/** The pattern byte at `distance` from the allocation: position-dependent, so a shifted copy shows. */
function patternAt(distance: number): number {
  return (0xa5 ^ (distance * 0x3b)) & 0xff;
}

/**
 * The guards of one allocation: `guard` bytes before and after `length` bytes of region, all in
 * the same memory, so a host-side overrun of the region view lands in them.
 */
export class GuardedBlock {
  /** The region view handed to the core (excludes the guards). */
  readonly view: Uint8Array;
  private readonly all: Uint8Array;

  /** `all` is the guards and the region together: `guard + length + guard` bytes. */
  constructor(
    all: Uint8Array,
    private readonly guard: number,
    private readonly length: number,
    private readonly deviceBase: bigint,
  ) {
    this.all = all;
    this.view = all.subarray(guard, guard + length);
    for (let d = 0; d < guard; d++) {
      this.all[guard - 1 - d] = patternAt(d);
      this.all[guard + length + d] = patternAt(d);
    }
  }

  /** Appends the damaged guard bytes (at most a few) to `out`. */
  collect(out: GuardViolation[]): void {
    let found = 0;
    const { all, guard, length } = this;
    for (let d = 0; d < guard && found < MAX_VIOLATIONS_PER_ALLOCATION; d++) {
      const expected = patternAt(d);
      const before = all[guard - 1 - d];
      const after = all[guard + length + d];
      if (before !== expected) {
        out.push({ deviceBase: this.deviceBase, side: 'before', distance: d, expected, actual: before });
        found++;
      }
      if (after !== expected) {
        out.push({ deviceBase: this.deviceBase, side: 'after', distance: d, expected, actual: after });
        found++;
      }
    }
  }
}

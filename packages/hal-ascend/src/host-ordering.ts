import { UnsupportedError } from '@simpler/abi';

/** Whether this backend can honour the spec's release/acquire ordering on a host architecture. */
export interface HostOrderingSupport {
  /** True when regions can be opened on this host. */
  readonly supported: boolean;
  /** Why, in one sentence. */
  readonly reason: string;
}

/**
 * x86-64 does not reorder stores with other stores or loads with other loads, and a seq-cst
 * `Atomics.store` compiles to a locked instruction that also drains write-combining buffers, so
 * the Atomics the core uses for notify and wait are enough; no cache hooks are needed. On aarch64 the host mapping needs explicit cache maintenance
 * (clean after host writes, clean+invalidate before host reads); JavaScript cannot issue
 * `dc cvac`/`dc civac`, and no native helper ships with this package, so the backend refuses
 * rather than run with weaker ordering.
 */
export function hostOrderingSupport(arch: string): HostOrderingSupport {
  if (arch === 'x64') {
    return { supported: true, reason: 'x86-64 host: ordered stores and loads; the Atomics of notify and wait are the release/acquire barriers' };
  }
  if (arch === 'arm64') {
    return {
      supported: false,
      reason:
        'aarch64 host: the device mapping needs cache clean/invalidate around datacopy, notify and wait, ' +
        'which JavaScript cannot perform without a native helper, so hal-ascend refuses rather than run with weaker ordering',
    };
  }
  return { supported: false, reason: `host architecture ${arch} is not supported by hal-ascend (x64 only)` };
}

/** Throws `ENOTSUP` when regions cannot be opened with the spec's ordering on this host. */
export function requireHostOrdering(arch: string): void {
  const support = hostOrderingSupport(arch);
  if (!support.supported) throw new UnsupportedError(support.reason);
}

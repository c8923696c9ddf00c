import { UnsupportedError } from '@simpler/abi';

/** The ACL runtime calls that provide cache maintenance on aarch64 hosts, by the device address. */
export const CACHE_MAINTENANCE_SYMBOLS = ['aclrtMemFlush', 'aclrtMemInvalidate'] as const;

/** Which of {@link CACHE_MAINTENANCE_SYMBOLS} the runtime library exports (absent: not probed). */
export type CacheMaintenanceSymbols = Readonly<Partial<Record<(typeof CACHE_MAINTENANCE_SYMBOLS)[number], boolean>>>;

/** Whether this backend can honour the spec's release/acquire ordering on a host architecture. */
export interface HostOrderingSupport {
  /** True when regions can be opened on this host. */
  readonly supported: boolean;
  /** True when allocations carry flush/invalidate hooks backed by aclrtMemFlush/aclrtMemInvalidate. */
  readonly cacheMaintenance: boolean;
  /** Why, in one sentence. */
  readonly reason: string;
}

const AARCH64_NEED =
  'aarch64 host: the device mapping needs cache clean/invalidate around datacopy, notify and wait ' +
  '(clean after host writes, clean+invalidate before host reads)';

/** True when the answer for `arch` depends on the runtime's symbols, so the runtime must be loaded first. */
export function orderingDependsOnRuntime(arch: string): boolean {
  return arch === 'arm64';
}

/**
 * x86-64 does not reorder stores with other stores or loads with other loads, and a seq-cst
 * `Atomics.store` compiles to a locked instruction that also drains write-combining buffers, so
 * the Atomics the core uses for notify and wait are enough and no hooks are needed. On aarch64
 * JavaScript cannot issue `dc cvac`/`dc civac`, so the maintenance comes from the ACL runtime's
 * aclrtMemFlush/aclrtMemInvalidate on the device range; without both, the backend refuses rather
 * than run with weaker ordering. `symbols` says which of them the runtime exports.
 */
export function hostOrderingSupport(arch: string, symbols?: CacheMaintenanceSymbols): HostOrderingSupport {
  if (arch === 'x64') {
    return {
      supported: true,
      cacheMaintenance: false,
      reason: 'x86-64 host: ordered stores and loads; the Atomics of notify and wait are the release/acquire barriers',
    };
  }
  if (arch === 'arm64') {
    if (symbols === undefined) {
      return {
        supported: false,
        cacheMaintenance: false,
        reason: `${AARCH64_NEED}, which needs aclrtMemFlush and aclrtMemInvalidate from the ACL runtime library, which could not be checked (it did not load)`,
      };
    }
    const missing = CACHE_MAINTENANCE_SYMBOLS.filter((name) => symbols[name] !== true);
    if (missing.length === 0) {
      return {
        supported: true,
        cacheMaintenance: true,
        reason: `${AARCH64_NEED}; provided by aclrtMemFlush after host writes and aclrtMemInvalidate before host reads, on the device range`,
      };
    }
    return {
      supported: false,
      cacheMaintenance: false,
      reason:
        `${AARCH64_NEED}; the ACL runtime library does not export ${missing.join(' and ')}, and JavaScript cannot ` +
        'perform cache maintenance itself, so hal-ascend refuses rather than run with weaker ordering',
    };
  }
  return { supported: false, cacheMaintenance: false, reason: `host architecture ${arch} is not supported by hal-ascend (x64 and arm64 only)` };
}

/** Throws `ENOTSUP` when regions cannot be opened with the spec's ordering on this host; else returns the support. */
export function requireHostOrdering(arch: string, symbols?: CacheMaintenanceSymbols, context = ''): HostOrderingSupport {
  const support = hostOrderingSupport(arch, symbols);
  if (!support.supported) throw new UnsupportedError(context ? `${support.reason} ${context}` : support.reason);
  return support;
}

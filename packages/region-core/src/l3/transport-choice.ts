import { InvalidArgumentError, describe, rejectUnknownKeys } from '@simpler/abi';
import { SHM_TUNING_KEYS } from '../options/option-keys';
import { DEFAULT_CHILD_SPIN_US, DEFAULT_CHUNK_BYTES, DEFAULT_PARENT_SPIN_US, L3Transport, checkChunkBytes, checkSpinUs, checkTransport } from './shm-layout';
import type { ShmTuning } from './shm-parent-link';
import { shmUnavailableReason } from './shm-loader';

/** The measured defaults of the shared-memory transport (docs/performance.md). */
export const DEFAULT_SHM_TUNING: ShmTuning = Object.freeze({
  chunkBytes: DEFAULT_CHUNK_BYTES,
  parentSpinUs: DEFAULT_PARENT_SPIN_US,
  childSpinUs: DEFAULT_CHILD_SPIN_US,
});

/** `'shm'` where `@simpler/shm` works on this machine, `'pipe'` elsewhere. */
export function defaultTransport(): L3Transport {
  return shmUnavailableReason() === undefined ? 'shm' : 'pipe';
}

/** Validates a transport choice (undefined = the default for this machine). */
export function resolveTransport(value: unknown): L3Transport {
  return value === undefined ? defaultTransport() : checkTransport(value);
}

/** Validates partial shared-memory tuning and fills in the defaults. */
export function shmTuningOf(overrides: unknown): ShmTuning {
  if (overrides === undefined) return DEFAULT_SHM_TUNING;
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) throw new InvalidArgumentError(`shmTuning must be an object, got ${describe(overrides)}`);
  const o = overrides as Partial<Record<keyof ShmTuning, unknown>>;
  rejectUnknownKeys(o, SHM_TUNING_KEYS);
  return {
    chunkBytes: o.chunkBytes === undefined ? DEFAULT_SHM_TUNING.chunkBytes : checkChunkBytes(o.chunkBytes, 'shmTuning.chunkBytes'),
    parentSpinUs: o.parentSpinUs === undefined ? DEFAULT_SHM_TUNING.parentSpinUs : checkSpinUs(o.parentSpinUs, 'shmTuning.parentSpinUs'),
    childSpinUs: o.childSpinUs === undefined ? DEFAULT_SHM_TUNING.childSpinUs : checkSpinUs(o.childSpinUs, 'shmTuning.childSpinUs'),
  };
}

import { BACKEND_ABI_VERSION, BackendError, InvalidArgumentError, RegionBackend, describe } from '@simpler/abi';

/**
 * Checks that a value honours the RegionBackend contract well enough to be driven: the
 * methods exist, `name`/`platform` are strings, the ABI version matches and, when known, the
 * name equals the module's `BACKEND_NAME`. Shape errors are `EINVAL`; a mismatched ABI version
 * or name is `EIO` (the backend installed is not the one this core can drive).
 */
export function checkBackend(value: unknown, expectedName?: string): RegionBackend {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidArgumentError(`backend must be a RegionBackend object, got ${describe(value)}`);
  }
  const b = value as Partial<Record<keyof RegionBackend, unknown>>;
  if (typeof b.name !== 'string' || b.name.length === 0) {
    throw new InvalidArgumentError(`backend.name must be a non-empty string, got ${describe(b.name)}`);
  }
  if (typeof b.platform !== 'string') {
    throw new InvalidArgumentError(`backend ${b.name}: platform must be a string, got ${describe(b.platform)}`);
  }
  if (b.abiVersion !== BACKEND_ABI_VERSION) {
    throw new BackendError(
      `backend ${b.name} implements backend ABI version ${describe(b.abiVersion)}, but this @simpler/region-core speaks version ${BACKEND_ABI_VERSION}: install matching versions`,
    );
  }
  if (typeof b.allocate !== 'function' || typeof b.destroy !== 'function') {
    throw new InvalidArgumentError(`backend ${b.name} does not implement allocate() and destroy()`);
  }
  for (const optional of ['launch', 'synchronize'] as const) {
    if (b[optional] !== undefined && typeof b[optional] !== 'function') {
      throw new InvalidArgumentError(`backend ${b.name}: ${optional} must be a function when present, got ${describe(b[optional])}`);
    }
  }
  if (expectedName !== undefined && b.name !== expectedName) {
    throw new BackendError(`backend module ${expectedName} created a backend named ${b.name}: the names must match`);
  }
  return value as RegionBackend;
}

import { BackendOptions, InvalidArgumentError, UnsupportedError, describe } from '@simpler/abi';

/** Options of `createBackend` for `@simpler/hal-ascend`. */
export interface AscendBackendOptions extends BackendOptions {
  /** Device id to drive (`aclrtSetDevice`); an int32 `>= 0`. */
  readonly deviceId: number;
  /** Path of `libascend_hal.so`; else `SIMPLER_ASCEND_HAL_LIB`, else the CANN locations. */
  readonly halLibrary?: string;
  /** Path of `libascendcl.so` / `libacl_rt.so`; else `SIMPLER_ASCEND_RT_LIB`, else the CANN locations. */
  readonly runtimeLibrary?: string;
  /** Platform name; only `a2a3` has a host mapping path. Default `a2a3`. */
  readonly platform?: string;
  /** Host CPU architecture to assume (default `process.arch`); lets tests exercise other hosts. */
  readonly arch?: string;
}

/** Options after validation. */
export interface ResolvedAscendOptions {
  /** Device id. */
  readonly deviceId: number;
  /** Explicit driver library path, if any. */
  readonly halLibrary: string | undefined;
  /** Explicit runtime library path, if any. */
  readonly runtimeLibrary: string | undefined;
  /** Platform name. */
  readonly platform: string;
  /** Host architecture. */
  readonly arch: string;
}

const INT32_MAX = 0x7fffffff;

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value.length > 0) return value;
  throw new InvalidArgumentError(`${name} must be a non-empty string, got ${describe(value)}`);
}

/** Validates backend options: `EINVAL` for a malformed value, `ENOTSUP` for the `a5` platform. */
export function resolveAscendOptions(options: unknown): ResolvedAscendOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`hal-ascend options must be an object with a deviceId, got ${describe(options)}`);
  }
  const o = options as Record<string, unknown>;
  const deviceId = o.deviceId;
  if (typeof deviceId !== 'number' || !Number.isInteger(deviceId) || deviceId < 0 || deviceId > INT32_MAX) {
    throw new InvalidArgumentError(`deviceId must be an integer in 0..${INT32_MAX}, got ${describe(deviceId)}`);
  }
  const platform = optionalString(o.platform, 'platform') ?? 'a2a3';
  if (platform === 'a5') {
    throw new UnsupportedError('platform a5 has no host mapping path; use @simpler/hal-stub for it');
  }
  if (platform !== 'a2a3') {
    throw new InvalidArgumentError(`platform must be 'a2a3' for @simpler/hal-ascend, got ${describe(platform)}`);
  }
  return {
    deviceId,
    halLibrary: optionalString(o.halLibrary, 'halLibrary'),
    runtimeLibrary: optionalString(o.runtimeLibrary, 'runtimeLibrary'),
    platform,
    arch: optionalString(o.arch, 'arch') ?? process.arch,
  };
}

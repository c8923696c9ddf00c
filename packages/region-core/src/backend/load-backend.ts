import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BackendError,
  BackendFactory,
  BackendModule,
  BackendOptions,
  InvalidArgumentError,
  RegionBackend,
  describe,
  isRegionError,
} from '@simpler/abi';
import { checkBackend } from './check-backend';

/** Environment variable naming the backend module when no `backend` option is given. */
export const BACKEND_ENV_VAR = 'SIMPLER_REGION_BACKEND';
/** Config file read from the working directory when neither option nor env var chooses a backend. */
export const BACKEND_CONFIG_FILE = 'simpler-region.config.json';

/** What the `backend` option may be: an instance, a factory, a module object, or a module name. */
export type BackendSpec = RegionBackend | BackendFactory | BackendModule | string;

/** The backend-related options of `createWorker` (and of `loadBackend`). */
export interface BackendSelectionOptions {
  /** The backend: instance, factory, module object or module name resolved from the working directory. */
  readonly backend?: BackendSpec;
  /** Backend-specific settings, passed to `createBackend` with `deviceId` and `platform`. */
  readonly backendOptions?: Readonly<Record<string, unknown>>;
}

/** Where a backend choice came from, and what it is (for `simpler-region doctor`). */
export interface BackendChoice {
  /** `option` (createWorker), `env` (SIMPLER_REGION_BACKEND), `config` (simpler-region.config.json) or `none`. */
  readonly source: 'option' | 'env' | 'config' | 'none';
  /** The chosen backend, or undefined when the source is `none`. */
  readonly backend: BackendSpec | undefined;
  /** Options for the backend factory (config file options overlaid by explicit ones). */
  readonly backendOptions: Readonly<Record<string, unknown>>;
  /** The config file that was read, when the source is `config`. */
  readonly configFile?: string;
}

/** How to get a backend, quoted in the error raised when none is chosen. */
export const NO_BACKEND_HELP =
  'no region backend chosen. Install one next to @simpler/region-core (e.g. `npm install @simpler/hal-sim` for the simulator) ' +
  `and choose it with createWorker({ backend: '@simpler/hal-sim' }), the ${BACKEND_ENV_VAR}=@simpler/hal-sim environment variable, ` +
  `or a ${BACKEND_CONFIG_FILE} file in the working directory: {"backend": "@simpler/hal-sim", "backendOptions": {"platform": "a2a3sim"}}`;

function requireOptionsObject(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${what} must be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

function readConfigFile(file: string): { backend: string; backendOptions: Record<string, unknown> } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InvalidArgumentError(`${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError(`${file} must hold a JSON object like {"backend": "@simpler/hal-sim"}, got ${describe(parsed)}`);
  }
  const { backend, backendOptions } = parsed as { backend?: unknown; backendOptions?: unknown };
  if (typeof backend !== 'string' || backend.length === 0) {
    throw new InvalidArgumentError(`${file}: "backend" must be a non-empty module name string, got ${describe(backend)}`);
  }
  return { backend, backendOptions: requireOptionsObject(backendOptions, `${file}: "backendOptions"`) };
}

/**
 * Decides which backend to use without loading it: the `backend` option, else the
 * `SIMPLER_REGION_BACKEND` environment variable, else `simpler-region.config.json` in `cwd`.
 */
export function resolveBackendChoice(
  options: BackendSelectionOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd: string = process.cwd(),
): BackendChoice {
  const explicit = requireOptionsObject(options.backendOptions, 'backendOptions');
  if (options.backend !== undefined) {
    return { source: 'option', backend: options.backend, backendOptions: explicit };
  }
  const fromEnv = env[BACKEND_ENV_VAR];
  if (typeof fromEnv === 'string' && fromEnv.trim().length > 0) {
    return { source: 'env', backend: fromEnv.trim(), backendOptions: explicit };
  }
  const configFile = join(cwd, BACKEND_CONFIG_FILE);
  if (existsSync(configFile)) {
    const config = readConfigFile(configFile);
    return { source: 'config', backend: config.backend, backendOptions: { ...config.backendOptions, ...explicit }, configFile };
  }
  return { source: 'none', backend: undefined, backendOptions: explicit };
}

/** Resolves a module name from the user's project (the working directory), not from this package. */
function requireBackendModule(name: string, cwd: string): unknown {
  let resolved: string;
  try {
    resolved = require.resolve(name, { paths: [cwd] });
  } catch (error) {
    throw new InvalidArgumentError(
      `backend module ${JSON.stringify(name)} cannot be found from ${cwd}: install it in your project (npm install ${name})`,
      { cause: error },
    );
  }
  try {
    return require(resolved);
  } catch (error) {
    throw new BackendError(`backend module ${JSON.stringify(name)} (${resolved}) failed to load: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
    });
  }
}

function isBackendModule(value: unknown): value is BackendModule {
  return typeof value === 'object' && value !== null && typeof (value as { createBackend?: unknown }).createBackend === 'function';
}

async function createFrom(factory: BackendFactory, options: BackendOptions, expectedName: string | undefined, label: string): Promise<RegionBackend> {
  let created: unknown;
  try {
    created = await factory(options);
  } catch (error) {
    if (isRegionError(error)) throw error;
    throw new BackendError(`${label}: createBackend failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
  try {
    return checkBackend(created, expectedName);
  } catch (error) {
    // A rejected backend may already own threads or device handles: give them back.
    try {
      await (created as { destroy?: () => unknown })?.destroy?.();
    } catch {
      // The check failure is the error the caller needs.
    }
    throw error;
  }
}

/** Device-related settings `loadBackend` passes to the backend factory. */
export interface LoadBackendOptions extends BackendSelectionOptions {
  /** Device id (default 0). */
  readonly deviceId?: number;
  /** Platform, overriding `backendOptions.platform`. */
  readonly platform?: string;
}

/**
 * Chooses (see {@link resolveBackendChoice}) and creates a backend, and checks it (ABI version,
 * name against the module's `BACKEND_NAME`). With no choice at all it throws `EINVAL` with
 * installation instructions.
 */
export async function loadBackend(
  options: LoadBackendOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd: string = process.cwd(),
): Promise<RegionBackend> {
  const choice = resolveBackendChoice(options, env, cwd);
  const spec = choice.backend;
  if (spec === undefined) throw new InvalidArgumentError(NO_BACKEND_HELP);
  const platform = options.platform ?? choice.backendOptions.platform;
  const factoryOptions: BackendOptions = {
    ...choice.backendOptions,
    deviceId: options.deviceId ?? 0,
    ...(platform !== undefined ? { platform: platform as string } : {}),
  };
  if (typeof spec === 'string') {
    if (spec.length === 0) throw new InvalidArgumentError(`backend module name must not be empty. ${NO_BACKEND_HELP}`);
    const mod = requireBackendModule(spec, cwd);
    if (!isBackendModule(mod) || typeof mod.BACKEND_NAME !== 'string') {
      throw new InvalidArgumentError(`module ${JSON.stringify(spec)} is not a region backend: it must export BACKEND_NAME (string) and createBackend(options)`);
    }
    return createFrom(mod.createBackend, factoryOptions, mod.BACKEND_NAME, `backend module ${spec}`);
  }
  if (typeof spec === 'function') return createFrom(spec, factoryOptions, undefined, 'backend factory');
  if (isBackendModule(spec)) {
    const expected = typeof spec.BACKEND_NAME === 'string' ? spec.BACKEND_NAME : undefined;
    if (expected === undefined) throw new InvalidArgumentError('backend module object must export BACKEND_NAME (string) with createBackend');
    return createFrom(spec.createBackend, factoryOptions, expected, `backend module ${expected}`);
  }
  if (typeof spec === 'object' && spec !== null && typeof (spec as { allocate?: unknown }).allocate === 'function') {
    return checkBackend(spec);
  }
  throw new InvalidArgumentError(
    `backend must be a RegionBackend instance, a factory function, a backend module object or a module name, got ${describe(spec)}`,
  );
}

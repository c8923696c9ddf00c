import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError, describe } from '@simpler/abi';
import { BACKEND_ENV_VAR, resolveBackendChoice } from '@simpler/region-core';
import { UsageError } from '../usage-error';

/** The backend the CLI uses when nothing else chooses one. */
export const DEFAULT_BACKEND = '@simpler/hal-sim';
/** The config file read from the working directory (spec section 8). */
export const CONFIG_FILE_NAME = 'simpler-region.config.json';

/** Which rule chose the backend. */
export type BackendSource = 'flag' | 'env' | 'config' | 'default';

/** A backend choice with its reason, before the module is loaded. */
export interface CliBackendChoice {
  /** Module name (or path) as the user wrote it. */
  readonly backend: string;
  /** Options for the backend factory (from the config file when it chose the backend), `--platform` applied. */
  readonly backendOptions: Readonly<Record<string, unknown>>;
  /** Which rule chose it. */
  readonly source: BackendSource;
  /** The config file that was read, if any. */
  readonly configFile?: string;
  /** One sentence saying why this backend was chosen. */
  readonly reason: string;
}

/** Flags shared by every command that opens a region. */
export interface BackendFlags {
  readonly backend?: string;
  readonly config?: string;
  readonly platform?: string;
}

function readConfig(file: string): { backend?: string; backendOptions: Record<string, unknown> } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--config ${file}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new InvalidArgumentError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError(`${file} must hold a JSON object like {"backend": "@simpler/hal-sim"}, got ${describe(parsed)}`);
  }
  const { backend, backendOptions } = parsed as { backend?: unknown; backendOptions?: unknown };
  if (backend !== undefined && (typeof backend !== 'string' || backend.length === 0)) {
    throw new InvalidArgumentError(`${file}: "backend" must be a non-empty module name, got ${describe(backend)}`);
  }
  if (backendOptions !== undefined && (typeof backendOptions !== 'object' || backendOptions === null || Array.isArray(backendOptions))) {
    throw new InvalidArgumentError(`${file}: "backendOptions" must be an object, got ${describe(backendOptions)}`);
  }
  return { ...(backend === undefined ? {} : { backend }), backendOptions: (backendOptions ?? {}) as Record<string, unknown> };
}

/**
 * Chooses the backend the way every command does: `--backend` > `SIMPLER_REGION_BACKEND` >
 * `--config FILE` or `simpler-region.config.json` in `cwd` > `@simpler/hal-sim`. The config file's
 * `backendOptions` apply when that file also chose the backend (or names none); `--platform` wins
 * over them. The env and cwd-config rules are region-core's own `resolveBackendChoice`.
 */
export function selectBackend(flags: BackendFlags, env: NodeJS.ProcessEnv, cwd: string): CliBackendChoice {
  const explicitConfig = flags.config === undefined ? undefined : path.resolve(cwd, flags.config);
  const config = explicitConfig !== undefined ? readConfig(explicitConfig) : undefined;
  const withPlatform = (o: Readonly<Record<string, unknown>>): Record<string, unknown> => ({ ...o, ...(flags.platform !== undefined ? { platform: flags.platform } : {}) });
  const envChoice = (name: string, opts: Readonly<Record<string, unknown>>): CliBackendChoice => ({
    backend: name,
    backendOptions: withPlatform(opts),
    source: 'env',
    reason: `${BACKEND_ENV_VAR}=${name} in the environment`,
  });
  if (flags.backend !== undefined) {
    const opts = config && (config.backend === undefined || config.backend === flags.backend) ? config.backendOptions : {};
    return { backend: flags.backend, backendOptions: withPlatform(opts), source: 'flag', reason: `--backend ${flags.backend} on the command line`, ...(explicitConfig ? { configFile: explicitConfig } : {}) };
  }
  if (config !== undefined && explicitConfig !== undefined) {
    const fromEnv = env[BACKEND_ENV_VAR]?.trim();
    if (fromEnv) return envChoice(fromEnv, config.backend === fromEnv ? config.backendOptions : {});
    const name = config.backend ?? DEFAULT_BACKEND;
    const why = config.backend === undefined ? `${explicitConfig} names no backend, so the embedded default` : `"backend" in ${explicitConfig} (--config)`;
    return { backend: name, backendOptions: withPlatform(config.backendOptions), source: config.backend === undefined ? 'default' : 'config', configFile: explicitConfig, reason: why };
  }
  const choice = resolveBackendChoice({}, env, cwd);
  if (choice.source === 'env') return envChoice(String(choice.backend), {});
  if (choice.source === 'config' && typeof choice.backend === 'string') {
    return { backend: choice.backend, backendOptions: withPlatform(choice.backendOptions), source: 'config', configFile: choice.configFile, reason: `"backend" in ${choice.configFile}` };
  }
  return { backend: DEFAULT_BACKEND, backendOptions: withPlatform({}), source: 'default', reason: `no --backend, no SIMPLER_REGION_BACKEND, no ${CONFIG_FILE_NAME}: the simulator is the embedded default` };
}

/** Where a backend module resolves from: the user's project (`cwd`) first, then the CLI's own dependencies. */
export interface ResolvedBackendModule {
  readonly name: string;
  /** Absolute path of the module's entry file, or undefined when it resolves nowhere. */
  readonly resolvedPath?: string;
  /** `cwd` or `cli`. */
  readonly from?: 'cwd' | 'cli';
}

/** Resolves a backend module name from `cwd`, else from this CLI (which ships every backend). */
export function resolveBackendModule(name: string, cwd: string): ResolvedBackendModule {
  for (const [from, paths] of [['cwd', [cwd]], ['cli', [__dirname]]] as const) {
    try {
      return { name, resolvedPath: require.resolve(name, { paths: [...paths] }), from };
    } catch {
      // try the next place
    }
  }
  return { name, ...(existsSync(name) ? { resolvedPath: path.resolve(name), from: 'cwd' as const } : {}) };
}

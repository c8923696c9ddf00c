import { RegionBackend } from '@simpler/abi';
import { loadBackend } from '@simpler/region-core';
import { CliBackendChoice, resolveBackendModule } from './select-backend';

/** The module specifier handed to region-core: an absolute path when the name only resolves from the CLI itself. */
export function backendSpecifier(choice: CliBackendChoice, cwd: string): string {
  const resolved = resolveBackendModule(choice.backend, cwd);
  return resolved.from === 'cli' && resolved.resolvedPath ? resolved.resolvedPath : choice.backend;
}

/**
 * Creates (and checks) the chosen backend for one device in this process, through region-core's
 * `loadBackend`, so the CLI knows its name and platform. The caller owns it (a DeviceContext or
 * level-2 Worker built on it destroys it).
 */
export function openBackend(choice: CliBackendChoice, deviceId: number, env: NodeJS.ProcessEnv, cwd: string): Promise<RegionBackend> {
  return loadBackend({ backend: backendSpecifier(choice, cwd), backendOptions: choice.backendOptions, deviceId }, env, cwd);
}

// Where the cross-package suites find the repository and the packages they exercise. A package
// is found through its installed name (npm links the workspace), so no suite counts '..' levels
// into another package's directory, and the dependency shows in e2e/package.json.
import * as path from 'node:path';

/** The monorepo root (this file is e2e/test/support/workspace.ts). */
export const WORKSPACE_ROOT = path.resolve(__dirname, '..', '..', '..');

/** The directory of a workspace package, found by its name (e.g. `@simpler/region-core`). */
export function packageDirOf(name: string): string {
  return path.dirname(require.resolve(`${name}/package.json`));
}

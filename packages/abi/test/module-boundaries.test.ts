// Proves the dependency rules of docs/architecture.md are enforced: a forbidden import makes
// lint fail under the workspace's own flat ESLint config (@nx/enforce-module-boundaries).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ESLint } from 'eslint';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const RULE = '@nx/enforce-module-boundaries';
/** A helper module of the e2e project, which no package may import. */
const E2E_HELPER = '@simpler/e2e/test/support/workspace';

let eslint: ESLint;
let dataDir: string;

beforeAll(() => {
  // The Nx rule silently skips itself when no project graph is cached, so build a fresh graph
  // in a private data directory (no race with other Nx runs, no dependence on a warm cache).
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'simpler-nx-graph-'));
  // Drop NX_* variables an outer `nx run` sets for its task; the nested call must stand alone.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NX_')));
  Object.assign(env, { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_WORKSPACE_DATA_DIRECTORY: dataDir });
  const nxPkg = require.resolve('nx/package.json', { paths: [ROOT] });
  const nxBin = path.join(path.dirname(nxPkg), JSON.parse(fs.readFileSync(nxPkg, 'utf8')).bin.nx);
  execFileSync(process.execPath, [nxBin, 'show', 'projects'], { cwd: ROOT, env, stdio: 'pipe' });
  expect(fs.existsSync(path.join(dataDir, 'project-graph.json'))).toBe(true);
  process.env.NX_WORKSPACE_DATA_DIRECTORY = dataDir;
  process.env.NX_DAEMON = 'false';
  // Required only now, so that Nx picks up the data directory set above.
  const { ESLint: ESLintClass } = require('eslint') as typeof import('eslint');
  const config = require(path.join(ROOT, 'eslint.config.js'));
  eslint = new ESLintClass({ cwd: ROOT, overrideConfigFile: true, overrideConfig: config });
}, 120_000);

afterAll(() => {
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Lints `code` as if it were a source file of `pkg` (`e2e`: a suite of the e2e project); returns the errors of `rule`. */
async function ruleErrors(pkg: string, code: string, rule: string): Promise<string[]> {
  const filePath = pkg === 'e2e' ? path.join(ROOT, 'e2e', 'test', 'probe.ts') : path.join(ROOT, 'packages', pkg, 'src', 'probe.ts');
  const [result] = await eslint.lintText(code, { filePath });
  expect(result.messages.filter((m) => m.fatal)).toEqual([]);
  return result.messages.filter((m) => m.ruleId === rule && m.severity === 2).map((m) => m.message);
}

/** Lints `code` as if it were a source file of `pkg`; returns the boundary-rule errors. */
function boundaryErrors(pkg: string, code: string): Promise<string[]> {
  return ruleErrors(pkg, code, RULE);
}

describe('module boundaries (lint)', () => {
  it.each([
    ['region-core', "import { createHalSim } from '@simpler/hal-sim';\nexport const x = createHalSim;\n", /scope:core.*can only depend on.*scope:abi/],
    ['region-core', "import '@simpler/hal-ascend';\n", /scope:core/],
    ['hal-sim', "import { createWorker } from '@simpler/region-core';\nexport const x = createWorker;\n", /scope:backend.*can only depend on.*scope:abi/],
    ['hal-sim', "import { stub } from '@simpler/hal-stub';\nexport const x = stub;\n", /can only depend on.*scope:abi/],
    ['hal-ascend', "import '@simpler/region-core';\n", /scope:backend/],
    ['region-core', "import koffi from 'koffi';\nexport const x = koffi;\n", /not allowed to import "koffi"/],
    ['abi', "import 'koffi';\n", /not allowed to import "koffi"/],
    ['hal-sim', "import 'koffi';\n", /not allowed to import "koffi"/],
    ['hal-stub', "import 'koffi';\n", /not allowed to import "koffi"/],
    ['region-cli', "import 'koffi';\n", /not allowed to import "koffi"/],
    // e2e has no entry point; a deep import of one of its helpers is what a package could try.
    ['region-core', `import { WORKSPACE_ROOT } from '${E2E_HELPER}';\nexport const x = WORKSPACE_ROOT;\n`, /@simpler\/e2e/],
    ['hal-sim', `import '${E2E_HELPER}';\n`, /@simpler\/e2e/],
    ['region-cli', `import '${E2E_HELPER}';\n`, /@simpler\/e2e/],
    ['e2e', "import 'koffi';\n", /not allowed to import "koffi"/],
    // hal-sim loads shm (lazily): importing hal-sim from shm is a tag violation and a cycle.
    ['shm', "import '@simpler/hal-sim';\n", /scope:shm.*can only depend on.*scope:abi|Circular dependency between "@simpler\/shm" and "@simpler\/hal-sim"/],
    ['shm', "import { createBackend } from '@simpler/hal-stub';\nexport const x = createBackend;\n", /scope:shm.*can only depend on.*scope:abi/],
  ])('%s: forbidden import %j fails lint', async (pkg, code, message) => {
    const errors = await boundaryErrors(pkg, code);
    expect(errors).toEqual([expect.stringMatching(message)]);
  });

  it('shm: importing region-core fails lint (a tag violation, or a cycle once region-core uses shm)', async () => {
    const errors = await boundaryErrors('shm', "import { createWorker } from '@simpler/region-core';\nexport const x = createWorker;\n");
    expect(errors).toEqual([expect.stringMatching(/scope:shm.*can only depend on.*scope:abi|Circular dependency between "@simpler\/shm" and "@simpler\/region-core"/)]);
  });

  it.each([
    ['region-core', "import { ERRNO } from '@simpler/abi';\nexport const x = ERRNO;\n"],
    ['hal-sim', "import { ERRNO } from '@simpler/abi';\nexport const x = ERRNO;\n"],
    ['hal-ascend', "import koffi from 'koffi';\nexport const x = koffi;\n"],
    ['hal-ascend', "import { ERRNO } from '@simpler/abi';\nexport const x = ERRNO;\n"],
    ['region-cli', "import { ERRNO } from '@simpler/abi';\nimport { createWorker } from '@simpler/region-core';\nexport const x = [ERRNO, createWorker];\n"],
    [
      'e2e',
      "import '@simpler/abi';\nimport '@simpler/region-core';\nimport '@simpler/hal-sim';\nimport '@simpler/hal-stub';\nimport '@simpler/hal-ascend';\nimport '@simpler/region-cli';\nimport '@simpler/shm';\n",
    ],
    ['shm', "import koffi from 'koffi';\nimport { ERRNO } from '@simpler/abi';\nexport const x = [koffi, ERRNO];\n"],
    // A type import: region-core loads shm lazily, and Nx forbids static value imports of a lazy-loaded library.
    ['region-core', "import type { SharedMemoryObject } from '@simpler/shm';\nexport type X = SharedMemoryObject;\n"],
    // hal-sim loads shm lazily too (an optional dependency): type imports only.
    ['hal-sim', "import type { SharedMemoryObject } from '@simpler/shm';\nexport type X = SharedMemoryObject;\n"],
  ])('%s: allowed import %j passes lint', async (pkg, code) => {
    expect(await boundaryErrors(pkg, code)).toEqual([]);
  });

  // The koffi ban also holds without a project graph (a plain `eslint` run on one file).
  it.each(['region-core', 'hal-sim', 'hal-stub', 'abi', 'region-cli'])('%s: importing koffi is a restricted import', async (pkg) => {
    expect(await ruleErrors(pkg, "import 'koffi';\n", 'no-restricted-imports')).toEqual([expect.stringContaining('Only @simpler/hal-ascend and @simpler/shm may import koffi')]);
  });

  it.each(['shm', 'hal-ascend'])('%s: importing koffi is not a restricted import', async (pkg) => {
    expect(await ruleErrors(pkg, "import 'koffi';\n", 'no-restricted-imports')).toEqual([]);
  });
});

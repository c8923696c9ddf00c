// Issue 12: a fresh `npm ci` is quiet and deliberate about dependency install scripts.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { WORKSPACE_ROOT } from './fixtures/release-workspace';

interface LockEntry {
  version?: string;
  hasInstallScript?: boolean;
}

const rootManifest = JSON.parse(readFileSync(path.join(WORKSPACE_ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, unknown> };
const lock = JSON.parse(readFileSync(path.join(WORKSPACE_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
const DECISION_HEADING = '## Dependency install scripts';
const decisionsPage = readFileSync(path.join(WORKSPACE_ROOT, 'docs', 'decisions.md'), 'utf8');
/** The section of docs/decisions.md that records the install-script decisions. */
const decisions = decisionsPage.includes(DECISION_HEADING) ? decisionsPage.split(DECISION_HEADING)[1].split('\n## ')[0] : '';

/** Installed package names (from lock-file paths such as `node_modules/a/node_modules/@b/c`). */
function lockName(lockPath: string): string {
  return lockPath.slice(lockPath.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** The package an allowScripts key names (`pkg`, `pkg@1.2.3`, `@scope/pkg@1.2.3`). */
function keyName(key: string): string {
  const at = key.indexOf('@', 1);
  return at < 0 ? key : key.slice(0, at);
}

const withScripts = [...new Set(Object.entries(lock.packages).filter(([p, e]) => p !== '' && e.hasInstallScript).map(([p]) => lockName(p)))].sort();
const policy = rootManifest.allowScripts ?? {};

describe('dependency install scripts (npm allowScripts)', () => {
  it('the lock file lists the packages this decision covers', () => {
    expect(withScripts.length).toBeGreaterThan(0);
  });

  it('every installed package with an install script has an explicit true/false decision in package.json#allowScripts', () => {
    const decided = new Map(Object.entries(policy).map(([key, value]) => [keyName(key), value]));
    expect(withScripts.filter((name) => typeof decided.get(name) !== 'boolean')).toEqual([]);
  });

  it('allowScripts names no package that is not installed with an install script (no stale entries)', () => {
    expect(Object.keys(policy).map(keyName).filter((name) => !withScripts.includes(name))).toEqual([]);
  });

  it('docs/decisions.md gives the reason for each decision, in its install-scripts section', () => {
    expect(withScripts.filter((name) => !decisions.includes(`\`${name}\``))).toEqual([]);
  });

  it('koffi, whose install script is denied, still loads its prebuilt binary', () => {
    const r = spawnSync(process.execPath, ['-e', "require('koffi'); process.stdout.write('ok')"], { cwd: WORKSPACE_ROOT, encoding: 'utf8', timeout: 60_000 });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'ok', stderr: '' });
  });
});

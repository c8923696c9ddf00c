// Issue 7: releases are cut with changesets. In a temporary clone of the repository (with the
// working tree's release configuration laid over it, so uncommitted edits are what is tested),
// `changeset version` must bump @simpler/abi and its dependents as .changeset/config.json says,
// and give every package a CHANGELOG.
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { makeTempDir, PACKAGE_DIRS, PackageDir, removeTempDir, ROOT_BIN, runOk, WORKSPACE_ROOT } from './fixtures/release-workspace';

/** Packages whose versions move together (the `linked` group of .changeset/config.json). */
const LINKED: PackageDir[] = ['abi', 'hal-sim', 'hal-ascend', 'hal-stub'];
/** Packages that depend on @simpler/abi directly. */
const ABI_DEPENDENTS: PackageDir[] = ['shm', 'region-core', 'hal-sim', 'hal-stub', 'hal-ascend', 'region-cli'];

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
}

let work: string;

function pendingChangesets(root: string): string[] {
  return readdirSync(path.join(root, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
}

/** Clones the committed repository and lays the working tree's release files over it. */
function cloneRepository(name: string): string {
  const clone = path.join(work, name);
  runOk('git', ['clone', '--quiet', '--no-hardlinks', WORKSPACE_ROOT, clone], { cwd: work });
  for (const file of pendingChangesets(clone)) rmSync(path.join(clone, '.changeset', file));
  for (const file of [...pendingChangesets(WORKSPACE_ROOT), 'config.json']) {
    copyFileSync(path.join(WORKSPACE_ROOT, '.changeset', file), path.join(clone, '.changeset', file));
  }
  for (const dir of PACKAGE_DIRS) {
    copyFileSync(path.join(WORKSPACE_ROOT, 'packages', dir, 'package.json'), path.join(clone, 'packages', dir, 'package.json'));
  }
  // The changelog generator is resolved from the project; lend it the workspace's installed tools.
  symlinkSync(path.join(WORKSPACE_ROOT, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
  return clone;
}

function changesetVersion(clone: string): void {
  runOk(path.join(ROOT_BIN, 'changeset'), ['version'], { cwd: clone, timeoutMs: 120_000 });
}

function manifest(clone: string, dir: PackageDir): Manifest {
  return JSON.parse(readFileSync(path.join(clone, 'packages', dir, 'package.json'), 'utf8')) as Manifest;
}

function versions(clone: string): Record<PackageDir, string> {
  const out = {} as Record<PackageDir, string>;
  for (const dir of PACKAGE_DIRS) out[dir] = manifest(clone, dir).version;
  return out;
}

function bump(version: string, kind: 'minor' | 'patch'): string {
  const [major, minor, patch] = version.split('.').map(Number);
  return kind === 'minor' ? `${major}.${minor + 1}.0` : `${major}.${minor}.${patch + 1}`;
}

function onlyAbiChangeset(clone: string, kind: 'minor' | 'patch'): void {
  for (const file of pendingChangesets(clone)) rmSync(path.join(clone, '.changeset', file));
  writeFileSync(path.join(clone, '.changeset', `abi-${kind}.md`), `---\n"@simpler/abi": ${kind}\n---\n\nA ${kind} change to the binary ABI.\n`);
}

/** Every dependency on a sibling package is a caret range on the sibling's (new) version. */
function expectInternalRangesCurrent(clone: string): void {
  const byName = new Map(PACKAGE_DIRS.map((d) => [manifest(clone, d).name, manifest(clone, d).version]));
  for (const dir of PACKAGE_DIRS) {
    for (const [dep, range] of Object.entries(manifest(clone, dir).dependencies ?? {})) {
      if (byName.has(dep)) expect({ dir, dep, range }).toEqual({ dir, dep, range: `^${byName.get(dep)}` });
    }
  }
}

beforeAll(() => {
  work = makeTempDir('changesets');
});

afterAll(() => removeTempDir(work));

describe('changeset version in a temporary clone', () => {
  it('a minor (binary layout) change to @simpler/abi moves the linked backends with it and bumps every dependent', () => {
    const clone = cloneRepository('abi-minor');
    const before = versions(clone);
    const e2eManifest = readFileSync(path.join(clone, 'e2e', 'package.json'), 'utf8');
    onlyAbiChangeset(clone, 'minor');
    changesetVersion(clone);
    const after = versions(clone);
    const linkedVersion = bump(before.abi, 'minor');
    for (const dir of LINKED) expect({ dir, version: after[dir] }).toEqual({ dir, version: linkedVersion });
    for (const dir of PACKAGE_DIRS.filter((d) => !LINKED.includes(d))) {
      expect({ dir, version: after[dir] }).toEqual({ dir, version: bump(before[dir], 'patch') });
    }
    for (const dir of ABI_DEPENDENTS) expect(manifest(clone, dir).dependencies?.['@simpler/abi']).toBe(`^${linkedVersion}`);
    expectInternalRangesCurrent(clone);
    for (const dir of PACKAGE_DIRS) {
      const changelog = readFileSync(path.join(clone, 'packages', dir, 'CHANGELOG.md'), 'utf8');
      expect(changelog).toContain(`# ${manifest(clone, dir).name}`);
      expect(changelog).toContain(`## ${after[dir]}`);
    }
    expect(readFileSync(path.join(clone, 'packages', 'abi', 'CHANGELOG.md'), 'utf8')).toContain('A minor change to the binary ABI.');
    expect(readFileSync(path.join(clone, 'packages', 'region-core', 'CHANGELOG.md'), 'utf8')).toContain(`@simpler/abi@${linkedVersion}`);
    // The private e2e project depends on every package, yet is never versioned or released.
    expect(readFileSync(path.join(clone, 'e2e', 'package.json'), 'utf8')).toBe(e2eManifest);
    expect(existsSync(path.join(clone, 'e2e', 'CHANGELOG.md'))).toBe(false);
    expect(pendingChangesets(clone)).toEqual([]);
  });

  it('a patch to @simpler/abi stays inside every caret range: only abi is released', () => {
    const clone = cloneRepository('abi-patch');
    const before = versions(clone);
    onlyAbiChangeset(clone, 'patch');
    changesetVersion(clone);
    const after = versions(clone);
    expect(after).toEqual({ ...before, abi: bump(before.abi, 'patch') });
    expect(existsSync(path.join(clone, 'packages', 'abi', 'CHANGELOG.md'))).toBe(true);
    for (const dir of ABI_DEPENDENTS) expect(existsSync(path.join(clone, 'packages', dir, 'CHANGELOG.md'))).toBe(false);
  });

  it('the pending changesets of the repository cut a release with a CHANGELOG for every package', () => {
    const clone = cloneRepository('pending');
    const pending = pendingChangesets(clone);
    if (pending.length === 0) {
      // Nothing pending: the last release already wrote every CHANGELOG.
      for (const dir of PACKAGE_DIRS) expect({ dir, changelog: existsSync(path.join(clone, 'packages', dir, 'CHANGELOG.md')) }).toEqual({ dir, changelog: true });
      return;
    }
    const named = new Set(pending.flatMap((f) => [...readFileSync(path.join(clone, '.changeset', f), 'utf8').matchAll(/"(@simpler\/[\w-]+)":/g)].map((m) => m[1])));
    const before = versions(clone);
    changesetVersion(clone);
    const after = versions(clone);
    for (const dir of PACKAGE_DIRS) {
      if (named.has(manifest(clone, dir).name)) expect({ dir, released: after[dir] !== before[dir] }).toEqual({ dir, released: true });
      expect({ dir, changelog: existsSync(path.join(clone, 'packages', dir, 'CHANGELOG.md')) }).toEqual({ dir, changelog: true });
    }
    expect(new Set(LINKED.map((d) => after[d])).size).toBe(1);
    expectInternalRangesCurrent(clone);
    expect(pendingChangesets(clone)).toEqual([]);
  });
});

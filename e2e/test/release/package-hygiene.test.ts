// Issue 7: what `npm publish` would upload for each package, and whether its manifest is right.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_DIRS, PackageDir, packageRoot, packDryRun, PackReport, readManifest, run, WORKSPACE_ROOT } from './fixtures/release-workspace';

/** Files every tarball must carry besides its build output. */
const ALWAYS = ['LICENSE', 'README.md', 'package.json'];
/** Extra non-build files a package ships (region-cli's bin must exist before dist/ is built, see its launcher). */
const EXTRA: Partial<Record<PackageDir, string[]>> = { abi: ['abi.json', 'include/simpler/hdmr_abi.h'], 'region-cli': ['bin/simpler-region.js'] };
/** Build output: JavaScript, declarations, and their maps. */
const BUILD_OUTPUT = /^dist\/(?:[\w.-]+\/)*[\w.-]+\.(?:js|d\.ts|js\.map|d\.ts\.map)$/;
/** Runtime dependencies outside the @simpler scope that a package may have. */
const EXTERNAL_DEPS: Record<PackageDir, string[]> = {
  abi: [],
  shm: ['koffi'],
  'region-core': [],
  'hal-sim': [],
  'hal-stub': [],
  'hal-ascend': ['koffi'],
  'region-cli': ['cli-progress', 'commander'],
};

const reports = new Map<PackageDir, PackReport>();

function report(dir: PackageDir): PackReport {
  let r = reports.get(dir);
  if (r === undefined) {
    r = packDryRun(dir);
    reports.set(dir, r);
  }
  return r;
}

function sourceFiles(root: string, under = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(root, under), { withFileTypes: true })) {
    const rel = under === '' ? entry.name : `${under}/${entry.name}`;
    if (entry.isDirectory()) out.push(...sourceFiles(root, rel));
    else if (rel.endsWith('.ts') && !rel.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

describe.each(PACKAGE_DIRS)('@simpler/%s', (dir) => {
  const manifest = readManifest(dir);

  it('packs only build output, README, LICENSE and package.json (abi: also its header and abi.json; region-cli: its bin launcher)', () => {
    const files = report(dir).files.map((f) => f.path);
    const allowed = new Set([...ALWAYS, ...(EXTRA[dir] ?? [])]);
    expect(files.filter((f) => !allowed.has(f) && !BUILD_OUTPUT.test(f))).toEqual([]);
    for (const required of allowed) expect(files).toContain(required);
    expect(files.filter((f) => /(^|\/)(test|tests|__tests__|src)\//.test(f) || /\.tsbuildinfo$|\.test\.|\.spec\./.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('ships no stale build output: every dist/*.js comes from a current src/*.ts', () => {
    const sources = new Set(sourceFiles(path.join(packageRoot(dir), 'src')).map((f) => f.replace(/\.ts$/, '')));
    const stale = report(dir)
      .files.map((f) => f.path)
      .filter((f) => f.startsWith('dist/') && f.endsWith('.js'))
      .filter((f) => !sources.has(f.slice('dist/'.length).replace(/\.js$/, '')));
    // A hit here means a source was renamed or deleted: `rm -rf dist` and rebuild before packing.
    expect(stale).toEqual([]);
  });

  it('has exports with types first, types, main, engines node >= 20 and every entry file packed', () => {
    const files = new Set(report(dir).files.map((f) => f.path));
    const exportsMap = manifest.exports as Record<string, unknown>;
    const root = exportsMap['.'] as Record<string, string>;
    expect(Object.keys(root)[0]).toBe('types');
    expect(root).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(manifest.types).toBe('./dist/index.d.ts');
    expect(manifest.main).toBe('./dist/index.js');
    expect(manifest.type).toBe('commonjs');
    expect(manifest.engines).toEqual({ node: '>=20' });
    expect(exportsMap['./package.json']).toBe('./package.json');
    const targets = Object.values(exportsMap).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t as Record<string, string>)));
    for (const bin of Object.values((manifest.bin as Record<string, string> | undefined) ?? {})) targets.push(bin);
    for (const target of targets) expect(files).toContain(target.replace(/^\.\//, ''));
  });

  it('has the publishing metadata: licence, repository directory, keywords, public access', () => {
    expect(manifest.license).toBe('Apache-2.0');
    expect(manifest.repository).toMatchObject({ type: 'git', directory: `packages/${dir}` });
    expect(Array.isArray(manifest.keywords) && (manifest.keywords as unknown[]).length > 0).toBe(true);
    expect(manifest.publishConfig).toEqual({ access: 'public' });
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.private).toBeUndefined();
  });

  it('depends on sibling packages with a caret range on their current version, and on nothing unexpected', () => {
    const deps = (manifest.dependencies ?? {}) as Record<string, string>;
    for (const [name, range] of Object.entries(deps)) {
      if (!name.startsWith('@simpler/')) continue;
      const sibling = PACKAGE_DIRS.find((d) => readManifest(d).name === name);
      expect({ name, known: sibling !== undefined }).toEqual({ name, known: true });
      expect({ name, range }).toEqual({ name, range: `^${readManifest(sibling as PackageDir).version}` });
    }
    expect(Object.keys(deps).filter((n) => !n.startsWith('@simpler/')).sort()).toEqual([...EXTERNAL_DEPS[dir]].sort());
    expect(manifest.peerDependencies).toBeUndefined();
  });

  it('passes publint in strict mode with no suggestions', () => {
    const cli = path.join(WORKSPACE_ROOT, 'node_modules', 'publint', 'src', 'cli.js');
    const r = run(process.execPath, [cli, 'run', '--strict', '--level', 'suggestion', packageRoot(dir)], { cwd: WORKSPACE_ROOT, timeoutMs: 120_000 });
    expect({ status: r.status, allGood: r.stdout.includes('All good!') }).toEqual({ status: 0, allGood: true });
  });
});

describe('dependency shape of the published set', () => {
  it('only @simpler/hal-ascend, @simpler/shm and the CLI reach koffi directly; region-core depends on abi and shm (its L3 transport), no backend', () => {
    const reaching = PACKAGE_DIRS.filter((d) => {
      const deps = Object.keys((readManifest(d).dependencies ?? {}) as Record<string, string>);
      return deps.includes('koffi') || deps.includes('@simpler/hal-ascend');
    });
    expect(reaching.sort()).toEqual(['hal-ascend', 'region-cli', 'shm']);
    const coreDeps = Object.keys((readManifest('region-core').dependencies ?? {}) as Record<string, string>);
    expect(coreDeps.sort()).toEqual(['@simpler/abi', '@simpler/shm']);
  });

  it('the workspace is these packages plus the private e2e project, which depends on each of them and nothing depends on', () => {
    const rootManifest = JSON.parse(readFileSync(path.join(WORKSPACE_ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
    expect(rootManifest.workspaces).toContain('e2e');
    const dirs = readdirSync(path.join(WORKSPACE_ROOT, 'packages')).filter((d) => existsSync(path.join(WORKSPACE_ROOT, 'packages', d, 'package.json')));
    expect(dirs.sort()).toEqual([...PACKAGE_DIRS].sort());
    const e2e = JSON.parse(readFileSync(path.join(WORKSPACE_ROOT, 'e2e', 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(e2e).toMatchObject({ name: '@simpler/e2e', private: true });
    expect(e2e.publishConfig).toBeUndefined();
    const names = PACKAGE_DIRS.map((d) => readManifest(d).name);
    expect(Object.keys((e2e.devDependencies ?? {}) as Record<string, string>).sort()).toEqual([...names].sort());
    for (const d of PACKAGE_DIRS) {
      const manifest = readManifest(d);
      const sections = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];
      const dependsOnE2e = sections.some((s) => Object.keys((manifest[s] ?? {}) as Record<string, string>).includes('@simpler/e2e'));
      expect({ d, dependsOnE2e }).toEqual({ d, dependsOnE2e: false });
    }
  });

  it('every package has a README and a LICENSE next to its package.json', () => {
    for (const d of PACKAGE_DIRS) {
      expect(existsSync(path.join(packageRoot(d), 'README.md'))).toBe(true);
      expect(existsSync(path.join(packageRoot(d), 'LICENSE'))).toBe(true);
    }
  });
});

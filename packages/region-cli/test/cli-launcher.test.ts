// Issue 12: `npx simpler-region` works in a fresh clone, where dist/ is built after `npm ci`.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const PACKAGE_DIR = path.resolve(__dirname, '..');
const manifest = JSON.parse(readFileSync(path.join(PACKAGE_DIR, 'package.json'), 'utf8')) as { bin: Record<string, string>; version: string };
const launcher = path.join(PACKAGE_DIR, manifest.bin['simpler-region']);

function node(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A throw-away copy of the launcher at `<root>/packages/region-cli/bin/`, with whatever dist the test writes. */
function launcherCopy(): { root: string; bin: string; dist: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'simpler-launcher-'));
  const dir = path.join(root, 'packages', 'region-cli');
  mkdirSync(path.join(dir, 'bin'), { recursive: true });
  const bin = path.join(dir, 'bin', 'simpler-region.js');
  copyFileSync(launcher, bin);
  return { root, bin, dist: path.join(dir, 'dist') };
}

describe('the simpler-region bin', () => {
  it('is a committed, executable node script outside dist/, so npm can link it before the first build', () => {
    expect(manifest.bin['simpler-region']).not.toMatch(/^(\.\/)?dist\//);
    expect(statSync(launcher).mode & 0o111).not.toBe(0);
    expect(readFileSync(launcher, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('is the bin the lock file records, because npm ci links what package-lock.json says', () => {
    const lock = JSON.parse(readFileSync(path.join(PACKAGE_DIR, '..', '..', 'package-lock.json'), 'utf8')) as { packages: Record<string, { bin?: Record<string, string> }> };
    const locked = lock.packages['packages/region-cli'].bin ?? {};
    expect(path.normalize(locked['simpler-region'])).toBe(path.normalize(manifest.bin['simpler-region']));
  });

  it('runs the built CLI with its arguments', () => {
    const r = node([launcher, '--version']);
    expect({ status: r.status, stdout: r.stdout.trim() }).toEqual({ status: 0, stdout: manifest.version });
    const layout = node([launcher, 'layout', '--data-bytes', '100', '--signal-count', '3', '--json']);
    expect({ status: layout.status, stdout: JSON.parse(layout.stdout) as unknown }).toEqual({
      status: 0,
      stdout: { dataBytes: 100, signalCount: 3, signalOffset: 64, dataOffset: 256, totalBytes: 384 },
    });
  });

  it('says how to build, and fails, when dist/ is missing', () => {
    const copy = launcherCopy();
    try {
      const r = node([copy.bin, '--help']);
      expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 1, stdout: '' });
      expect(r.stderr).toContain('the CLI is not built');
      expect(r.stderr).toContain(path.join(copy.dist, 'bin.js'));
      expect(r.stderr).toContain('npm run build');
    } finally {
      rmSync(copy.root, { recursive: true, force: true });
    }
  });

  it('says how to build when a workspace package it loads is not built', () => {
    const copy = launcherCopy();
    try {
      // What Node reports when a sibling's package.json `main` points into a dist/ not built yet.
      const sibling = path.join(copy.root, 'packages', 'region-core', 'dist', 'index.js');
      mkdirSync(copy.dist);
      writeFileSync(path.join(copy.dist, 'bin.js'), `require(${JSON.stringify(sibling)});\n`);
      const r = node([copy.bin, '--help']);
      expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 1, stdout: '' });
      expect(r.stderr).toContain(`(${sibling} is missing)`);
      expect(r.stderr).toContain('npm run build');
    } finally {
      rmSync(copy.root, { recursive: true, force: true });
    }
  });

  it('lets any other load error through unchanged', () => {
    const copy = launcherCopy();
    try {
      mkdirSync(copy.dist);
      writeFileSync(path.join(copy.dist, 'bin.js'), "throw new Error('broken build');\n");
      const r = node([copy.bin]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('broken build');
      expect(r.stderr).not.toContain('npm run build');
    } finally {
      rmSync(copy.root, { recursive: true, force: true });
    }
  });
});

import * as fs from 'node:fs';
import * as path from 'node:path';
import { computeRegionLayout, renderAbiJson, renderCHeader } from '@simpler/abi';
import { expectUsageError, runCli } from './cli-run';

describe('simpler-region layout', () => {
  it.each([
    [4096, 2],
    [1, 1],
    [100, 3],
    [65536, 7],
  ])('--json prints the spec layout for data %d, signals %d', (dataBytes, signalCount) => {
    const r = runCli(['layout', '--data-bytes', String(dataBytes), '--signal-count', String(signalCount), '--json']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const parsed = JSON.parse(r.stdout) as Record<string, number>;
    expect(Object.keys(parsed)).toEqual(['dataBytes', 'signalCount', 'signalOffset', 'dataOffset', 'totalBytes']);
    expect(parsed).toEqual({ ...computeRegionLayout(dataBytes, signalCount) });
  });

  it('computes the documented example values', () => {
    const r = runCli(['layout', '--data-bytes', '100', '--signal-count', '3', '--json']);
    expect(JSON.parse(r.stdout)).toEqual({ dataBytes: 100, signalCount: 3, signalOffset: 64, dataOffset: 256, totalBytes: 384 });
  });

  it('accepts binary size suffixes', () => {
    const r = runCli(['layout', '--data-bytes', '64KiB', '--signal-count', '2', '--json']);
    expect(JSON.parse(r.stdout).dataBytes).toBe(65536);
  });

  it('prints plain key/value lines without colour when piped', () => {
    const r = runCli(['layout', '--data-bytes', '4096', '--signal-count', '2']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('totalBytes   4288');
    expect(r.stdout).not.toContain('\u001b[');
  });

  it.each([
    [['layout', '--data-bytes', '1.5', '--signal-count', '2'], '--data-bytes'],
    [['layout', '--data-bytes', 'abc', '--signal-count', '2'], "'abc'"],
    [['layout', '--data-bytes', '0', '--signal-count', '2'], '--data-bytes'],
    [['layout', '--data-bytes', '-4', '--signal-count', '2'], '--data-bytes'],
    [['layout', '--data-bytes', '64', '--signal-count', '0'], '--signal-count'],
    [['layout', '--data-bytes', '64', '--signal-count', '4294967296'], '--signal-count'],
    [['layout', '--data-bytes', '9007199254740991', '--signal-count', '1'], '--data-bytes'],
    [['layout', '--signal-count', '2'], '--data-bytes'],
    [['layout', '--data-bytes', '64', '--signal-count', '2', '--jsn'], '--jsn'],
    [['layuot'], 'layuot'],
    [[], 'missing command'],
  ])('usage error %j exits 2 with one line naming %s', (args, mentions) => {
    expectUsageError(runCli(args), mentions);
  });
});

describe('simpler-region abi', () => {
  it('--format c prints the generated header, identical to the packaged header file when present', () => {
    const r = runCli(['abi', '--format', 'c']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(renderCHeader());
    expect(r.stdout).toContain('#ifndef SIMPLER_HDMR_ABI_H');
    const candidates = [
      path.resolve(__dirname, '../../abi/include/simpler/hdmr_abi.h'),
      path.resolve(__dirname, '../../../include/simpler/hdmr_abi.h'),
    ];
    for (const file of candidates.filter((f) => fs.existsSync(f))) expect(r.stdout).toBe(fs.readFileSync(file, 'utf8'));
  });

  it('--format json prints the ABI description as JSON', () => {
    const r = runCli(['abi', '--format', 'json']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(renderAbiJson());
    const abi = JSON.parse(r.stdout) as { structs: { name: string; size: number }[] };
    expect(abi.structs.map((s) => s.size)).toEqual(expect.arrayContaining([16, 64, 4096]));
  });

  it('rejects an unknown format with exit 2', () => {
    expectUsageError(runCli(['abi', '--format', 'xml']), 'xml');
  });
});

describe('simpler-region conventions', () => {
  it('--version prints the package version', () => {
    const r = runCli(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe((require('../package.json') as { version: string }).version);
  });

  it.each(['layout', 'abi', 'roundtrip', 'bench', 'doctor', 'inspect', 'child'])('%s --help documents the command and exits 0', (cmd) => {
    const r = runCli([cmd, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Usage: simpler-region ${cmd}`);
  });

  it('--help lists every command', () => {
    const r = runCli(['--help']);
    expect(r.status).toBe(0);
    for (const cmd of ['layout', 'abi', 'roundtrip', 'bench', 'doctor', 'inspect', 'child']) expect(r.stdout).toContain(cmd);
  });
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REGION_MAGIC } from '@simpler/abi';
import { expectUsageError, runCli } from './cli-run';

describe('simpler-region doctor', () => {
  it('exits 0 with the simulator as the embedded default, after a self-test', () => {
    const r = runCli(['doctor']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('@simpler/hal-sim');
    expect(r.stdout).toMatch(/Selected\s+@simpler\/hal-sim\s+\(default: /);
    expect(r.stdout).toMatch(/Self-test 20\/20 round trips verified/);
    expect(r.stdout).toMatch(/OK\s+@simpler\/hal-sim can open a region/);
    expect(r.stdout).toMatch(/L3 access direct: the parent maps level-3 regions/);
  });

  it('says level-3 regions are proxied, and why, for simulator memory that cannot be shared (exit 0)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simpler-cli-doctor-'));
    try {
      const config = path.join(dir, 'sab.json');
      fs.writeFileSync(config, JSON.stringify({ backend: '@simpler/hal-sim', backendOptions: { memory: 'sab' } }));
      const r = runCli(['doctor', '--config', config], { cwd: dir });
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/L3 access proxied: @simpler\/hal-sim: the memory of region \d+ cannot be shared with another process; every datacopy, notify and wait is a request to the chip child/);
      expect(r.stdout).not.toMatch(/access 'direct' is not available/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 with the stub, naming ENOTSUP and the next step', () => {
    const r = runCli(['doctor', '--backend', '@simpler/hal-stub']);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/Selected\s+@simpler\/hal-stub\s+\(flag: /);
    expect(r.stdout).toMatch(/FAIL\s+ENOTSUP: /);
    expect(r.stdout).toMatch(/Next step: .*--backend @simpler\/hal-sim/);
  });

  it('shows the Ascend capability report and fails with EIO when the libraries are missing', () => {
    const r = runCli(['doctor', '--backend', '@simpler/hal-ascend'], { env: { SIMPLER_ASCEND_HAL_LIB: '/nonexistent/libascend_hal.so', SIMPLER_ASCEND_RT_LIB: '/nonexistent/libascendcl.so' } });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('Ascend capabilities');
    expect(r.stdout).toMatch(/driver library\s+not found/);
    expect(r.stdout).toMatch(/FAIL\s+EIO: /);
    expect(r.stdout).toContain('SIMPLER_ASCEND_HAL_LIB');
  });

  it('explains selection by SIMPLER_REGION_BACKEND, config file and --config', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simpler-cli-doctor-'));
    try {
      fs.writeFileSync(path.join(dir, 'simpler-region.config.json'), JSON.stringify({ backend: '@simpler/hal-stub' }));
      const fromConfig = runCli(['doctor'], { cwd: dir });
      expect(fromConfig.status).toBe(1);
      expect(fromConfig.stdout).toMatch(/Selected\s+@simpler\/hal-stub\s+\(config: "backend" in .*simpler-region.config.json\)/);
      expect(fromConfig.stdout).toMatch(/resolves from the CLI/);

      const fromEnv = runCli(['doctor'], { cwd: dir, env: { SIMPLER_REGION_BACKEND: '@simpler/hal-sim' } });
      expect(fromEnv.status).toBe(0);
      expect(fromEnv.stdout).toMatch(/\(env: SIMPLER_REGION_BACKEND=@simpler\/hal-sim/);

      const other = path.join(dir, 'other.json');
      fs.writeFileSync(other, JSON.stringify({ backend: '@simpler/hal-sim', backendOptions: { platform: 'a5sim' } }));
      const fromFlag = runCli(['doctor', '--config', other], { cwd: dir });
      expect(fromFlag.status).toBe(0);
      expect(fromFlag.stdout).toMatch(/\(config: "backend" in .*other.json \(--config\)\)/);
      expect(fromFlag.stdout).toContain('"platform":"a5sim"');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 with an install hint when the selected module does not resolve', () => {
    const r = runCli(['doctor'], { env: { SIMPLER_REGION_BACKEND: '@simpler/not-installed' } });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('npm install @simpler/not-installed');
  });
});

describe('simpler-region inspect', () => {
  it('--json shows the header read from region memory, signals and the written data', () => {
    const r = runCli(['inspect', '--json', '--data-bytes', '100', '--signal-count', '3', '--write-hex', 'deadbeef', '--offset', '4', '--notify', '0:7', '--notify', '2:3']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.header).toEqual({ magic: REGION_MAGIC, version: 1, flags: 0, signalCount: 3, signalOffset: 64, dataOffset: 256, dataBytes: 100, totalBytes: 384, reservedZero: true });
    expect(report.signals).toEqual([7, 0, 3]);
    expect(report.data).toEqual({ offset: 0, length: 100, hex: '00000000deadbeef' + '00'.repeat(92) });
    expect(report.deviceDataPtr).toMatch(/^0x[0-9a-f]+$/);
    expect(BigInt(report.deviceDataPtr) - BigInt(report.deviceSignalPtr)).toBe(192n);
    expect(report).toMatchObject({ level: 2, access: 'direct' });
    expect(report.layout).toBeUndefined();
  });

  it.each([
    [[], 'direct', 'shm'],
    [['--access', 'proxied', '--transport', 'pipe'], 'proxied', 'pipe'],
    [['--access', 'direct', '--transport', 'pipe'], 'direct', 'pipe'],
  ])('--level 3 %j: a chip child owns the region; access %s over %s, signals found by probes', (extra, access, transport) => {
    const r = runCli(['inspect', '--level', '3', '--json', '--data-bytes', '100', '--signal-count', '3', '--write-hex', 'deadbeef', '--offset', '4', '--notify', '0:7', '--notify', '2:4294967295', ...extra]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ backend: '@simpler/hal-sim', platform: 'a2a3sim', level: 3, transport, access });
    expect(report.header).toBeUndefined();
    expect(report.layout).toEqual({ signalCount: 3, signalOffset: 64, dataOffset: 256, dataBytes: 100, totalBytes: 384 });
    expect(report.signals).toEqual([7, 0, 4294967295]);
    expect(report.data).toEqual({ offset: 0, length: 100, hex: '00000000deadbeef' + '00'.repeat(92) });
    expect(BigInt(report.deviceDataPtr) - BigInt(report.deviceSignalPtr)).toBe(192n);
  });

  it('--level 3 prints the access mode and the computed layout', () => {
    const r = runCli(['inspect', '--level', '3', '--notify', '1:5', '--max-bytes', '16']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^region on @simpler\/hal-sim \(a2a3sim\), device 0, level 3 \((shm|pipe)\)\naccess: direct  \(/);
    expect(r.stdout).toMatch(/layout \(computed from the region info/);
    expect(r.stdout).toMatch(/\[1\]\s+5/);
    expect(r.stdout).not.toContain('magic');
  });

  it('level 2 prints access: direct', () => {
    const r = runCli(['inspect', '--max-bytes', '0']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^region on .*, level 2\naccess: direct  \(/);
  });

  it('--level 3 --access direct is ENOTSUP where the backend cannot share its memory (exit 1)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simpler-cli-inspect-'));
    try {
      fs.writeFileSync(path.join(dir, 'simpler-region.config.json'), JSON.stringify({ backend: '@simpler/hal-sim', backendOptions: { memory: 'sab' } }));
      const forced = runCli(['inspect', '--level', '3', '--access', 'direct'], { cwd: dir });
      expect(forced.status).toBe(1);
      expect(forced.stderr).toMatch(/^simpler-region: ENOTSUP: worker 0: access 'direct' is not available: .*cannot be shared/);
      const fallback = runCli(['inspect', '--level', '3', '--json', '--max-bytes', '0'], { cwd: dir });
      expect(fallback.status).toBe(0);
      expect(JSON.parse(fallback.stdout).access).toBe('proxied');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--level 3: a decreasing notify is EINVAL and the stub is ENOTSUP (exit 1)', () => {
    const decreasing = runCli(['inspect', '--level', '3', '--notify', '0:5', '--notify', '0:4']);
    expect(decreasing.status).toBe(1);
    expect(decreasing.stderr).toMatch(/^simpler-region: EINVAL: .*monotonic/);
    const stub = runCli(['inspect', '--level', '3', '--backend', '@simpler/hal-stub']);
    expect(stub.status).toBe(1);
    expect(stub.stderr).toMatch(/^simpler-region: ENOTSUP: /);
  });

  it('writes a file and prints a readable hex view', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simpler-cli-inspect-'));
    try {
      fs.writeFileSync(path.join(dir, 'msg.txt'), 'hello region');
      const r = runCli(['inspect', '--write-file', 'msg.txt', '--offset', '16', '--notify', '1:1', '--max-bytes', '64'], { cwd: dir });
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/magic\s+0x48444d52 "HDMR"/);
      expect(r.stdout).toMatch(/\[1\]\s+1/);
      expect(r.stdout).toContain('|hello region....|');
      expect(r.stdout).toContain('first 64 of 4096 bytes');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [['--write-hex', 'abc'], '--write-hex'],
    [['--write-hex', '00', '--write-file', 'x'], '--write-file'],
    [['--notify', '2:1'], '--notify'],
    [['--notify', '0'], '--notify'],
    [['--write-hex', '0000', '--offset', '4095'], '--offset'],
    [['--write-file', '/nonexistent/file'], '--write-file'],
    [['--access', 'proxied'], '--access proxied'],
    [['--level', '3', '--access', 'remote'], '--access'],
    [['--transport', 'pipe'], '--transport'],
    [['--level', '4'], '--level'],
  ])('usage error %j exits 2 naming %s', (args, flag) => {
    expectUsageError(runCli(['inspect', ...args]), flag);
  });

  it('a decreasing notify is the core\'s EINVAL, exit 1', () => {
    const r = runCli(['inspect', '--notify', '0:5', '--notify', '0:4']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^simpler-region: EINVAL: .*monotonic/);
  });

  it('exits 1 with ENOTSUP on the stub', () => {
    const r = runCli(['inspect', '--backend', '@simpler/hal-stub']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^simpler-region: ENOTSUP: /);
  });
});

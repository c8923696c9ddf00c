import { expectUsageError, runCli } from './cli-run';

interface RoundtripJson {
  ok: boolean;
  backend: string;
  platform: string;
  level: number;
  transport?: string;
  iters: number;
  dataBytes: number;
  latencyUs: { p50: number; p99: number; max: number };
  devices?: { deviceId: number; verified: number }[];
}

function parseReport(stdout: string): RoundtripJson {
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as RoundtripJson;
}

describe('simpler-region roundtrip', () => {
  it('--json --iters 50 verifies every iteration on the simulator at L2', () => {
    const r = runCli(['roundtrip', '--json', '--iters', '50']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = parseReport(r.stdout);
    expect(Object.keys(report).slice(0, 7)).toEqual(['ok', 'backend', 'platform', 'level', 'iters', 'dataBytes', 'latencyUs']);
    expect(report).toMatchObject({ ok: true, backend: '@simpler/hal-sim', platform: 'a2a3sim', level: 2, iters: 50, dataBytes: 4096 });
    expect(Object.keys(report.latencyUs)).toEqual(['p50', 'p99', 'max']);
    expect(report.latencyUs.p50).toBeGreaterThan(0);
    expect(report.latencyUs.p50).toBeLessThanOrEqual(report.latencyUs.p99);
    expect(report.latencyUs.p99).toBeLessThanOrEqual(report.latencyUs.max);
  });

  it('--level 3 --device-ids 0,1 runs both chip children concurrently and verifies every iteration', () => {
    const r = runCli(['roundtrip', '--json', '--iters', '50', '--level', '3', '--device-ids', '0,1']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = parseReport(r.stdout);
    expect(report).toMatchObject({ ok: true, backend: '@simpler/hal-sim', platform: 'a2a3sim', level: 3, iters: 50 });
    expect(report.devices).toEqual([
      expect.objectContaining({ deviceId: 0, verified: 50 }),
      expect.objectContaining({ deviceId: 1, verified: 50 }),
    ]);
  });

  it.each(['shm', 'pipe'])('--level 3 --transport %s names the transport and verifies every iteration', (transport) => {
    const r = runCli(['roundtrip', '--json', '--iters', '30', '--level', '3', '--transport', transport]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = parseReport(r.stdout);
    expect(Object.keys(report).slice(0, 6)).toEqual(['ok', 'backend', 'platform', 'level', 'transport', 'iters']);
    expect(report).toMatchObject({ ok: true, level: 3, transport, iters: 30 });
    const text = runCli(['roundtrip', '--iters', '5', '--level', '3', '--transport', transport]);
    expect(text.stdout).toContain(`level 3 (${transport})`);
  });

  it('--transport is a usage error at level 2, and an unknown transport anywhere', () => {
    expectUsageError(runCli(['roundtrip', '--transport', 'shm']), '--transport');
    expectUsageError(runCli(['roundtrip', '--level', '3', '--transport', 'tcp']), '--transport');
  });

  it('--level 3 on the stub fails with ENOTSUP (exit 1)', () => {
    const r = runCli(['roundtrip', '--json', '--iters', '2', '--level', '3', '--backend', '@simpler/hal-stub']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^simpler-region: ENOTSUP: /);
  });

  it('honours --platform, --data-bytes (1 byte and 1 MiB) and reports them', () => {
    const small = parseReport(runCli(['roundtrip', '--json', '--iters', '5', '--data-bytes', '1', '--platform', 'a5sim']).stdout);
    expect(small).toMatchObject({ ok: true, platform: 'a5sim', dataBytes: 1, iters: 5 });
    const big = runCli(['roundtrip', '--json', '--iters', '3', '--data-bytes', '1MiB']);
    expect(big.status).toBe(0);
    expect(parseReport(big.stdout)).toMatchObject({ ok: true, dataBytes: 1048576 });
  });

  it('chooses the backend from SIMPLER_REGION_BACKEND when no flag is given', () => {
    const r = runCli(['roundtrip', '--json', '--iters', '2'], { env: { SIMPLER_REGION_BACKEND: '@simpler/hal-stub' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^simpler-region: ENOTSUP: /);
  });

  it('prints a plain summary without bar frames or colour when piped', () => {
    const r = runCli(['roundtrip', '--iters', '20']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^roundtrip ok: 20\/20 iterations verified on @simpler\/hal-sim \(a2a3sim\), level 2/);
    expect(r.stdout).toMatch(/latency \(us\): p50 [\d.]+ {2}p99 [\d.]+ {2}max [\d.]+/);
    expect(r.stdout + r.stderr).not.toContain('\u001b[');
    expect(r.stderr).toBe('');
  });

  it('--backend @simpler/hal-stub exits 1 with ENOTSUP on one line and no stack', () => {
    const r = runCli(['roundtrip', '--backend', '@simpler/hal-stub', '--iters', '3']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^simpler-region: ENOTSUP: .+/);
  });

  it('--verbose adds the stack trace of a runtime failure', () => {
    const r = runCli(['roundtrip', '--backend', '@simpler/hal-stub', '--iters', '3', '--verbose']);
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(/^simpler-region: ENOTSUP: /);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('an unknown backend module is a runtime failure with its code', () => {
    const r = runCli(['roundtrip', '--backend', '@simpler/no-such-backend', '--iters', '1']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^simpler-region: EINVAL: .*no-such-backend/);
  });

  it.each([
    [['--iters', '1.5'], '--iters'],
    [['--iters', 'abc'], '--iters'],
    [['--iters', '0'], '--iters'],
    [['--iters', '1e3'], '--iters'],
    [['--level', '4'], '--level'],
    [['--level', '1'], '--level'],
    [['--data-bytes', '-1'], '--data-bytes'],
    [['--timeout-us', '4294967296'], '--timeout-us'],
    [['--device-ids', '0,x'], '--device-ids'],
    [['--device-ids', '0,0'], '--device-ids'],
    [['--device-ids', '0,1'], '--device-ids'],
    [['--config', '/nonexistent/simpler.json'], '--config'],
    [['--bogus'], '--bogus'],
  ])('usage error %j exits 2 naming %s', (args, flag) => {
    expectUsageError(runCli(['roundtrip', ...args]), flag);
  });
});

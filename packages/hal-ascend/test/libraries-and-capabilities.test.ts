import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ascendCapabilities, ascendQuarantine, createBackend, hostOrderingSupport, librarySearch } from '../src';
import { buildDriverDouble } from './driver-double/build-driver-double';
import { openDriverDoubleControl } from './driver-double/driver-double-control';
import { DoubleFixture, buildFixture, describeWithDouble, expectNothingHeld, thrown } from './fixture';

const ENV_KEYS = ['SIMPLER_ASCEND_HAL_LIB', 'SIMPLER_ASCEND_RT_LIB', 'ASCEND_HOME_PATH'] as const;

/** Runs `fn` with the given environment variables set (undefined = unset), then restores them. */
function withEnv<T>(vars: Partial<Record<(typeof ENV_KEYS)[number], string | undefined>>, fn: () => T): T {
  const saved = ENV_KEYS.map((k) => [k, process.env[k]] as const);
  try {
    for (const k of ENV_KEYS) {
      const v = vars[k];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    return fn();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('library search order', () => {
  it('uses the option first, then the environment variable, with no fallback', () => {
    expect(librarySearch('hal', '/opt/x/libascend_hal.so', { SIMPLER_ASCEND_HAL_LIB: '/env/hal.so' })).toEqual({
      explicit: true,
      candidates: ['/opt/x/libascend_hal.so'],
    });
    expect(librarySearch('hal', undefined, { SIMPLER_ASCEND_HAL_LIB: '/env/hal.so' })).toEqual({ explicit: true, candidates: ['/env/hal.so'] });
    expect(librarySearch('runtime', undefined, { SIMPLER_ASCEND_RT_LIB: '/env/rt.so' })).toEqual({ explicit: true, candidates: ['/env/rt.so'] });
  });

  it('falls back to the CANN locations and then the loader, libascendcl before libacl_rt', () => {
    expect(librarySearch('hal', undefined, {}).candidates).toEqual([
      '/usr/local/Ascend/driver/lib64/driver/libascend_hal.so',
      '/usr/local/Ascend/driver/lib64/libascend_hal.so',
      'libascend_hal.so',
    ]);
    expect(librarySearch('runtime', undefined, { ASCEND_HOME_PATH: '/cann' }).candidates).toEqual([
      '/cann/lib64/libascendcl.so',
      '/cann/lib64/libacl_rt.so',
      '/usr/local/Ascend/ascend-toolkit/latest/lib64/libascendcl.so',
      '/usr/local/Ascend/ascend-toolkit/latest/lib64/libacl_rt.so',
      'libascendcl.so',
      'libacl_rt.so',
    ]);
  });

  it('rejects a library option that is not a path string with EINVAL', () => {
    expect(() => librarySearch('hal', 42, {})).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(() => createBackend({ deviceId: 0, halLibrary: '' })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });
});

describe('options and host ordering', () => {
  it.each([[-1], [1.5], ['0'], [2 ** 31], [undefined]])('rejects deviceId %p with EINVAL', (deviceId) => {
    expect(() => createBackend({ deviceId } as never)).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringContaining('deviceId') }));
  });

  it('rejects the a5 platform with ENOTSUP and unknown platforms with EINVAL', () => {
    expect(() => createBackend({ deviceId: 0, platform: 'a5' })).toThrow(expect.objectContaining({ code: 'ENOTSUP' }));
    expect(() => createBackend({ deviceId: 0, platform: 'a2a3sim' })).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('refuses hosts other than x64/arm64 with ENOTSUP before loading anything', () => {
    const e = thrown(() => createBackend({ deviceId: 0, arch: 'ia32', halLibrary: '/nonexistent/hal.so' }));
    expect(e).toMatchObject({ name: 'UnsupportedError', code: 'ENOTSUP', message: expect.stringContaining('ia32') });
    expect(hostOrderingSupport('x64').supported).toBe(true);
    expect(hostOrderingSupport('ia32').supported).toBe(false);
    // Without the runtime's answer an aarch64 host cannot be judged, so it is not supported.
    expect(hostOrderingSupport('arm64')).toMatchObject({ supported: false, reason: expect.stringMatching(/aarch64.*cache clean\/invalidate/) });
  });
});

describeWithDouble('loading the libraries', () => {
  let fx: DoubleFixture;

  beforeAll(() => {
    fx = buildFixture();
  });

  afterEach(() => {
    expectNothingHeld(fx.dd);
    expect(fx.dd.aclInitialized()).toBe(0);
  });

  it('a missing driver library → EIO naming the path and the loader message', () => {
    const path = join(tmpdir(), 'simpler-no-such-dir', 'libascend_hal.so');
    const e = thrown(() => createBackend({ deviceId: 0, halLibrary: path, runtimeLibrary: fx.runtimePath }));
    expect(e).toMatchObject({ name: 'BackendError', code: 'EIO' });
    expect(e.message).toContain(path);
    expect(e.message).toContain('No such file');
  });

  it('a missing runtime library → EIO naming the path', () => {
    const path = join(tmpdir(), 'simpler-no-such-dir', 'libascendcl.so');
    const e = thrown(() => createBackend({ deviceId: 0, halLibrary: fx.halPath, runtimeLibrary: path }));
    expect(e).toMatchObject({ code: 'EIO', message: expect.stringContaining(path) });
  });

  // On a machine with CANN installed the default search would succeed.
  const itWithoutCann = existsSync('/usr/local/Ascend') ? it.skip : it;

  itWithoutCann('nothing found on the default search → EIO listing every place tried', () => {
    const e = withEnv({}, () => thrown(() => createBackend({ deviceId: 0 })));
    expect(e).toMatchObject({ code: 'EIO' });
    expect(e.message).toContain('/usr/local/Ascend/driver/lib64/driver/libascend_hal.so (not found)');
    expect(e.message).toContain('libascend_hal.so (');
    expect(e.message).toContain('SIMPLER_ASCEND_HAL_LIB');
  });

  it('finds both libraries through SIMPLER_ASCEND_HAL_LIB and SIMPLER_ASCEND_RT_LIB', () => {
    const backend = withEnv({ SIMPLER_ASCEND_HAL_LIB: fx.halPath, SIMPLER_ASCEND_RT_LIB: fx.runtimePath }, () => createBackend({ deviceId: 0 }));
    expect(backend.halPath).toBe(fx.halPath);
    expect(backend.runtimePath).toBe(fx.runtimePath);
    backend.destroy();
  });

  it('finds libacl_rt.so under ASCEND_HOME_PATH/lib64 when libascendcl.so is absent', () => {
    const home = mkdtempSync(join(tmpdir(), 'simpler-cann-home-'));
    const build = buildDriverDouble(join(home, 'lib64'), { runtimeFileName: 'libacl_rt.so' });
    const dd = openDriverDoubleControl(build.controlPath);
    const backend = withEnv({ SIMPLER_ASCEND_HAL_LIB: build.halPath, ASCEND_HOME_PATH: home }, () => createBackend({ deviceId: 0 }));
    expect(backend.runtimePath).toBe(join(home, 'lib64', 'libacl_rt.so'));
    backend.allocate(64).release();
    backend.destroy();
    expectNothingHeld(dd);
  });

  it.each([
    ['halHostRegister', 'driver', 'halPath'],
    ['halHostUnregister', 'driver', 'halPath'],
    ['aclrtMalloc', 'runtime', 'runtimePath'],
    ['aclrtResetDevice', 'runtime', 'runtimePath'],
  ] as const)('a library built without %s → EIO naming the symbol and the library', (symbol, label, pathKey) => {
    const variant = buildFixture({ omit: [symbol] });
    const e = thrown(() => createBackend({ deviceId: 0, ...variant.libs }));
    expect(e).toMatchObject({ code: 'EIO' });
    expect(e.message).toBe(`symbol ${symbol} is missing from the Ascend ${label} library ${variant[pathKey]}`);
    expect(variant.dd.calls()).toEqual([]); // refused before any call
  });

  it('works without the optional halHostUnregisterEx', () => {
    const variant = buildFixture({ omit: ['halHostUnregisterEx'] });
    const backend = createBackend({ deviceId: 0, ...variant.libs });
    backend.allocate(4096).release();
    backend.destroy();
    expectNothingHeld(variant.dd);
    expect(ascendCapabilities(variant.libs).symbols.halHostUnregisterEx).toBe(false);
  });

  it('reports capabilities: libraries, symbols, device count, platform', () => {
    fx.dd.setDeviceCount(3);
    const caps = ascendCapabilities(fx.libs);
    expect(caps).toEqual({
      platform: `${process.platform}/${process.arch}`,
      ordering: hostOrderingSupport(process.arch, { aclrtMemFlush: true, aclrtMemInvalidate: true }),
      halLibrary: { path: fx.halPath, found: true },
      runtimeLibrary: { path: fx.runtimePath, found: true },
      symbols: {
        halHostRegister: true,
        halHostUnregister: true,
        halHostUnregisterEx: true,
        aclInit: true,
        aclrtSetDevice: true,
        aclrtGetDeviceCount: true,
        aclrtMalloc: true,
        aclrtFree: true,
        aclrtResetDevice: true,
        aclFinalize: true,
        aclrtGetLogicDevIdByUserDevId: true,
        aclrtMemFlush: true,
        aclrtMemInvalidate: true,
      },
      deviceCount: 3,
      deviceIds: { conversion: 'aclrtGetLogicDevIdByUserDevId', reason: expect.stringContaining('logical id') },
      quarantine: ascendQuarantine(),
      errors: hostOrderingSupport(process.arch, { aclrtMemFlush: true, aclrtMemInvalidate: true }).supported
        ? []
        : [hostOrderingSupport(process.arch, { aclrtMemFlush: true, aclrtMemInvalidate: true }).reason],
    });
    fx.dd.setDeviceCount(2);
  });

  it('reports what is missing instead of throwing', () => {
    const missing = join(tmpdir(), 'simpler-no-such-dir', 'libascend_hal.so');
    const caps = ascendCapabilities({ halLibrary: missing, runtimeLibrary: fx.runtimePath, arch: 'arm64' });
    expect(caps.platform).toBe(`${process.platform}/arm64`);
    expect(caps.halLibrary).toMatchObject({ path: null, found: false, error: expect.stringContaining(missing) });
    expect(caps.runtimeLibrary.found).toBe(true);
    expect(caps.symbols.halHostRegister).toBe(false);
    expect(caps.symbols.aclrtMalloc).toBe(true);
    expect(caps.deviceIds.conversion).toBe('aclrtGetLogicDevIdByUserDevId');
    // The runtime exports aclrtMemFlush/aclrtMemInvalidate, so arm64 ordering is available.
    expect(caps.ordering).toMatchObject({ supported: true, cacheMaintenance: true });
    expect(caps.errors).toHaveLength(1);
    const noRuntime = ascendCapabilities({ halLibrary: fx.halPath, runtimeLibrary: missing, arch: 'arm64' });
    expect(noRuntime.ordering.supported).toBe(false);
    expect(noRuntime.deviceIds.conversion).toBe('unknown');
    expect(noRuntime.errors).toHaveLength(2);
    fx.dd.failNext('aclrtGetDeviceCount', 107000);
    const failed = ascendCapabilities(fx.libs);
    expect(failed.deviceCount).toBeNull();
    expect(failed.errors.join()).toContain('aclrtGetDeviceCount failed with return code 107000');
    expect(() => ascendCapabilities({ halLibrary: 42 } as never)).not.toThrow();
    expect(() => ascendCapabilities(null as never)).not.toThrow();
  });
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKEND_ABI_VERSION, BackendOptions, RegionBackend } from '@simpler/abi';
import {
  BACKEND_CONFIG_FILE,
  BACKEND_ENV_VAR,
  BackendError,
  InvalidArgumentError,
  createWorker,
  loadBackend,
  resolveBackendChoice,
} from '../src';
import { createTestBackend } from './support/recording-backend';

const MODULE_SOURCE = `
exports.BACKEND_NAME = 'my-backend';
exports.createBackend = (options) => ({
  name: options.nameOverride || 'my-backend',
  abiVersion: 1,
  platform: options.platform || 'tmp-platform',
  deviceId: options.deviceId,
  receivedOptions: options,
  allocate(n) {
    const bytes = new Uint8Array(new SharedArrayBuffer(n));
    return { bytes, hostBase: 0n, deviceBase: 0x1000n, release() {} };
  },
  destroy() {},
});
`;

let project: string;
let empty: string;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'region-core-project-'));
  const dir = join(project, 'node_modules', 'my-backend');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'my-backend', main: 'index.js' }));
  writeFileSync(join(dir, 'index.js'), MODULE_SOURCE);
  const notBackend = join(project, 'node_modules', 'not-a-backend');
  mkdirSync(notBackend, { recursive: true });
  writeFileSync(join(notBackend, 'index.js'), 'exports.hello = 1;');
  const broken = join(project, 'node_modules', 'broken-backend');
  mkdirSync(broken, { recursive: true });
  writeFileSync(join(broken, 'index.js'), 'throw new Error("cannot load native addon");');
  empty = mkdtempSync(join(tmpdir(), 'region-core-empty-'));
});

afterAll(() => {
  rmSync(project, { recursive: true, force: true });
  rmSync(empty, { recursive: true, force: true });
});

function writeConfig(dir: string, text: string): void {
  writeFileSync(join(dir, BACKEND_CONFIG_FILE), text);
}

describe('resolveBackendChoice', () => {
  it('prefers the option, then the env var, then the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'region-core-cfg-'));
    writeConfig(dir, JSON.stringify({ backend: 'from-config', backendOptions: { platform: 'a5sim', depth: 2 } }));
    const env = { [BACKEND_ENV_VAR]: 'from-env' };
    expect(resolveBackendChoice({ backend: 'from-option' }, env, dir)).toEqual({ source: 'option', backend: 'from-option', backendOptions: {} });
    expect(resolveBackendChoice({ backendOptions: { x: 1 } }, env, dir)).toEqual({ source: 'env', backend: 'from-env', backendOptions: { x: 1 } });
    expect(resolveBackendChoice({ backendOptions: { depth: 3 } }, {}, dir)).toEqual({
      source: 'config',
      backend: 'from-config',
      backendOptions: { platform: 'a5sim', depth: 3 },
      configFile: join(dir, BACKEND_CONFIG_FILE),
    });
    expect(resolveBackendChoice({}, { [BACKEND_ENV_VAR]: '  ' }, empty)).toEqual({ source: 'none', backend: undefined, backendOptions: {} });
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['malformed JSON', '{ "backend": '],
    ['a non-object', '["@simpler/hal-sim"]'],
    ['a missing backend', '{ "backendOptions": {} }'],
    ['a non-string backend', '{ "backend": 7 }'],
    ['non-object backendOptions', '{ "backend": "x", "backendOptions": 3 }'],
  ])('a config file with %s is EINVAL naming the file', (_label, text) => {
    const dir = mkdtempSync(join(tmpdir(), 'region-core-bad-'));
    writeConfig(dir, text);
    let error: unknown;
    try {
      resolveBackendChoice({}, {}, dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toContain(join(dir, BACKEND_CONFIG_FILE));
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects non-object backendOptions', () => {
    expect(() => resolveBackendChoice({ backend: 'x', backendOptions: 'fast' as never }, {}, empty)).toThrow(InvalidArgumentError);
  });
});

describe('loadBackend', () => {
  it('with no choice at all says how to install and choose a backend', async () => {
    const error = await loadBackend({}, {}, empty).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    const message = (error as Error).message;
    expect(message).toContain('npm install @simpler/hal-sim');
    expect(message).toContain(BACKEND_ENV_VAR);
    expect(message).toContain(BACKEND_CONFIG_FILE);
  });

  it('accepts an instance as is', async () => {
    const t = createTestBackend();
    expect(await loadBackend({ backend: t.backend }, {}, empty)).toBe(t.backend);
  });

  it('calls a factory with deviceId, platform and backendOptions', async () => {
    let received: BackendOptions | undefined;
    const factory = async (options: BackendOptions): Promise<RegionBackend> => {
      received = options;
      return createTestBackend().backend;
    };
    await loadBackend({ backend: factory, backendOptions: { platform: 'a5sim', depth: 4 }, deviceId: 2 }, {}, empty);
    expect(received).toEqual({ platform: 'a5sim', depth: 4, deviceId: 2 });
    await loadBackend({ backend: factory, backendOptions: { platform: 'a5sim' }, platform: 'a2a3sim' }, {}, empty);
    expect(received).toEqual({ platform: 'a2a3sim', deviceId: 0 });
  });

  it('checks a module object name against BACKEND_NAME and destroys a rejected backend', async () => {
    const t = createTestBackend({ name: 'impostor' });
    const error = await loadBackend({ backend: { BACKEND_NAME: '@simpler/hal-sim', createBackend: () => t.backend } }, {}, empty).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as Error).message).toMatch(/@simpler\/hal-sim.*impostor/);
    expect(t.destroyed).toBe(1);
    const ok = createTestBackend({ name: 'fine' });
    expect(await loadBackend({ backend: { BACKEND_NAME: 'fine', createBackend: () => ok.backend } }, {}, empty)).toBe(ok.backend);
  });

  it('rejects a backend of another ABI version with a clear error', async () => {
    const wrong = { ...createTestBackend().backend, abiVersion: BACKEND_ABI_VERSION + 7 };
    await expect(loadBackend({ backend: () => wrong }, {}, empty)).rejects.toThrow(/ABI version 8/);
  });

  it('wraps a throwing factory as EIO', async () => {
    const factory = (): RegionBackend => {
      throw new Error('no device 0');
    };
    await expect(loadBackend({ backend: factory }, {}, empty)).rejects.toThrow(BackendError);
  });

  it('resolves a module name from the project directory, not from region-core', async () => {
    const backend = await loadBackend({ backend: 'my-backend', backendOptions: { platform: 'p1' }, deviceId: 1 }, {}, project);
    expect(backend.name).toBe('my-backend');
    expect((backend as unknown as { receivedOptions: unknown }).receivedOptions).toEqual({ platform: 'p1', deviceId: 1 });
    await expect(loadBackend({ backend: 'my-backend' }, {}, empty)).rejects.toThrow(/npm install my-backend/);
  });

  it('checks the created backend name against the module BACKEND_NAME', async () => {
    await expect(loadBackend({ backend: 'my-backend', backendOptions: { nameOverride: 'other' } }, {}, project)).rejects.toBeInstanceOf(BackendError);
  });

  it('rejects a module that is not a backend, and reports one that fails to load as EIO', async () => {
    await expect(loadBackend({ backend: 'not-a-backend' }, {}, project)).rejects.toThrow(/is not a region backend/);
    await expect(loadBackend({ backend: 'broken-backend' }, {}, project)).rejects.toThrow(BackendError);
  });

  it('loads the backend named by the env var, then by the config file', async () => {
    const fromEnv = await loadBackend({}, { [BACKEND_ENV_VAR]: 'my-backend' }, project);
    expect(fromEnv.name).toBe('my-backend');
    writeConfig(project, JSON.stringify({ backend: 'my-backend', backendOptions: { platform: 'from-config' } }));
    try {
      const fromConfig = await loadBackend({}, {}, project);
      expect(fromConfig.platform).toBe('from-config');
    } finally {
      rmSync(join(project, BACKEND_CONFIG_FILE));
    }
  });

  it('rejects values that are no kind of backend', async () => {
    for (const bad of [42, { name: 'x' }, null, '']) {
      await expect(loadBackend({ backend: bad as never }, {}, empty)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
  });
});

describe('createWorker picks the backend from the working directory', () => {
  it('uses a module name resolved from process.cwd()', async () => {
    const cwd = process.cwd();
    process.chdir(project);
    try {
      const worker = await createWorker({ backend: 'my-backend', deviceId: 0 });
      const region = await worker.openMappedRegion(16);
      expect((await worker.mappedRegionInfo(region)).deviceDataPtr).toBe(0x1000n + 128n);
      await worker.close();
    } finally {
      process.chdir(cwd);
    }
  });
});

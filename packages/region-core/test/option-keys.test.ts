import childProcess = require('node:child_process');
import { DeviceContext, InvalidArgumentError, createWorker } from '../src';
import { writeTestBackend } from './l3/helpers/test-backend';
import { createTestBackend } from './support/recording-backend';

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

const L2_KEYS = 'level, backend, backendOptions, deviceId, deviceIds, platform, waitTuning';
const L3_KEYS = 'level, backend, backendOptions, deviceId, deviceIds, platform, initTimeoutMs, requestTimeoutMs, shutdownGraceMs, childStderr, transport';

describe('createWorker refuses options it does not know', () => {
  const childBackend = writeTestBackend();
  afterAll(() => childBackend.remove());

  it.each<[string, Record<string, unknown>, string]>([
    ['a typo at level 3', { level: 3, tranport: 'shm' }, `createWorker options (level 3): unknown option "tranport"; known options: ${L3_KEYS}`],
    ['an option of a newer version at level 3', { level: 3, zeroCopy: true }, `unknown option "zeroCopy"; known options: ${L3_KEYS}`],
    ['waitTuning at level 3 (children use the default)', { level: 3, waitTuning: { maxSliceMs: 1 } }, 'unknown option "waitTuning"'],
    ['a typo at level 2', { level: 2, deviceID: 0 }, `createWorker options (level 2): unknown option "deviceID"; known options: ${L2_KEYS}`],
    ['a level-3 option at level 2', { childStderr: 'pipe' }, 'unknown option "childStderr"'],
  ])('%s is EINVAL naming the key and the known ones, before any child is spawned', async (_label, extra, message) => {
    const spawn = jest.spyOn(childProcess, 'spawn');
    try {
      const error = await rejection(createWorker({ backend: childBackend.file, deviceIds: [0], ...extra } as never));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error.message).toContain(message);
      expect(spawn).not.toHaveBeenCalled();
    } finally {
      spawn.mockRestore();
    }
  });

  it('a refused level-2 option destroys the backend instance it was handed, creating none', async () => {
    const t = createTestBackend();
    await expect(createWorker({ backend: t.backend, waitTunning: {} } as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(t.destroyed).toBe(1);
    let created = 0;
    const factory = (): never => {
      created++;
      throw new Error('must not be called');
    };
    await expect(createWorker({ backend: factory, backendOption: {} } as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(created).toBe(0);
  });

  it('refuses a transport other than shm or pipe, and accepts both', async () => {
    const error = await rejection(createWorker({ level: 3, backend: childBackend.file, transport: 'tcp' } as never));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toBe(`transport must be 'shm' or 'pipe', got "tcp"`);
    const spawn = jest.spyOn(childProcess, 'spawn');
    try {
      for (const transport of ['shm', 'pipe'] as const) {
        const worker = await createWorker({ level: 3, backend: childBackend.file, transport, childStderr: 'ignore' });
        await worker.close();
      }
      expect(spawn).toHaveBeenCalledTimes(2); // the spy sees the spawns the EINVAL cases above must not make
    } finally {
      spawn.mockRestore();
    }
  });

  it('ignores inherited keys: only own keys are options', async () => {
    const t = createTestBackend();
    const options = Object.assign(Object.create({ inherited: true }) as object, { backend: t.backend });
    const worker = await createWorker(options);
    await worker.close();
  });

  it('refuses an array or a non-object as the options', async () => {
    await expect(createWorker([] as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(createWorker('level 2' as never)).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('waitTuning and DeviceContext options refuse unknown keys', () => {
  it('a waitTuning typo is EINVAL at createWorker and at the DeviceContext', async () => {
    const t = createTestBackend();
    const error = await rejection(createWorker({ backend: t.backend, waitTuning: { maxSliceMS: 1 } as never }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toBe('waitTuning: unknown option "maxSliceMS"; known options: syncSpinUs, asyncSpinUs, maxSliceMs');
    expect(t.destroyed).toBe(1);
    expect(() => new DeviceContext(createTestBackend().backend, { waitTuning: { spin: 1 } as never })).toThrow(InvalidArgumentError);
  });

  it('a DeviceContext options typo is EINVAL; undefined options are fine', async () => {
    expect(() => new DeviceContext(createTestBackend().backend, { waitTunning: {} } as never)).toThrow(
      'DeviceContext options: unknown option "waitTunning"; known options: waitTuning',
    );
    expect(() => new DeviceContext(createTestBackend().backend, null as never)).toThrow(InvalidArgumentError);
    await new DeviceContext(createTestBackend().backend, undefined).destroy();
    await new DeviceContext(createTestBackend().backend, { waitTuning: { maxSliceMs: 1 } }).destroy();
  });
});

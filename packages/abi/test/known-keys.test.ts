import { checkOptions, knownKeys, rejectUnknownKeys } from '../src';

interface DemoOptions {
  readonly alpha?: number;
  readonly beta?: string;
}

const DEMO_KEYS = knownKeys<DemoOptions>('demo options', { alpha: true, beta: true });
const EINVAL = expect.objectContaining({ code: 'EINVAL', errno: -22, name: 'InvalidArgumentError' });

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('known option keys', () => {
  it('accepts known keys, an empty object and undefined', () => {
    expect(checkOptions<DemoOptions>({ alpha: 1, beta: 'b' }, DEMO_KEYS)).toEqual({ alpha: 1, beta: 'b' });
    expect(checkOptions<DemoOptions>({}, DEMO_KEYS)).toEqual({});
    expect(checkOptions<DemoOptions>(undefined, DEMO_KEYS)).toBeUndefined();
  });

  it('refuses an unknown key with EINVAL naming it and every known key', () => {
    const error = thrown(() => rejectUnknownKeys({ alpha: 1, aplha: 2 }, DEMO_KEYS));
    expect(error).toEqual(EINVAL);
    expect((error as Error).message).toBe('demo options: unknown option "aplha"; known options: alpha, beta');
  });

  it('refuses an unknown key whatever its value, but one set to undefined is absent, as a known one would be', () => {
    for (const value of [null, 0, false, '', {}]) expect(thrown(() => checkOptions({ gamma: value } as DemoOptions, DEMO_KEYS))).toEqual(EINVAL);
    expect(checkOptions({ gamma: undefined } as DemoOptions, DEMO_KEYS)).toEqual({ gamma: undefined });
  });

  it('does not count inherited keys (another library may have added enumerable ones to a prototype)', () => {
    const options = Object.assign(Object.create({ polluted: true }) as object, { alpha: 1 });
    expect(() => rejectUnknownKeys(options, DEMO_KEYS)).not.toThrow();
  });

  it.each([[null], [3], ['alpha'], [[]], [() => 1]])('refuses %p as an options object', (value) => {
    expect(thrown(() => checkOptions(value as never, DEMO_KEYS))).toEqual(EINVAL);
  });

  it('the compiler holds a key list to its type: a missing or an extra key does not compile', () => {
    // @ts-expect-error beta is missing
    const missing = knownKeys<DemoOptions>('demo options', { alpha: true });
    // @ts-expect-error gamma is not an option of DemoOptions
    const extra = knownKeys<DemoOptions>('demo options', { alpha: true, beta: true, gamma: true });
    expect([...missing.keys]).toEqual(['alpha']);
    expect([...extra.keys]).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('keeps key names that are not valid identifiers readable and short in the message', () => {
    const error = thrown(() => rejectUnknownKeys({ ['x'.repeat(100)]: 1 }, DEMO_KEYS)) as Error;
    expect(error.message.length).toBeLessThan(140);
  });
});

import { describe } from '../codec/scalars';
import { InvalidArgumentError } from '../errors';

/** The keys one kind of options object may hold, and how error messages name that object. */
export interface KnownKeys {
  /** What the options object is, e.g. `createWorker options (level 3)`. */
  readonly what: string;
  /** The accepted keys. */
  readonly keys: ReadonlySet<string>;
}

/**
 * Declares the keys of an options type. Given the type (`knownKeys<MyOptions>(...)`), the
 * compiler insists on every key of it and nothing else, so the list cannot drift from the type.
 *
 * @example
 * const OPEN_KEYS = knownKeys<OpenOptions>('open options', { signalCount: true, flags: true });
 */
export function knownKeys<T extends object>(what: string, keys: { readonly [K in keyof T & string]-?: true }): KnownKeys {
  return Object.freeze({ what, keys: new Set(Object.keys(keys)) });
}

/**
 * Refuses an options object holding an own key that `known` does not list (a typo, or an option
 * from a newer version) with `EINVAL` naming the key and the known ones. A key set to `undefined`
 * is absent, as a known option would be, so shared option objects may carry one level's keys as
 * `undefined` at another. Inherited keys are not the caller's options and pass. No allocation
 * unless a key is refused.
 */
export function rejectUnknownKeys(options: object, known: KnownKeys): void {
  for (const key in options) {
    if (!known.keys.has(key) && Object.prototype.hasOwnProperty.call(options, key) && (options as Record<string, unknown>)[key] !== undefined) {
      throw new InvalidArgumentError(`${known.what}: unknown option ${describe(key)}; known options: ${[...known.keys].join(', ')}`);
    }
  }
}

/**
 * An options argument checked against `known`: `undefined` stays `undefined`; anything but a
 * non-array object is `EINVAL`, and so is an unknown key (see {@link rejectUnknownKeys}).
 */
export function checkOptions<T extends object>(options: T | undefined, known: KnownKeys): T | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`${known.what} must be an object, got ${describe(options)}`);
  }
  rejectUnknownKeys(options, known);
  return options;
}

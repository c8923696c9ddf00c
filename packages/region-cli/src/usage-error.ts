/**
 * A command-line usage mistake (bad flag, bad value, conflicting options): exit status 2 and one
 * line on stderr. Runtime failures use the region errors of `@simpler/abi` instead.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** True for a {@link UsageError}, also across duplicate module copies. */
export function isUsageError(value: unknown): value is UsageError {
  return value instanceof Error && value.name === 'UsageError';
}

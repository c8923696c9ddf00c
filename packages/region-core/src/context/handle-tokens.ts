import { randomFillSync } from 'node:crypto';
import { InvalidArgumentError, describe } from '@simpler/abi';

const TWO_32 = 0x1_0000_0000;
const MAX_TOKEN = Number.MAX_SAFE_INTEGER;
const MAX_TOKEN_BIG = BigInt(MAX_TOKEN);

// Reused between draws: token generation is not a hot path, but there is no reason to allocate.
const scratch = new Uint32Array(2);

/**
 * Draws a handle token uniformly from [1, 2^53 - 1] using the crypto RNG. It is a plain random
 * number, so it reveals nothing about any address, and fits a u64 and a JavaScript number exactly.
 */
export function randomHandleToken(): number {
  for (;;) {
    randomFillSync(scratch);
    // 21 high bits + 32 low bits = a uniform 53-bit value; 0 is rejected and redrawn.
    const token = (scratch[0] & 0x1f_ffff) * TWO_32 + scratch[1];
    if (token !== 0) return token;
  }
}

/**
 * Normalises a handle given as a number or bigint. Returns 0 for anything that cannot be a
 * token (wrong type, out of range, not an integer) so the caller reports one uniform `EINVAL`.
 */
export function handleTokenOf(handle: unknown): number {
  if (typeof handle === 'number') {
    return Number.isSafeInteger(handle) && handle > 0 ? handle : 0;
  }
  if (typeof handle === 'bigint') {
    return handle > 0n && handle <= MAX_TOKEN_BIG ? Number(handle) : 0;
  }
  return 0;
}

/** The `EINVAL` for a handle that is not registered in a context. */
export function unknownHandleError(handle: unknown): InvalidArgumentError {
  return new InvalidArgumentError(
    `handle ${describe(handle)} is not an open region of this device context (stale, closed, forged or from another context)`,
  );
}

/** Upper bound of a handle token, exported for tests and documentation. */
export const MAX_HANDLE_TOKEN = MAX_TOKEN;

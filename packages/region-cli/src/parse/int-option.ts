import { InvalidArgumentError as CommanderArgumentError } from 'commander';

const SUFFIX: Record<string, number> = { '': 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3 };
const DECIMAL = /^(0|[1-9][0-9]*)$/;
const HEX = /^0x[0-9a-f]+$/i;
const SIZED = /^(0|[1-9][0-9]*)(k|kib|m|mib|g|gib)$/i;

/**
 * Parses a whole number strictly: decimal or `0x` hex digits only (no sign, fraction, exponent
 * or trailing text), optionally a binary size suffix (`64KiB`, `1M`) when `sizes` is set.
 * Returns `undefined` for anything else or for values beyond what a JavaScript number holds exactly.
 */
export function parseStrictInteger(text: string, sizes = false): number | undefined {
  const t = text.trim();
  let value: number;
  if (DECIMAL.test(t) || HEX.test(t)) {
    value = Number(t);
  } else {
    const m = sizes ? SIZED.exec(t) : null;
    if (!m) return undefined;
    value = Number(m[1]) * (SUFFIX[m[2]!.toLowerCase()] ?? Number.NaN);
  }
  return Number.isSafeInteger(value) ? value : undefined;
}

/** A commander argument parser for an integer flag in `[min, max]`; failures become usage errors naming the value. */
export function integerOption(min: number, max: number, sizes = false): (value: string) => number {
  return (value: string): number => {
    const n = parseStrictInteger(value, sizes);
    if (n === undefined) throw new CommanderArgumentError(`Expected a whole number${sizes ? ' (suffixes KiB, MiB, GiB allowed)' : ''}.`);
    if (n < min || n > max) throw new CommanderArgumentError(`Expected a whole number in ${min}..${max}.`);
    return n;
  };
}

/** A commander argument parser for a comma-separated list of device ids (`0,1`), each in `0..2^31-1`, no repeats. */
export function deviceIdsOption(value: string): number[] {
  const parts = value.split(',');
  const ids: number[] = [];
  for (const part of parts) {
    const n = parseStrictInteger(part);
    if (n === undefined || n > 0x7fffffff) throw new CommanderArgumentError(`Expected comma-separated device ids like 0,1; '${part}' is not one.`);
    if (ids.includes(n)) throw new CommanderArgumentError(`Device id ${n} is listed twice.`);
    ids.push(n);
  }
  return ids;
}

/** A commander argument parser for a signal write `ID:VALUE` (both u32). */
export function notifyOption(value: string): { signalId: number; value: number } {
  const m = /^([^:]+):([^:]+)$/.exec(value);
  const id = m ? parseStrictInteger(m[1]!) : undefined;
  const v = m ? parseStrictInteger(m[2]!) : undefined;
  if (id === undefined || v === undefined || id > 0xffffffff || v > 0xffffffff) {
    throw new CommanderArgumentError('Expected ID:VALUE with two whole numbers in 0..4294967295, e.g. 0:1.');
  }
  return { signalId: id, value: v };
}

/** A commander argument parser for hexadecimal bytes (`deadbeef`, `de:ad:be:ef`, `0xdead`). */
export function hexBytesOption(value: string): Uint8Array {
  const t = value.replace(/^0x/i, '').replace(/[\s:_-]/g, '');
  if (t.length === 0 || t.length % 2 !== 0 || !/^[0-9a-f]+$/i.test(t)) {
    throw new CommanderArgumentError('Expected an even number of hexadecimal digits, e.g. deadbeef.');
  }
  return Uint8Array.from(Buffer.from(t, 'hex'));
}

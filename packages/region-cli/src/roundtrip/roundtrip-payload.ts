/** Fills `out` with the spec section 11 payload of iteration `seq`: `(seq * 17 + i * 5) & 0xff`. */
export function fillPayload(out: Uint8Array, seq: number): void {
  let v = (seq * 17) & 0xff;
  for (let i = 0; i < out.length; i++) {
    out[i] = v;
    v = (v + 5) & 0xff;
  }
}

/** Fills `out` with what the device must return for `payload` at `seq`: `payload[i] ^ ((seq + i * 3) & 0xff)`. */
export function fillExpected(out: Uint8Array, payload: Uint8Array, seq: number): void {
  let k = seq & 0xff;
  for (let i = 0; i < out.length; i++) {
    out[i] = payload[i]! ^ k;
    k = (k + 3) & 0xff;
  }
}

/** Index of the first differing byte, or -1 when `actual` equals `expected` exactly (length included). */
export function firstMismatch(actual: Uint8Array, expected: Uint8Array): number {
  if (actual.length !== expected.length) return Math.min(actual.length, expected.length);
  if (Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected)) return -1;
  for (let i = 0; i < actual.length; i++) if (actual[i] !== expected[i]) return i;
  return -1;
}

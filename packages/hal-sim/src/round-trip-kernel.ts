import { DeviceKernel } from './device-memory';
import { hexAddress } from './device-protocol';

/** Name of the built-in round-trip kernel (spec section 11). */
export const ROUND_TRIP_KERNEL = 'round-trip';
/** How long the round-trip kernel waits for signal 0 unless a fifth argument says otherwise. */
export const ROUND_TRIP_DEFAULT_TIMEOUT_US = 10_000_000;

const SIGNAL_SLOT_BYTES = 64n;
// Reused per call: the XOR key repeats every 256 bytes because 3 is odd.
const keyBytes = new Uint8Array(256);
const keyWords = new Uint32Array(keyBytes.buffer);

/**
 * `round-trip(data, signals, seq, n[, timeoutUs])`: acquire-poll signal 0 (at `signals`) until
 * `>= seq`, then `data[n + i] = data[i] ^ ((seq + 3 i) & 0xff)` for `i < n`, then release-store
 * `seq` into signal 1 (at `signals + 64`). A signal that never arrives is a kernel failure.
 */
export const roundTripKernel: DeviceKernel = (mem, args) => {
  if (args.length < 4 || args.length > 5) {
    throw new RangeError(`round-trip: expected 4 or 5 arguments (data, signals, seq, n[, timeoutUs]), got ${args.length}`);
  }
  const [data, signals, seqArg, nArg] = args;
  const timeoutArg = args.length === 5 ? args[4] : BigInt(ROUND_TRIP_DEFAULT_TIMEOUT_US);
  if (seqArg > 0xffffffffn) throw new RangeError(`round-trip: seq ${seqArg} is not a u32`);
  if (nArg > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`round-trip: n ${nArg} is too large`);
  if (timeoutArg > 3_600_000_000n) throw new RangeError(`round-trip: timeoutUs ${timeoutArg} exceeds one hour`);
  const seq = Number(seqArg);
  const n = Number(nArg);
  const timeoutUs = Number(timeoutArg);

  if (!mem.waitU32AtLeast(signals, seq, timeoutUs)) {
    const last = mem.load32Acquire(signals);
    throw new Error(
      `round-trip: signal 0 at ${hexAddress(signals)} did not reach ${seq} within ${timeoutUs} us (last value ${last})`,
    );
  }
  const src = mem.bytes(data, n);
  const dst = mem.bytes(data + nArg, n);
  xorWithSeqKey(src, dst, seq);
  mem.store32Release(signals + SIGNAL_SLOT_BYTES, seq);
};

/** `dst[i] = src[i] ^ ((seq + 3 i) & 0xff)`, a word at a time when both views are 4-byte aligned. */
function xorWithSeqKey(src: Uint8Array, dst: Uint8Array, seq: number): void {
  const n = src.length;
  let k = seq & 0xff;
  for (let i = 0; i < 256; i++) {
    keyBytes[i] = k;
    k = (k + 3) & 0xff;
  }
  let done = 0;
  if (src.byteOffset % 4 === 0 && dst.byteOffset % 4 === 0 && n >= 64) {
    const words = Math.floor(n / 4);
    const s32 = new Uint32Array(src.buffer, src.byteOffset, words);
    const d32 = new Uint32Array(dst.buffer, dst.byteOffset, words);
    // Little-endian words of keyBytes line up with bytes 4w..4w+3 (every supported host is LE).
    for (let w = 0; w < words; w++) d32[w] = s32[w] ^ keyWords[w & 63];
    done = words * 4;
  }
  for (let i = done; i < n; i++) dst[i] = src[i] ^ keyBytes[i & 255];
}

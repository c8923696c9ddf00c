/**
 * Where one side stands in a chunked payload: how many chunks it has done (filled as producer,
 * taken as consumer) and the last value it saw of its peer's counter. Counters travel as u32 words
 * and are compared modulo 2^32, so a payload of any length works.
 *
 * @example
 * cursor.start(payload, window.chunkCount(payload.byteLength), 1);
 */
export class ChunkCursor {
  /** The payload being produced or consumed (lent by the caller until the request settles). */
  payload: Uint8Array | undefined;
  /** Chunks in the payload. */
  chunks = 0;
  /** Chunks this side has done. */
  done = 0;
  /** The peer's counter as last seen (u32). */
  seen = 0;
  /** True while chunks move during the request (more than one chunk: one travels with the request or reply). */
  active = false;
  /** True when this side fills the chunks, false when it takes them. */
  producing = false;

  /** Starts a payload of `chunks` chunks with `done` already done by this side. */
  start(payload: Uint8Array | undefined, producing: boolean, chunks: number, done: number): void {
    this.payload = payload;
    this.producing = producing;
    this.chunks = chunks;
    this.done = done;
    this.seen = 0;
    this.active = payload !== undefined && chunks > 1;
  }

  /** Forgets the payload (never keep a caller's memory past its request). */
  clear(): void {
    this.payload = undefined;
    this.active = false;
  }
}

/** `a - b` modulo 2^32, for counters that wrap. */
export function countAhead(a: number, b: number): number {
  return (a - b) >>> 0;
}

/**
 * Where one side stands in a chunked payload: how many chunks it has done (filled as producer,
 * taken as consumer) and the last value it saw of its peer's counter. Counters travel as u32 words
 * and are compared modulo 2^32, so a payload of any length works.
 *
 * @example
 * cursor.start(payload, nbytes, true, window.chunkCount(nbytes), 1);
 */
export class ChunkCursor {
  /** The payload being produced or consumed (lent by the caller until the request settles). */
  payload: Uint8Array | undefined;
  /** The payload's length at the call: the caller's view must keep it until the request settles. */
  nbytes = 0;
  /** The caller's view lost its length (detached or shrunk) during the request: no more of its bytes move. */
  spoiled = false;
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

  /** Starts a payload of `nbytes` in `chunks` chunks with `done` already done by this side. */
  start(payload: Uint8Array | undefined, nbytes: number, producing: boolean, chunks: number, done: number): void {
    this.payload = payload;
    this.nbytes = nbytes;
    this.spoiled = false;
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

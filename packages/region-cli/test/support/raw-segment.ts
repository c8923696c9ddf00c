import { randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, ftruncateSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { SIDEBAND_HEADER_BYTES, SIDEBAND_MAGIC, SIDEBAND_VERSION, encodeSidebandHeader } from '@simpler/abi';

/** A side-band segment made the way docs/l3-protocol.md section 5 tells a client in any language to. */
export class RawSegment {
  readonly file: string;
  private readonly fd: number;

  /** `name` is used as given, so a test can also try names the child must refuse. */
  constructor(readonly name: string) {
    this.file = path.join('/dev/shm', name);
    this.fd = openSync(this.file, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR | constants.O_NOFOLLOW, 0o600);
  }

  /** `<prefix><random lowercase hex>`, `digits` of them (default: up to 31 characters in all). */
  static random(prefix: string, digits = 31 - prefix.length): RawSegment {
    return new RawSegment(prefix + randomBytes(16).toString('hex').slice(0, digits));
  }

  /** Rewrites the file: a header for `op` (status 0), then `payload`, or zeros up to `64 + nbytes`. */
  prepare(op: number, region: number, offset: number, nbytes: number, payload?: Uint8Array): void {
    const header = new Uint8Array(SIDEBAND_HEADER_BYTES);
    encodeSidebandHeader({ magic: SIDEBAND_MAGIC, version: SIDEBAND_VERSION, op, region, offset, nbytes, status: 0 }, header);
    ftruncateSync(this.fd, 0);
    writeSync(this.fd, header, 0, header.length, 0);
    if (payload) writeSync(this.fd, payload, 0, payload.length, SIDEBAND_HEADER_BYTES);
    ftruncateSync(this.fd, SIDEBAND_HEADER_BYTES + Math.max(nbytes, payload?.length ?? 0));
  }

  /** Overwrites header bytes at `at` (to break a header on purpose). */
  poke(at: number, bytes: readonly number[]): void {
    writeSync(this.fd, Uint8Array.from(bytes), 0, bytes.length, at);
  }

  /** The header's `status` field (i32 at offset 32). */
  status(): number {
    const b = Buffer.alloc(4);
    readSync(this.fd, b, 0, 4, 32);
    return b.readInt32LE(0);
  }

  /** `n` payload bytes. */
  payload(n: number): Uint8Array {
    const b = new Uint8Array(n);
    readSync(this.fd, b, 0, n, SIDEBAND_HEADER_BYTES);
    return b;
  }

  /** True while the file exists. */
  get exists(): boolean {
    return existsSync(this.file);
  }

  /** Closes and unlinks (if still there). */
  dispose(): void {
    closeSync(this.fd);
    if (this.exists) unlinkSync(this.file);
  }
}

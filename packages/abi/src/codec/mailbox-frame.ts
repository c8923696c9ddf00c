import { MAILBOX_BYTES, MAILBOX_ERROR_MESSAGE_BYTES, MAILBOX_NAME_BYTES } from '../constants';
import { decodeCString, encodeCString } from './struct-codec';
import { describe, readU64, writeU64 } from './scalars';
import { InvalidArgumentError } from '../errors';

/** Argument words of a mailbox frame (ARG0..ARG3): what a request carries besides its name. */
export const MAILBOX_ARG_COUNT = 4;

const OFF = { state: 0, error: 4, command: 8, args: 16, result: 48, name: 64, errorMessage: 3840 } as const;

/**
 * Allocation-free accessors over one 4096-byte mailbox block, for the control-protocol hot
 * path. u64 fields are read as numbers: a value above 2^53 - 1 reads back as a number that
 * fails `Number.isSafeInteger`, which is how callers detect it (see {@link readU64}).
 *
 * @example
 * const f = new MailboxFrame();
 * f.clear(); f.state = MailboxState.CONTROL_REQUEST; f.command = MailboxCommand.NOTIFY; f.setArg(0, handle);
 */
export class MailboxFrame {
  /** The 4096 bytes of the block. */
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(bytes: Uint8Array = new Uint8Array(MAILBOX_BYTES)) {
    if (!(bytes instanceof Uint8Array) || bytes.byteLength !== MAILBOX_BYTES) {
      throw new InvalidArgumentError(`a mailbox block is a Uint8Array of ${MAILBOX_BYTES} bytes, got ${describe(bytes)}`);
    }
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, MAILBOX_BYTES);
  }

  /** Zeroes the whole block. */
  clear(): this { this.bytes.fill(0); return this; }
  /** Zeroes the fixed fields, the name and the message, but not the reserved body (faster; it stays zero). */
  clearFields(): this {
    this.bytes.fill(0, 0, OFF.name + MAILBOX_NAME_BYTES);
    this.bytes.fill(0, OFF.errorMessage, MAILBOX_BYTES);
    return this;
  }

  /** Mailbox state (i32). */
  get state(): number { return this.view.getInt32(OFF.state, true); }
  set state(v: number) { this.view.setInt32(OFF.state, v, true); }
  /** 0 or a negative errno (i32). */
  get error(): number { return this.view.getInt32(OFF.error, true); }
  set error(v: number) { this.view.setInt32(OFF.error, v, true); }
  /** Command (u64, read as a number). */
  get command(): number { return readU64(this.view, OFF.command); }
  set command(v: number) { writeU64(this.view, OFF.command, v); }
  /** RESULT (u64, read as a number). */
  get result(): number { return readU64(this.view, OFF.result); }
  set result(v: number) { writeU64(this.view, OFF.result, v); }
  /** RESULT as an exact bigint (for values that may exceed 2^53). */
  get resultBig(): bigint { return this.view.getBigUint64(OFF.result, true); }
  /** Sets RESULT from a bigint. */
  setResultBig(v: bigint): void { this.view.setBigUint64(OFF.result, v, true); }
  /** ARGi for i in 0..3 (u64, as a number). */
  arg(i: 0 | 1 | 2 | 3): number { return readU64(this.view, OFF.args + 8 * i); }
  /** Sets ARGi from a safe non-negative integer. */
  setArg(i: 0 | 1 | 2 | 3, v: number): void { writeU64(this.view, OFF.args + 8 * i, v); }
  /** ARGi as an exact bigint (for values that may exceed 2^53). */
  argBig(i: 0 | 1 | 2 | 3): bigint { return this.view.getBigUint64(OFF.args + 8 * i, true); }
  /** Sets ARGi from a bigint. */
  setArgBig(i: 0 | 1 | 2 | 3, v: bigint): void { this.view.setBigUint64(OFF.args + 8 * i, v, true); }
  /** The reserved u64 at offset 56. */
  get reserved(): bigint { return this.view.getBigUint64(56, true); }
  /** The name field (segment or kernel name). */
  get name(): string { return decodeCString(this.bytes, OFF.name, MAILBOX_NAME_BYTES); }
  set name(v: string) { encodeCString(this.bytes, OFF.name, MAILBOX_NAME_BYTES, v); }
  /** True when the name field holds a NUL terminator (a well-formed frame). */
  get nameTerminated(): boolean { return this.bytes.subarray(OFF.name, OFF.name + MAILBOX_NAME_BYTES).includes(0); }
  /** The error message (UTF-8, truncated to 255 bytes). */
  get errorMessage(): string { return decodeCString(this.bytes, OFF.errorMessage, MAILBOX_ERROR_MESSAGE_BYTES); }
  set errorMessage(v: string) { encodeCString(this.bytes, OFF.errorMessage, MAILBOX_ERROR_MESSAGE_BYTES, v); }
}

import {
  DEV_SVM_MAP_HOST,
  MAILBOX_BYTES,
  MAILBOX_ERROR_MESSAGE_BYTES,
  MAILBOX_NAME_BYTES,
  MailboxCommand,
  MailboxState,
  REGION_ALIGN,
  REGION_HEADER_BYTES,
  REGION_MAGIC,
  REGION_VERSION,
  SIDEBAND_HEADER_BYTES,
  SIDEBAND_MAGIC,
  SIDEBAND_VERSION,
  SIGNAL_OFFSET,
  SIGNAL_SLOT_BYTES,
  SidebandOp,
} from '../constants';
import { BACKEND_ABI_VERSION } from '../backend/region-backend';

/** One named constant as published to other toolchains (C header, abi.json). */
export interface AbiConstant {
  /** Name of the TypeScript export. */
  readonly name: string;
  /** Name of the C macro. */
  readonly cName: string;
  /** The value: an integer, or a string for byte-string magics. */
  readonly value: number | string;
  /** One-line description. */
  readonly doc: string;
}

/** One member of an enumeration (mailbox state, mailbox command, side-band op). */
export interface AbiEnumMember {
  /** Member name, as in the TypeScript object. */
  readonly name: string;
  /** Name of the C macro. */
  readonly cName: string;
  /** The integer value. */
  readonly value: number;
}

/** The little-endian u32 whose bytes spell the side-band magic, for C code that compares words. */
const SIDEBAND_MAGIC_U32 = [...SIDEBAND_MAGIC].reduce((acc, ch, i) => acc + ch.charCodeAt(0) * 2 ** (8 * i), 0);

/** Scalar constants of the ABI, in the order the generated files list them. */
export const ABI_CONSTANTS: readonly AbiConstant[] = Object.freeze([
  { name: 'REGION_MAGIC', cName: 'HDMR_REGION_MAGIC', value: REGION_MAGIC, doc: 'Region header magic ("HDMR" as a little-endian u32).' },
  { name: 'REGION_VERSION', cName: 'HDMR_REGION_VERSION', value: REGION_VERSION, doc: 'Region header layout version.' },
  { name: 'SIDEBAND_MAGIC', cName: 'HDMR_SIDEBAND_MAGIC', value: SIDEBAND_MAGIC, doc: 'Side-band segment magic: the four bytes "HMRD".' },
  { name: 'SIDEBAND_MAGIC_U32', cName: 'HDMR_SIDEBAND_MAGIC_U32', value: SIDEBAND_MAGIC_U32, doc: 'The side-band magic bytes read as a little-endian u32.' },
  { name: 'SIDEBAND_VERSION', cName: 'HDMR_SIDEBAND_VERSION', value: SIDEBAND_VERSION, doc: 'Side-band header version.' },
  { name: 'REGION_ALIGN', cName: 'HDMR_REGION_ALIGN', value: REGION_ALIGN, doc: 'Alignment of every region part (one cache line).' },
  { name: 'REGION_HEADER_BYTES', cName: 'HDMR_REGION_HEADER_BYTES', value: REGION_HEADER_BYTES, doc: 'Size of the region header at offset 0.' },
  { name: 'SIGNAL_SLOT_BYTES', cName: 'HDMR_SIGNAL_SLOT_BYTES', value: SIGNAL_SLOT_BYTES, doc: 'Size of one signal slot.' },
  { name: 'SIGNAL_OFFSET', cName: 'HDMR_SIGNAL_OFFSET', value: SIGNAL_OFFSET, doc: 'Offset of signal slot 0 inside a region.' },
  { name: 'MAILBOX_BYTES', cName: 'HDMR_MAILBOX_BYTES', value: MAILBOX_BYTES, doc: 'Size of one control-protocol frame.' },
  { name: 'MAILBOX_NAME_BYTES', cName: 'HDMR_MAILBOX_NAME_BYTES', value: MAILBOX_NAME_BYTES, doc: 'Capacity of the mailbox name, NUL included.' },
  { name: 'MAILBOX_ERROR_MESSAGE_BYTES', cName: 'HDMR_MAILBOX_ERROR_MESSAGE_BYTES', value: MAILBOX_ERROR_MESSAGE_BYTES, doc: 'Capacity of the mailbox error message, NUL included.' },
  { name: 'SIDEBAND_HEADER_BYTES', cName: 'HDMR_SIDEBAND_HEADER_BYTES', value: SIDEBAND_HEADER_BYTES, doc: 'Size of the side-band header; the payload starts here.' },
  { name: 'DEV_SVM_MAP_HOST', cName: 'HDMR_DEV_SVM_MAP_HOST', value: DEV_SVM_MAP_HOST, doc: 'halHostRegister flag that maps device memory into the host.' },
  { name: 'BACKEND_ABI_VERSION', cName: 'HDMR_BACKEND_ABI_VERSION', value: BACKEND_ABI_VERSION, doc: 'Version of the TypeScript backend contract.' },
]);

function members(obj: Readonly<Record<string, number>>, prefix: string): readonly AbiEnumMember[] {
  return Object.freeze(Object.entries(obj).map(([name, value]) => Object.freeze({ name, cName: `${prefix}${name}`, value })));
}

/** Mailbox `state` values with their C names. */
export const ABI_MAILBOX_STATES = members(MailboxState, 'HDMR_MAILBOX_STATE_');
/** Mailbox `command` values with their C names. */
export const ABI_MAILBOX_COMMANDS = members(MailboxCommand, 'HDMR_MAILBOX_CMD_');
/** Side-band `op` values with their C names. */
export const ABI_SIDEBAND_OPS = members(SidebandOp, 'HDMR_SIDEBAND_OP_');

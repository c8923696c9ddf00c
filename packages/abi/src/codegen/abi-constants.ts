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
import * as LQ from '../launch-queue/launch-queue-layout';

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

/** Names of the numeric exports of the launch queue layout. */
type LaunchQueueNumber = { [K in keyof typeof LQ]: (typeof LQ)[K] extends number ? K : never }[keyof typeof LQ];

/**
 * The launch queue's layout (docs/l3-protocol.md, "Launch queue"): enough for a C producer or
 * consumer that works on the bytes with atomic builtins. Header and slot words are u32 at the
 * byte offsets given; slot arguments are u64.
 */
function launchQueueConstants(): AbiConstant[] {
  const c = (name: LaunchQueueNumber, cName: string, doc: string): AbiConstant => ({ name, cName: `HDMR_LQ_${cName}`, value: LQ[name], doc });
  return [
    c('LAUNCH_QUEUE_MAGIC', 'MAGIC', 'Launch queue magic ("SHLQ" as a little-endian u32).'),
    c('LAUNCH_QUEUE_VERSION', 'VERSION', 'Launch queue layout version.'),
    c('LQ_HEADER_BYTES', 'HEADER_BYTES', 'Size of the launch queue header at offset 0.'),
    c('LQ_MAGIC', 'MAGIC_OFFSET', 'Offset of the header word `magic`.'),
    c('LQ_VERSION', 'VERSION_OFFSET', 'Offset of the header word `version`.'),
    c('LQ_CAPACITY', 'CAPACITY_OFFSET', 'Offset of the header word `capacity` (slots, a power of two).'),
    c('LQ_SLOT_BYTES_FIELD', 'SLOT_BYTES_OFFSET', 'Offset of the header word `slot_bytes`.'),
    c('LQ_TAIL', 'TAIL_OFFSET', 'Offset of the header word `tail` (launches reserved; producers advance it by compare-and-swap).'),
    c('LQ_HEAD', 'HEAD_OFFSET', 'Offset of the header word `head` (launches taken; only the consumer writes it).'),
    c('LQ_DOORBELL', 'DOORBELL_OFFSET', 'Offset of the header word `doorbell` (futex word; producers add 1 after publishing).'),
    c('LQ_SLEEPING', 'SLEEPING_OFFSET', 'Offset of the header word `sleeping` (non-zero: wake the consumer with FUTEX_WAKE).'),
    c('LQ_CLOSED', 'CLOSED_OFFSET', 'Offset of the header word `closed` (non-zero: producers must not write).'),
    c('LQ_HELD', 'HELD_OFFSET', 'Offset of the header word `held` (non-zero: producers other than the owner must not write).'),
    c('LQ_KERNEL_COUNT', 'KERNEL_COUNT_OFFSET', 'Offset of the header word `kernel_count`.'),
    c('LQ_KERNEL_TABLE_OFFSET', 'KERNEL_TABLE_OFFSET', 'Offset of the kernel table; entry i names kernel id i.'),
    c('LQ_KERNEL_TABLE_ENTRIES', 'KERNEL_TABLE_ENTRIES', 'Entries of the kernel table.'),
    c('LQ_KERNEL_ENTRY_BYTES', 'KERNEL_ENTRY_BYTES', 'Size of a kernel table entry: u32 name_bytes (0: not listed), then the UTF-8 name.'),
    c('LQ_KERNEL_NAME_BYTES', 'KERNEL_NAME_BYTES', 'Longest kernel name an entry holds, in bytes (no NUL).'),
    c('LQ_SLOTS_OFFSET', 'SLOTS_OFFSET', 'Offset of slot 0.'),
    c('LQ_SLOT_BYTES', 'SLOT_BYTES', 'Size of one slot.'),
    c('LQ_SLOT_SEQ', 'SLOT_SEQ_OFFSET', 'Offset of `seq` in a slot (pos + 1: published; pos + capacity: free for the next lap).'),
    c('LQ_SLOT_KERNEL', 'SLOT_KERNEL_OFFSET', 'Offset of `kernel` (the kernel id) in a slot.'),
    c('LQ_SLOT_ARGC', 'SLOT_ARGC_OFFSET', 'Offset of `argc` in a slot.'),
    c('LQ_SLOT_ARGS', 'SLOT_ARGS_OFFSET', 'Offset of the first u64 argument in a slot.'),
    c('LQ_MAX_ARGS', 'MAX_ARGS', 'Most u64 arguments a slot carries.'),
    c('LQ_MIN_CAPACITY', 'MIN_CAPACITY', 'Fewest slots a launch queue may have (with one, a published slot would look free).'),
    c('LQ_MAX_CAPACITY', 'MAX_CAPACITY', 'Most slots a launch queue may have.'),
  ];
}

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
  ...launchQueueConstants(),
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

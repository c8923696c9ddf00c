/** Region header magic, "HDMR" read as a little-endian u32. */
export const REGION_MAGIC = 0x48444d52;
/** Region header layout version. */
export const REGION_VERSION = 1;
/** Side-band segment magic bytes, "HMRD". */
export const SIDEBAND_MAGIC = 'HMRD';
/** Side-band header version. */
export const SIDEBAND_VERSION = 1;
/** Cache-line size every region part is aligned to. */
export const REGION_ALIGN = 64;
/** Size of the region header at offset 0. */
export const REGION_HEADER_BYTES = 64;
/** Size of one signal slot: one cache line. */
export const SIGNAL_SLOT_BYTES = 64;
/** Offset of signal slot 0 inside a region. */
export const SIGNAL_OFFSET = 64;
/** Size of one control-protocol frame. */
export const MAILBOX_BYTES = 4096;
/** Bytes of the side-band header; the payload starts here. */
export const SIDEBAND_HEADER_BYTES = 64;
/** Capacity of the mailbox `name` field, NUL terminator included. */
export const MAILBOX_NAME_BYTES = 32;
/** Capacity of the mailbox error message, NUL terminator included. */
export const MAILBOX_ERROR_MESSAGE_BYTES = 256;
/** Largest u32. */
export const U32_MAX = 0xffffffff;
/** Largest u64, as a bigint. */
export const U64_MAX = (1n << 64n) - 1n;

/** Mailbox `state` values (spec 9.2). */
export const MailboxState = Object.freeze({
  IDLE: 0,
  TASK_READY: 1,
  TASK_DONE: 2,
  SHUTDOWN: 3,
  CONTROL_REQUEST: 4,
  CONTROL_DONE: 5,
  INIT_DONE: 6,
} as const);
/** One of the mailbox state values. */
export type MailboxState = (typeof MailboxState)[keyof typeof MailboxState];

/** Mailbox `command` values (spec 9.2); 32 to 35 are this project's extensions. */
export const MailboxCommand = Object.freeze({
  OPEN: 12,
  CLOSE: 13,
  INFO: 14,
  DATACOPY_H2REGION: 15,
  DATACOPY_REGION2H: 16,
  NOTIFY: 17,
  WAIT: 18,
  LAUNCH: 32,
  SYNCHRONIZE: 33,
  /** Describes a region's memory so the parent can map it (direct regions; docs/l3-protocol.md section 10). */
  SHARE: 34,
  /** Describes the chip's launch queue so the parent can map it and launch without a request (docs/l3-protocol.md section 11). */
  SHARE_LAUNCH_QUEUE: 35,
} as const);
/** One of the mailbox command values. */
export type MailboxCommand = (typeof MailboxCommand)[keyof typeof MailboxCommand];

/** Side-band header `op` values (spec 9.3). */
export const SidebandOp = Object.freeze({ INFO: 1, H2REGION: 2, REGION2H: 3 } as const);
/** One of the side-band op values. */
export type SidebandOp = (typeof SidebandOp)[keyof typeof SidebandOp];

/** Driver flag for halHostRegister that maps device memory into the host (CANN `DEV_SVM_MAP_HOST`). */
export const DEV_SVM_MAP_HOST = 2;

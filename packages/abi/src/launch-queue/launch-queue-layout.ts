// The byte layout of a launch queue (docs/l3-protocol.md section 11): a bounded ring of kernel
// launches in memory that the device's consumer and every producer (the owning process, and an
// L3 parent that mapped it) can reach. All words are little-endian and accessed atomically.

/** `magic` of a launch queue: the bytes `SHLQ`. */
export const LAUNCH_QUEUE_MAGIC = 0x514c_4853;
/** `version` of the layout described here. */
export const LAUNCH_QUEUE_VERSION = 1;

/** Bytes of the header. */
export const LQ_HEADER_BYTES = 64;
// Byte offsets of the header's u32 words.
/** `magic`: {@link LAUNCH_QUEUE_MAGIC}. */
export const LQ_MAGIC = 0;
/** `version`: {@link LAUNCH_QUEUE_VERSION}. */
export const LQ_VERSION = 4;
/** `capacity`: slots in the ring, a power of two in [{@link LQ_MIN_CAPACITY}, {@link LQ_MAX_CAPACITY}]. */
export const LQ_CAPACITY = 8;
/** `slot_bytes`: {@link LQ_SLOT_BYTES}. */
export const LQ_SLOT_BYTES_FIELD = 12;
/** `tail`: launches reserved by producers so far (u32, wraps). Producers advance it by compare-and-swap. */
export const LQ_TAIL = 16;
/** `head`: launches the consumer took so far (u32, wraps). Only the consumer writes it. */
export const LQ_HEAD = 20;
/** `doorbell`: the futex word the consumer sleeps on; producers add 1 after publishing. */
export const LQ_DOORBELL = 24;
/** `sleeping`: non-zero while the consumer is (about to be) asleep on the doorbell; producers wake it only then. */
export const LQ_SLEEPING = 28;
/** `closed`: non-zero once nobody consumes any more (device lost or destroyed): producers must not write. */
export const LQ_CLOSED = 32;
/** `held`: launches the owner holds outside the ring until there is room; other producers must not write while it is non-zero (order). */
export const LQ_HELD = 36;
/** `kernel_count`: kernel ids given out so far (entries of the kernel table that are meaningful). */
export const LQ_KERNEL_COUNT = 40;

/** Byte offset of the kernel table: entry `i` names kernel id `i`. */
export const LQ_KERNEL_TABLE_OFFSET = LQ_HEADER_BYTES;
/** Entries of the kernel table; kernels with larger ids can be launched only by the owner. */
export const LQ_KERNEL_TABLE_ENTRIES = 63;
/** Bytes of a kernel table entry: u32 `name_bytes` (0: not listed), then the UTF-8 name. */
export const LQ_KERNEL_ENTRY_BYTES = 64;
/** Longest name a kernel table entry holds, in UTF-8 bytes. */
export const LQ_KERNEL_NAME_BYTES = LQ_KERNEL_ENTRY_BYTES - 4;

/** Byte offset of slot 0. */
export const LQ_SLOTS_OFFSET = LQ_KERNEL_TABLE_OFFSET + LQ_KERNEL_TABLE_ENTRIES * LQ_KERNEL_ENTRY_BYTES;
/** Bytes of a slot. */
export const LQ_SLOT_BYTES = 128;
// Byte offsets inside a slot.
/** `seq`: `pos + 1` once the launch reserved at `pos` is published; `pos + capacity` once the consumer freed it. */
export const LQ_SLOT_SEQ = 0;
/** `kernel`: the kernel id. */
export const LQ_SLOT_KERNEL = 4;
/** `argc`: number of arguments, at most {@link LQ_MAX_ARGS}. */
export const LQ_SLOT_ARGC = 8;
/** First u64 argument. */
export const LQ_SLOT_ARGS = 16;
/** Most u64 arguments a slot carries. */
export const LQ_MAX_ARGS = (LQ_SLOT_BYTES - LQ_SLOT_ARGS) / 8;
/**
 * Fewest slots a queue may have. With one slot a published launch (seq `pos + 1`) reads as the
 * slot freed for the next lap (`pos + capacity`), so a second push would overwrite the first.
 */
export const LQ_MIN_CAPACITY = 2;
/** Most slots a queue may have. */
export const LQ_MAX_CAPACITY = 1 << 16;

/** Total bytes of a queue of `capacity` slots. */
export function launchQueueBytes(capacity: number): number {
  return LQ_SLOTS_OFFSET + capacity * LQ_SLOT_BYTES;
}

/** True for a capacity the layout allows. */
export function isLaunchQueueCapacity(capacity: number): boolean {
  return Number.isInteger(capacity) && capacity >= LQ_MIN_CAPACITY && capacity <= LQ_MAX_CAPACITY && (capacity & (capacity - 1)) === 0;
}

/** Why the layout does not allow `capacity`, or undefined. */
export function launchQueueCapacityProblem(capacity: number): string | undefined {
  if (isLaunchQueueCapacity(capacity)) return undefined;
  return `launch queue capacity ${capacity} is not a power of two in [${LQ_MIN_CAPACITY}, ${LQ_MAX_CAPACITY}]`;
}

/**
 * Why the `byteLength` bytes at `words` are not a launch queue header this code can use, or
 * undefined. Checks magic, version, slot size and that the capacity fits in the bytes.
 */
export function launchQueueProblem(words: Int32Array, byteLength: number): string | undefined {
  if (byteLength < LQ_SLOTS_OFFSET) return `a launch queue needs at least ${LQ_SLOTS_OFFSET} bytes, got ${byteLength}`;
  const magic = Atomics.load(words, LQ_MAGIC >> 2) >>> 0;
  if (magic !== LAUNCH_QUEUE_MAGIC) return `bad launch queue magic 0x${magic.toString(16)}`;
  const version = Atomics.load(words, LQ_VERSION >> 2);
  if (version !== LAUNCH_QUEUE_VERSION) return `unsupported launch queue version ${version}`;
  const slotBytes = Atomics.load(words, LQ_SLOT_BYTES_FIELD >> 2);
  if (slotBytes !== LQ_SLOT_BYTES) return `launch queue slots must be ${LQ_SLOT_BYTES} bytes, got ${slotBytes}`;
  const capacity = Atomics.load(words, LQ_CAPACITY >> 2);
  const capacityProblem = launchQueueCapacityProblem(capacity);
  if (capacityProblem !== undefined) return capacityProblem;
  if (launchQueueBytes(capacity) > byteLength) return `a launch queue of ${capacity} slots needs ${launchQueueBytes(capacity)} bytes, got ${byteLength}`;
  return undefined;
}

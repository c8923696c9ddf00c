export { ERRNO, ERROR_CODES, ERRNO_DESCRIPTIONS, codeForErrno } from './errno';
export type { RegionErrorCode } from './errno';
export {
  RegionError,
  InvalidArgumentError,
  WaitTimeoutError,
  OutOfMemoryError,
  BackendError,
  UnsupportedError,
  isRegionError,
  regionErrorForCode,
  regionErrorForErrno,
} from './errors';
export {
  REGION_MAGIC,
  REGION_VERSION,
  SIDEBAND_MAGIC,
  SIDEBAND_VERSION,
  REGION_ALIGN,
  REGION_HEADER_BYTES,
  SIGNAL_SLOT_BYTES,
  SIGNAL_OFFSET,
  MAILBOX_BYTES,
  SIDEBAND_HEADER_BYTES,
  MAILBOX_NAME_BYTES,
  MAILBOX_ERROR_MESSAGE_BYTES,
  U32_MAX,
  U64_MAX,
  MailboxState,
  MailboxCommand,
  SidebandOp,
  DEV_SVM_MAP_HOST,
} from './constants';
export type { FieldType, FieldSpec, StructLayout } from './layout/struct-layout';
export { elementSize, fieldOf } from './layout/struct-layout';
export {
  CONFIG_LAYOUT,
  INFO_LAYOUT,
  REGION_HEADER_LAYOUT,
  SIGNAL_SLOT_LAYOUT,
  SIDEBAND_HEADER_LAYOUT,
  MAILBOX_LAYOUT,
  ALL_LAYOUTS,
} from './layout/structs';
export { encodeStruct, decodeStruct, reservedAreZero, encodeCString, decodeCString } from './codec/struct-codec';
export type { FieldValue, StructRecord } from './codec/struct-codec';
export {
  encodeConfig,
  decodeConfig,
  encodeInfo,
  decodeInfo,
  encodeRegionHeader,
  decodeRegionHeader,
  encodeSignalSlot,
  decodeSignalSlot,
  encodeSidebandHeader,
  decodeSidebandHeader,
  encodeMailbox,
  decodeMailbox,
} from './codec/typed-codecs';
export type {
  U64In,
  Decoded,
  DecodedField,
  ConfigRecord,
  InfoRecord,
  RegionHeaderRecord,
  SignalSlotRecord,
  SidebandHeaderRecord,
  MailboxRecord,
} from './codec/typed-codecs';
export { MailboxFrame, MAILBOX_ARG_COUNT } from './codec/mailbox-frame';
export { readU64, writeU64, writeU64Any, toU64BigInt, describe } from './codec/scalars';
export { computeRegionLayout, requireU64, requireU32, isValidCopyRange, requireCopyRange } from './sizing';
export type { RegionLayout } from './sizing';
export { knownKeys, rejectUnknownKeys, checkOptions } from './options/known-keys';
export type { KnownKeys } from './options/known-keys';
export { BACKEND_ABI_VERSION } from './backend/region-backend';
export type { RegionBackend } from './backend/region-backend';
export type { BackendAllocation } from './backend/backend-allocation';
export type { SharedAllocation, SharedWake, FutexWake } from './backend/shared-allocation';
export { sharedAllocationProblem } from './backend/shared-allocation';
export type { BackendOptions, BackendFactory, BackendModule } from './backend/backend-module';
export { renderCHeader, cTypeOf, isArrayField } from './codegen/render-c-header';
export { renderAbiJson, abiDescription } from './codegen/render-abi-json';
export { assertLayoutCovered } from './codegen/layout-coverage';
export { ABI_CONSTANTS, ABI_MAILBOX_STATES, ABI_MAILBOX_COMMANDS, ABI_SIDEBAND_OPS } from './codegen/abi-constants';
export type { AbiConstant, AbiEnumMember } from './codegen/abi-constants';
export { ENTRY_POINTS } from './codegen/entry-points';
export type { EntryPoint, EntryPointParam } from './codegen/entry-points';
export {
  LAUNCH_QUEUE_MAGIC,
  LAUNCH_QUEUE_VERSION,
  LQ_TAIL,
  LQ_HEAD,
  LQ_DOORBELL,
  LQ_SLEEPING,
  LQ_CLOSED,
  LQ_HELD,
  LQ_KERNEL_COUNT,
  LQ_SLOTS_OFFSET,
  LQ_SLOT_BYTES,
  LQ_MAX_ARGS,
  LQ_MAX_CAPACITY,
  LQ_KERNEL_NAME_BYTES,
  LQ_KERNEL_TABLE_ENTRIES,
  launchQueueBytes,
  launchQueueProblem,
} from './launch-queue/launch-queue-layout';
export { LaunchQueueView, LaunchQueueProducer, LaunchQueueOwner, LaunchQueueConsumer } from './launch-queue/launch-queue';
export type { LaunchPushResult, LaunchRecord, LaunchTake } from './launch-queue/launch-queue';
export type { SharedLaunchQueue } from './launch-queue/shared-launch-queue';
export { AdaptiveSpin } from './timing/adaptive-spin';

export {
  RegionError,
  InvalidArgumentError,
  WaitTimeoutError,
  OutOfMemoryError,
  BackendError,
  UnsupportedError,
  isRegionError,
  BACKEND_ABI_VERSION,
} from '@simpler/abi';
export type {
  RegionErrorCode,
  RegionBackend,
  BackendAllocation,
  BackendFactory,
  BackendModule,
  BackendOptions,
} from '@simpler/abi';
export { DeviceContext } from './context/device-context';
export type { DeviceContextOptions } from './context/device-context';
export type { RegionInfoRecord } from './context/region-record';
export { DEFAULT_WAIT_TUNING } from './context/wait-strategy';
export type { WaitTuning } from './context/wait-strategy';
export { checkBackend } from './backend/check-backend';
export {
  loadBackend,
  resolveBackendChoice,
  BACKEND_ENV_VAR,
  BACKEND_CONFIG_FILE,
  NO_BACKEND_HELP,
} from './backend/load-backend';
export type { BackendChoice, BackendSpec, BackendSelectionOptions, LoadBackendOptions } from './backend/load-backend';
export { createWorker } from './worker/create-worker';
export { Worker, MAX_KERNEL_ARGS } from './worker/worker';
export type { MappedRegionInfo, OpenMappedRegionOptions, WorkerIdOption } from './worker/worker';
export { MappedRegion } from './worker/mapped-region';
export type { MappedRegionOwner } from './worker/mapped-region';
export type { WorkerOptions } from './worker/worker-options';
export { createL3Worker } from './l3/create-l3-worker';
export type { L3WorkerOptions } from './l3/create-l3-worker';
export { DEFAULT_SHM_TUNING, defaultTransport as defaultL3Transport } from './l3/transport-choice';
export { L3_TRANSPORTS } from './l3/shm-layout';
export type { L3Transport } from './l3/shm-layout';
export type { ShmTuning } from './l3/shm-parent-link';
export type { Endpoint, EndpointInfo, RegionAccess } from './worker/endpoint';
export { LocalEndpoint } from './worker/local-endpoint';
export { main as runChipChild, parseChipChildArgs } from './l3/chip-child-main';
export type { ChipChildArgs } from './l3/chip-child-main';

export { BACKEND_NAME, DEFAULT_DEVICE_SPIN_US, SIM_PLATFORMS, SimBackend, createBackend } from './sim-backend';
export type { SimBackendOptions, SimMemory } from './sim-backend';
export type { DeviceAddress, DeviceMemory, DeviceKernel } from './device-memory';
export { ROUND_TRIP_KERNEL, ROUND_TRIP_DEFAULT_TIMEOUT_US, roundTripKernel } from './round-trip-kernel';
export { DEVICE_ADDRESS_BASE, DEVICE_ALLOCATION_ALIGN } from './device-protocol';
export { GUARD_ALIGN, GUARD_BYTES_MAX } from './guard-bytes';
export type { GuardReport, GuardViolation } from './guard-bytes';

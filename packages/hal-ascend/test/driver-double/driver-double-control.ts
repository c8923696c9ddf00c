import type * as KoffiModule from 'koffi' with { 'resolution-mode': 'import' };

const koffi = require('koffi') as typeof KoffiModule;

/** One recorded driver/runtime call. 64-bit arguments and pointers are decimal strings. */
export interface DriverCall {
  readonly call: string;
  readonly args: readonly string[];
  readonly ret: number;
  readonly out?: string;
}

/** The `dd_*` control API of one test-double build, bound through koffi. */
export interface DriverDoubleControl {
  /** Clears the call log, pending failures and the order-violation counter; restores the load-time device map. */
  reset(): void;
  /** Makes the next `call` return `code` (`halHostRegister.nullHost`: success with a null host pointer). */
  failNext(call: string, code: number): void;
  /** What aclrtGetDeviceCount reports. */
  setDeviceCount(count: number): void;
  /** Remaps a user-visible device id to a logical one (driver calls must use it) until the next reset. */
  setLogicalDeviceId(userId: number, logicalId: number): void;
  /** Every call since the last reset. */
  calls(): DriverCall[];
  /** Device allocations not freed. */
  liveAllocations(): number;
  /** Host registrations not unregistered. */
  liveRegistrations(): number;
  /** Mappings held (device + host). */
  liveMappings(): number;
  /** Frees of still-registered memory. */
  orderViolations(): number;
  /** 1 while aclInit is in effect. */
  aclInitialized(): number;
  /** Outstanding aclrtSetDevice calls for a device. */
  deviceRefs(deviceId: number): number;
  /** Releases everything (teardown); returns how many allocations were left. */
  forceCleanup(): number;
  /** Starts the native device thread on device addresses; 0 or a negative errno. */
  startRoundTrip(dataDev: bigint, signalsDev: bigint, iters: number, n: number, timeoutMs: number): number;
  /** Joins the device thread: 0, or -11 on a poll timeout. */
  joinDevice(): number;
  /** The seq at which the device thread timed out. */
  deviceFailedSeq(): number;
}

// Handles stay referenced for the life of the process: koffi unloads a collected library, and
// the double's device thread may still be running inside it.
const keepLoaded: KoffiModule.LibraryHandle[] = [];

/** Binds the control API of the core library at `controlPath`. */
export function openDriverDoubleControl(controlPath: string): DriverDoubleControl {
  const lib = koffi.load(controlPath);
  keepLoaded.push(lib);
  const f = <T>(proto: string): T => lib.func(proto) as unknown as T;
  const reset = f<() => void>('void dd_reset(void)');
  const failNext = f<(call: string, code: number) => number>('int dd_fail_next(const char *call, int code)');
  const setDeviceCount = f<(n: number) => void>('void dd_set_device_count(uint32_t count)');
  const setLogical = f<(user: number, logical: number) => number>('int dd_set_logical_device(int32_t user, int32_t logical)');
  const callsJson = f<(buf: Buffer, n: number) => number | bigint>('size_t dd_calls_json(uint8_t *buf, size_t n)');
  const liveAllocations = f<() => number>('int dd_live_allocations(void)');
  const liveRegistrations = f<() => number>('int dd_live_registrations(void)');
  const liveMappings = f<() => number>('int dd_live_mappings(void)');
  const orderViolations = f<() => number>('long dd_order_violations(void)');
  const aclInitialized = f<() => number>('int dd_acl_initialized(void)');
  const deviceRefs = f<(id: number) => number>('int dd_device_refs(int32_t id)');
  const forceCleanup = f<() => number>('int dd_force_cleanup(void)');
  const start = f<(d: bigint, s: bigint, i: number, n: number, t: number) => number>(
    'int dd_start_round_trip(uint64_t data, uint64_t signals, uint32_t iters, uint64_t n, uint32_t timeout_ms)',
  );
  const join = f<() => number>('int dd_join_device(void)');
  const failedSeq = f<() => number>('uint32_t dd_device_failed_seq(void)');
  return {
    reset,
    failNext(call, code) {
      if (failNext(call, code) !== 0) throw new Error(`dd_fail_next(${call}) refused`);
    },
    setDeviceCount,
    setLogicalDeviceId(user, logical) {
      if (setLogical(user, logical) !== 0) throw new Error(`dd_set_logical_device(${user}, ${logical}) refused`);
    },
    calls() {
      let buf = Buffer.alloc(64 * 1024);
      let len = Number(callsJson(buf, buf.length));
      if (len >= buf.length) {
        buf = Buffer.alloc(len + 1);
        len = Number(callsJson(buf, buf.length));
      }
      return JSON.parse(buf.subarray(0, len).toString('utf8')) as DriverCall[];
    },
    liveAllocations,
    liveRegistrations,
    liveMappings,
    orderViolations: () => Number(orderViolations()),
    aclInitialized,
    deviceRefs,
    forceCleanup,
    startRoundTrip: start,
    joinDevice: join,
    deviceFailedSeq: failedSeq,
  };
}

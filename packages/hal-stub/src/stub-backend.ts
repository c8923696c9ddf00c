import {
  BACKEND_ABI_VERSION,
  BackendAllocation,
  BackendOptions,
  InvalidArgumentError,
  RegionBackend,
  UnsupportedError,
} from '@simpler/abi';

/** Package name of the stub backend, as the core checks it. */
export const BACKEND_NAME = '@simpler/hal-stub';
/** The only platform the stub answers for: Ascend a5 onboard, which has no mapping path. */
export const STUB_PLATFORM = 'a5';

/**
 * A backend that exists so a configuration can select platform `a5`, and answers every
 * operation with `UnsupportedError` (`ENOTSUP`) naming the operation and the platform.
 *
 * @example
 * const backend = await createBackend({ deviceId: 0 });
 * backend.allocate(4096); // throws UnsupportedError (ENOTSUP)
 */
export class StubBackend implements RegionBackend {
  /** Always {@link BACKEND_NAME}. */
  readonly name = BACKEND_NAME;
  /** The backend contract version implemented. */
  readonly abiVersion = BACKEND_ABI_VERSION;
  /** Always `a5`. */
  readonly platform = STUB_PLATFORM;
  /** The device id it was created for. */
  readonly deviceId: number;

  /** Validates the options; nothing is acquired. */
  constructor(options: BackendOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError(`createBackend: options must be an object, got ${String(options)}`);
    }
    const platform = options.platform ?? STUB_PLATFORM;
    if (platform !== STUB_PLATFORM) {
      throw new InvalidArgumentError(
        `createBackend: unknown platform '${String(platform)}' for ${BACKEND_NAME} (expected ${STUB_PLATFORM})`,
      );
    }
    const deviceId = options.deviceId ?? 0;
    if (!Number.isSafeInteger(deviceId) || deviceId < 0) {
      throw new InvalidArgumentError(`createBackend: deviceId ${String(deviceId)} is not an integer >= 0`);
    }
    this.deviceId = deviceId;
  }

  /** Always throws `ENOTSUP`: platform a5 cannot map device memory into the host. */
  allocate(totalBytes: number): BackendAllocation {
    throw unsupported('allocate', `has no host-device mapping path (requested ${String(totalBytes)} bytes)`);
  }

  /** Always throws `ENOTSUP`: there is no device to run kernels on. */
  launch(kernel: string, args: readonly bigint[]): void {
    void args;
    throw unsupported('launch', `cannot run device kernels (kernel '${String(kernel)}')`);
  }

  /** Always rejects with `ENOTSUP`. */
  synchronize(): Promise<void> {
    return Promise.reject(unsupported('synchronize', 'has no device stream to synchronize'));
  }

  /** Succeeds: there is nothing to release. */
  destroy(): void {}
}

/** Creates the stub backend (it always succeeds for platform `a5`, so a config can select it). */
export function createBackend(options: BackendOptions): StubBackend {
  return new StubBackend(options);
}

function unsupported(op: string, what: string): UnsupportedError {
  return new UnsupportedError(`${op}: platform ${STUB_PLATFORM} ${what}`);
}

import { DeviceIdReport, deviceIdReport } from './device-ids';
import { ACL_SUCCESS, describeCode } from './errors';
import { HostOrderingSupport, hostOrderingSupport } from './host-ordering';
import { DRIVER_PROTOTYPES } from './native/driver-api';
import { LibraryKind, LoadedLibrary, bindRuntimeApi, hasSymbol, librarySearch, openLibrary } from './native/load-libraries';
import { RUNTIME_PROTOTYPES } from './native/runtime-api';
import { QuarantineReport, ascendQuarantine } from './quarantine';

/** Where one library was found, or why not. */
export interface LibraryReport {
  /** The path (or soname) that loaded, or null. */
  readonly path: string | null;
  /** True when it loaded. */
  readonly found: boolean;
  /** The load error, when it did not. */
  readonly error?: string;
}

/** What `simpler-region doctor` shows about Ascend support on this machine. */
export interface AscendCapabilities {
  /** `process.platform`/`process.arch` (or the injected arch). */
  readonly platform: string;
  /** Whether the host can honour the ordering, by which mechanism, and why (see docs/backends/ascend.md). */
  readonly ordering: HostOrderingSupport;
  /** The driver library. */
  readonly halLibrary: LibraryReport;
  /** The runtime library. */
  readonly runtimeLibrary: LibraryReport;
  /** Every symbol the backend uses (required and optional), and whether its library exports it. */
  readonly symbols: Readonly<Record<string, boolean>>;
  /** aclrtGetDeviceCount, or null when it could not be asked. */
  readonly deviceCount: number | null;
  /** Whether the driver gets logical device ids (aclrtGetLogicDevIdByUserDevId) or the user-visible ids unchanged. */
  readonly deviceIds: DeviceIdReport;
  /** Device memory this process keeps because its host mapping could not be removed. */
  readonly quarantine: QuarantineReport;
  /** Everything that went wrong while probing, as messages. */
  readonly errors: readonly string[];
}

/** Options of {@link ascendCapabilities}: the same library and arch settings as `createBackend`. */
export interface AscendCapabilitiesOptions {
  /** Driver library path. */
  readonly halLibrary?: string;
  /** Runtime library path. */
  readonly runtimeLibrary?: string;
  /** Host architecture to assume. */
  readonly arch?: string;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Reports which libraries load from where, which symbols exist, the device count, the platform,
 * how device ids reach the driver and the quarantined device memory of this process. Never throws: every problem becomes an entry of `errors`. It does not initialise
 * the runtime (no aclInit), so it is safe next to a running backend.
 */
export function ascendCapabilities(options: AscendCapabilitiesOptions = {}): AscendCapabilities {
  const errors: string[] = [];
  const opts: AscendCapabilitiesOptions = typeof options === 'object' && options !== null ? options : {};
  const arch = typeof opts.arch === 'string' && opts.arch.length > 0 ? opts.arch : process.arch;
  const symbols: Record<string, boolean> = {};

  const open = (kind: LibraryKind, option: unknown): { report: LibraryReport; loaded: LoadedLibrary | null } => {
    try {
      const loaded = openLibrary(kind, librarySearch(kind, option));
      return { report: { path: loaded.path, found: true }, loaded };
    } catch (error) {
      errors.push(message(error));
      return { report: { path: null, found: false, error: message(error) }, loaded: null };
    }
  };
  const hal = open('hal', opts.halLibrary);
  const rt = open('runtime', opts.runtimeLibrary);
  const probe = (loaded: LoadedLibrary | null, names: readonly string[]): void => {
    for (const name of names) symbols[name] = loaded !== null && hasSymbol(loaded, name);
  };
  probe(hal.loaded, Object.keys(DRIVER_PROTOTYPES));
  probe(rt.loaded, Object.keys(RUNTIME_PROTOTYPES));

  let deviceCount: number | null = null;
  if (rt.loaded) {
    try {
      const count: [number | null] = [null];
      const rc = bindRuntimeApi(rt.loaded).aclrtGetDeviceCount(count);
      if (rc === ACL_SUCCESS && typeof count[0] === 'number') deviceCount = count[0];
      else errors.push(`aclrtGetDeviceCount failed with return code ${describeCode('runtime', rc)}`);
    } catch (error) {
      errors.push(message(error));
    }
  }
  const ordering = hostOrderingSupport(arch, rt.loaded ? symbols : undefined);
  if (!ordering.supported) errors.push(ordering.reason);
  return {
    platform: `${process.platform}/${arch}`,
    ordering,
    halLibrary: hal.report,
    runtimeLibrary: rt.report,
    symbols,
    deviceCount,
    deviceIds: deviceIdReport(rt.loaded ? symbols.aclrtGetLogicDevIdByUserDevId : undefined),
    quarantine: ascendQuarantine(),
    errors,
  };
}

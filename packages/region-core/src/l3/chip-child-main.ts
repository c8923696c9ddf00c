import { readFileSync } from 'node:fs';
import { ERRNO, InvalidArgumentError, MailboxFrame, MailboxState, describe, isRegionError } from '@simpler/abi';
import { loadBackend } from '../backend/load-backend';
import { DeviceContext } from '../context/device-context';
import { ChipChild } from './chip-child';
import { PipeFrameTransport } from './frame-transport';
import { checkSegmentPrefix, defaultSegmentPrefix } from './sideband-segment';
import { ShmChildLink } from './shm-child-link';
import { DEFAULT_CHILD_SPIN_US, DEFAULT_CONTROL_FD, DEFAULT_WINDOW_FD, L3Transport, checkSpinUs, checkTransport } from './shm-layout';

/** The chip child's command line, parsed (see docs/l3-protocol.md for the stable syntax). */
export interface ChipChildArgs {
  /** `--device-id N`: the device this child owns. */
  readonly deviceId: number;
  /** `--backend <module>`: backend module name or path, resolved from the working directory. */
  readonly backend: string;
  /** `--backend-options <json>`: a JSON object passed to the backend factory. */
  readonly backendOptions: Readonly<Record<string, unknown>>;
  /** `--segment-prefix <prefix>`: accepted segment-name prefix (default `simpler-hdmr-<parent pid>-`). */
  readonly segmentPrefix: string;
  /** `--transport pipe|shm`: frames on stdin/stdout (default), or the shared-memory control block. */
  readonly transport: L3Transport;
  /** `--control-fd N`: descriptor of the shared-memory control block (default 3). */
  readonly controlFd: number;
  /** `--window-fd N`: descriptor of the shared-memory data window (default 4). */
  readonly windowFd: number;
  /** `--spin-us N`: how long the child spins for the next request before it sleeps (shm only). */
  readonly spinUs: number;
}

function fdArg(values: Map<string, string>, flag: string, fallback: number): number {
  const text = values.get(flag);
  if (text === undefined) return fallback;
  if (!/^\d{1,9}$/.test(text) || Number(text) < 3) throw new InvalidArgumentError(`${flag} must be a descriptor number >= 3, got ${describe(text)}`);
  return Number(text);
}

/**
 * Parses `--device-id N --backend <module> [--backend-options <json>] [--segment-prefix <p>]
 * [--transport pipe|shm] [--control-fd N] [--window-fd N] [--spin-us N]` (also `--flag=value`).
 * Anything else is `EINVAL`.
 */
export function parseChipChildArgs(argv: readonly string[], parentPid: number = process.ppid): ChipChildArgs {
  const values = new Map<string, string>();
  const known = new Set(['--device-id', '--backend', '--backend-options', '--segment-prefix', '--transport', '--control-fd', '--window-fd', '--spin-us']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!known.has(flag)) throw new InvalidArgumentError(`unknown chip child argument ${describe(arg)}`);
    if (values.has(flag)) throw new InvalidArgumentError(`chip child argument ${flag} given twice`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new InvalidArgumentError(`chip child argument ${flag} needs a value`);
    values.set(flag, value);
  }
  const idText = values.get('--device-id');
  const deviceId = idText !== undefined && /^\d{1,10}$/.test(idText) ? Number(idText) : NaN;
  if (!(deviceId <= 0xffffffff)) throw new InvalidArgumentError(`--device-id must be an integer in 0..2^32-1, got ${describe(idText)}`);
  const backend = values.get('--backend');
  if (backend === undefined || backend.length === 0) throw new InvalidArgumentError('--backend <module> is required');
  let backendOptions: Record<string, unknown> = {};
  const optionsText = values.get('--backend-options');
  if (optionsText !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(optionsText);
    } catch (error) {
      throw new InvalidArgumentError(`--backend-options is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new InvalidArgumentError(`--backend-options must be a JSON object, got ${describe(optionsText)}`);
    }
    backendOptions = parsed as Record<string, unknown>;
  }
  const segmentPrefix = checkSegmentPrefix(values.get('--segment-prefix') ?? defaultSegmentPrefix(parentPid));
  const transport = checkTransport(values.get('--transport') ?? 'pipe', '--transport');
  const controlFd = fdArg(values, '--control-fd', DEFAULT_CONTROL_FD);
  const windowFd = fdArg(values, '--window-fd', DEFAULT_WINDOW_FD);
  if (controlFd === windowFd) throw new InvalidArgumentError(`--control-fd and --window-fd must differ, both are ${controlFd}`);
  const spinText = values.get('--spin-us');
  const spinUs = spinText === undefined ? DEFAULT_CHILD_SPIN_US : checkSpinUs(/^\d+(\.\d+)?$/.test(spinText) ? Number(spinText) : NaN, '--spin-us');
  return { deviceId, backend, backendOptions, segmentPrefix, transport, controlFd, windowFd, spinUs };
}

function log(line: string): void {
  process.stderr.write(`[simpler chip child ${process.pid}] ${line}\n`);
}

/** This process's parent pid as the kernel sees it now (`process.ppid` is read once, at start). */
function currentParentPid(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** True once the parent that spawned this child exited: the child was re-parented (Linux), or the pid is gone. */
function parentExited(parent: number): boolean {
  const now = currentParentPid();
  if (now !== undefined) return now !== parent;
  try {
    process.kill(parent, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Runs a chip child on this process's stdin/stdout. Exits 0 after shutdown, 1 after a failed init. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const parent = process.ppid; // before anything slow: the parent may die meanwhile
  // Nothing may end the child except shutdown or the end of stdin; a stray error is logged.
  process.on('uncaughtException', (error) => log(`uncaught: ${error?.stack ?? String(error)}`));
  process.on('unhandledRejection', (error) => log(`unhandled rejection: ${String(error)}`));
  // stdin is read only once the child can serve: frames a client pipelines behind the init-done
  // frame (or a shutdown sent during a slow init) wait in the pipe instead of being dropped.
  const ends = { input: process.stdin, output: process.stdout, outputFd: 1 };
  let child: ChipChild;
  try {
    const args = parseChipChildArgs(argv, parent);
    // The descriptors are mapped before the backend starts: a bad one fails init at once.
    const link = args.transport === 'shm' ? ShmChildLink.open({ ...args, input: process.stdin, outputFd: 1 }) : undefined;
    const backend = await loadBackend({ backend: args.backend, backendOptions: args.backendOptions, deviceId: args.deviceId });
    const hooks = { exit: (code: number) => process.exit(code), log, parentExited: () => parentExited(parent) };
    child = new ChipChild(new DeviceContext(backend), link ?? new PipeFrameTransport(ends), args.segmentPrefix, hooks, link);
  } catch (error) {
    const transport = new PipeFrameTransport(ends);
    const f = new MailboxFrame();
    f.state = MailboxState.CONTROL_DONE;
    f.error = isRegionError(error) ? error.errno : ERRNO.EIO;
    f.errorMessage = `chip child init failed: ${error instanceof Error ? error.message : String(error)}`;
    log(f.errorMessage);
    transport.send(f.bytes); // pipes to stdout are written synchronously on Linux
    process.exit(1);
  }
  child.start();
}

if (require.main === module) void main();

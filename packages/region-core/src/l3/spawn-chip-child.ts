import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { ChipEndpointOptions } from './chip-endpoint-options';
import { FrameTransport, PipeFrameTransport } from './frame-transport';
import type { ParentPayloadCarrier } from './payload-carrier';
import { SegmentCarrier } from './segment-carrier';
import { checkSegmentPrefix, defaultSegmentPrefix } from './sideband-segment';
import { L3Transport } from './shm-layout';
import { ShmParentLink } from './shm-parent-link';
import { defaultTransport, shmTuningOf } from './transport-choice';

/** A chip child just started, with what carries its frames and payloads. */
export interface SpawnedChipChild {
  /** The child process. */
  readonly child: ChildProcess;
  /** Carries the mailbox frames. */
  readonly transport: FrameTransport;
  /** Carries the payloads of info, h2region and region2h. */
  readonly carrier: ParentPayloadCarrier;
  /** Which transport both are. */
  readonly kind: L3Transport;
  /** The checked segment-name prefix. */
  readonly segmentPrefix: string;
  /** The shared-memory link, to connect once its faults have somewhere to go (`'shm'` only). */
  readonly shm: ShmParentLink | undefined;
}

/** Finds the compiled child entry point, also when this module runs from sources (ts-jest). */
export function defaultChildMain(): string {
  const beside = path.join(__dirname, 'chip-child-main.js');
  if (existsSync(beside)) return beside;
  return path.resolve(__dirname, '..', '..', 'dist', 'l3', 'chip-child-main.js');
}

/**
 * Starts a chip child with the command line and descriptors its transport needs; throws (and
 * leaves nothing behind) when the prefix is bad or the process cannot be spawned.
 *
 * @example
 * const { child, transport, carrier } = spawnChipChild({ deviceId: 0, backend: '@simpler/hal-sim' });
 */
export function spawnChipChild(options: ChipEndpointOptions): SpawnedChipChild {
  const prefix = checkSegmentPrefix(options.segmentPrefix ?? defaultSegmentPrefix(process.pid));
  const argv = [options.childMain ?? defaultChildMain(), '--device-id', String(options.deviceId), '--backend', options.backend];
  if (options.backendOptions !== undefined) argv.push('--backend-options', JSON.stringify(options.backendOptions));
  if (options.segmentPrefix !== undefined) argv.push('--segment-prefix', prefix);
  const kind = options.transport ?? defaultTransport();
  const shm = kind === 'shm' ? ShmParentLink.create(shmTuningOf(options.shmTuning)) : undefined;
  const stderr = options.stderr ?? 'inherit';
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, shm ? [...argv, ...shm.argv] : argv, { stdio: ['pipe', 'pipe', stderr, ...(shm?.stdio ?? [])], windowsHide: true });
  } catch (error) {
    shm?.abandon();
    throw error;
  }
  if (stderr === 'pipe') child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  const transport = shm ?? new PipeFrameTransport({ input: child.stdout!, output: child.stdin! });
  const carrier = shm ?? new SegmentCarrier(prefix);
  return { child, transport, carrier, kind, segmentPrefix: prefix, shm };
}

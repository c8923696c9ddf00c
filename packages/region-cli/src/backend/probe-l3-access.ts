import { L3Transport, RegionAccess, createWorker, defaultL3Transport } from '@simpler/region-core';
import type { CliIo } from '../cli-io';
import { CliBackendChoice } from './select-backend';
import { backendSpecifier } from './open-backend';
import { whyNotDirect } from './why-not-direct';
import { withWorker } from './with-worker';

/** What a level-3 region of a backend turned out to be. */
export interface L3AccessProbe {
  /** The access mode a default open gave. */
  readonly access: RegionAccess;
  /** The transport of the chip child that was asked. */
  readonly transport: L3Transport;
  /** For `proxied`: why direct access is not available (the `ENOTSUP` of an open that asked for it). */
  readonly reason?: string;
}

/**
 * Spawns one chip child of the chosen backend, opens a small region with the default access and
 * reports its mode; when it is proxied, why (see {@link whyNotDirect}).
 */
export async function probeL3Access(choice: CliBackendChoice, io: CliIo): Promise<L3AccessProbe> {
  const transport = defaultL3Transport();
  const worker = await createWorker({ level: 3, backend: backendSpecifier(choice, io.cwd), backendOptions: choice.backendOptions, deviceIds: [0], transport });
  return withWorker(worker, async () => {
    const region = await worker.openMappedRegion(4096, { signalCount: 2 });
    await worker.closeMappedRegion(region);
    if (region.access === 'direct') return { access: 'direct', transport };
    return { access: 'proxied', transport, reason: await whyNotDirect(worker) };
  });
}

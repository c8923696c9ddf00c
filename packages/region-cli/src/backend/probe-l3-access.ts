import { isRegionError } from '@simpler/abi';
import { L3Transport, RegionAccess, createWorker, defaultL3Transport } from '@simpler/region-core';
import type { CliIo } from '../cli-io';
import { CliBackendChoice } from './select-backend';
import { backendSpecifier } from './open-backend';

/** What a level-3 region of a backend turned out to be. */
export interface L3AccessProbe {
  /** The access mode a default open gave. */
  readonly access: RegionAccess;
  /** The transport of the chip child that was asked. */
  readonly transport: L3Transport;
  /** For `proxied`: why direct access is not available (the `ENOTSUP` of an open that asked for it). */
  readonly reason?: string;
}

// The prefix region-core puts before the reason in that ENOTSUP; the reason alone reads better.
const NOT_DIRECT_PREFIX = /^worker \d+: access 'direct' is not available: /;

/**
 * Spawns one chip child of the chosen backend, opens a small region with the default access and
 * reports its mode. When it is proxied, an open that insists on `access: 'direct'` fails with
 * `ENOTSUP`, whose message says why: that is the reason reported (public API only).
 */
export async function probeL3Access(choice: CliBackendChoice, io: CliIo): Promise<L3AccessProbe> {
  const transport = defaultL3Transport();
  const worker = await createWorker({ level: 3, backend: backendSpecifier(choice, io.cwd), backendOptions: choice.backendOptions, deviceIds: [0], transport });
  let failed = false;
  try {
    const region = await worker.openMappedRegion(4096, { signalCount: 2 });
    await worker.closeMappedRegion(region);
    if (region.access === 'direct') return { access: 'direct', transport };
    let reason = 'the backend cannot share its region memory with another process';
    try {
      await worker.closeMappedRegion(await worker.openMappedRegion(4096, { signalCount: 2, access: 'direct' }));
    } catch (error) {
      if (!isRegionError(error) || error.code !== 'ENOTSUP') throw error;
      reason = error.message.replace(NOT_DIRECT_PREFIX, '');
    }
    return { access: 'proxied', transport, reason };
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await worker.close().catch((error: unknown) => {
      if (!failed) throw error;
    });
  }
}

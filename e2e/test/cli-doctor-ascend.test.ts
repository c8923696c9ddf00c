import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { computeRegionLayout } from '@simpler/abi';
import { buildAscendDouble, haveCompiler } from './support/ascend-double';
import { packageDirOf } from './support/workspace';

// The CLI's doctor over hal-ascend's C test-double driver: a cross-package check (CLI, backend
// loading, hal-ascend and its double), so it lives here rather than in region-cli's own tests.

const BIN = path.join(packageDirOf('@simpler/region-cli'), 'dist', 'bin.js');

/** A test-double Ascend driver whose user device 0 is the driver's logical device 3, with `failAtLoad` armed. */
function ascendDoubleEnv(failAtLoad = ''): NodeJS.ProcessEnv {
  const libs = buildAscendDouble({ logicalDeviceIds: { 0: 3 }, failAtLoad });
  return { SIMPLER_ASCEND_HAL_LIB: libs.halLibrary, SIMPLER_ASCEND_RT_LIB: libs.runtimeLibrary };
}

function runCli(args: readonly string[], options: { env: NodeJS.ProcessEnv }): { status: number | null; stdout: string } {
  const env = { ...process.env, ...options.env };
  delete env['SIMPLER_REGION_BACKEND'];
  delete env['FORCE_COLOR'];
  const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout };
}

const itWithCompiler = haveCompiler() ? it : it.skip;

describe('simpler-region doctor over the Ascend test double', () => {
  itWithCompiler('with the Ascend test double: logical device ids, no quarantine, a region opened', () => {
    const r = runCli(['doctor', '--backend', '@simpler/hal-ascend'], { env: ascendDoubleEnv() });
    expect(r.stdout).toMatch(/device ids\s+logical ids for the driver: halHostRegister and halHostUnregister get the logical id/);
    expect(r.stdout).toMatch(/quarantine\s+none/);
    expect(r.stdout).not.toContain('Quarantine ');
    expect(r.stdout).toMatch(/OK\s+@simpler\/hal-ascend can open a region/);
    expect(r.status).toBe(0);
  });

  itWithCompiler('shows device memory its own check left quarantined (the unmap failed at close and again at destroy)', () => {
    const r = runCli(['doctor', '--backend', '@simpler/hal-ascend'], { env: ascendDoubleEnv('halHostUnregister:4,halHostUnregister:4') });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/quarantine\s+none/); // before the check
    const bytes = computeRegionLayout(4096, 2).totalBytes;
    expect(r.stdout).toContain(`Quarantine 1 allocation, ${bytes} bytes of device memory kept allocated and mapped (their host unmap failed)`);
    expect(r.stdout).toMatch(/FAIL\s+EIO: .*halHostUnregister/);
    expect(r.stdout).toMatch(/Next step: the driver could not remove the host mapping of device memory/);
  });

});

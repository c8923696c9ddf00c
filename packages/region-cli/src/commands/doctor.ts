import { Command } from 'commander';
import { RegionBackend, isRegionError } from '@simpler/abi';
import { DeviceContext, createWorker } from '@simpler/region-core';
import type { AscendCapabilities, QuarantineReport } from '@simpler/hal-ascend';
import { CommandContext } from '../command-context';
import { addBackendFlags } from '../backend/backend-flags';
import { CliBackendChoice, resolveBackendModule, selectBackend } from '../backend/select-backend';
import { openBackend } from '../backend/open-backend';
import { probeL3Access } from '../backend/probe-l3-access';
import { Colour, colourFor } from '../output/colour';
import { runRoundtrip } from '../roundtrip/run-roundtrip';
import { RoundtripWorker } from '../roundtrip/roundtrip-worker';
import { summarizeLatency } from '../roundtrip/latency-stats';

/** The backends this project ships, probed by `doctor`. */
export const KNOWN_BACKENDS: readonly string[] = ['@simpler/hal-sim', '@simpler/hal-ascend', '@simpler/hal-stub'];

interface DoctorFlags {
  backend?: string;
  platform?: string;
  config?: string;
}

/** The next step to suggest after a failed region open, by error code, backend and (optionally) the error message. */
export function nextStepFor(code: string | undefined, backend: string, message = ''): string {
  const other = 'choose a backend that can map memory here: --backend @simpler/hal-sim, SIMPLER_REGION_BACKEND=@simpler/hal-sim, or "backend" in simpler-region.config.json';
  if (backend === '@simpler/hal-ascend' && code === 'EIO' && message.includes('quarantined')) {
    return 'the driver could not remove the host mapping of device memory (halHostUnregister): check the device state (npu-smi info) and the system log; processes using hal-ascend keep such memory quarantined and report it in the capability report';
  }
  if (backend === '@simpler/hal-ascend' && code === 'EIO') {
    return 'install the Ascend driver and CANN runtime (libascend_hal.so, libascendcl.so) or point SIMPLER_ASCEND_HAL_LIB / SIMPLER_ASCEND_RT_LIB at them; or ' + other;
  }
  switch (code) {
    case 'ENOTSUP':
      return `${backend} cannot open regions on this platform; ${other}`;
    case 'EINVAL':
      return 'check the backend name, --platform and "backendOptions" (run with --verbose for details)';
    case 'ENOMEM':
      return 'the device is out of memory: close other users of the device and retry';
    default:
      return `check the installation of ${backend} (run with --verbose for the stack), or ${other}`;
  }
}

function quarantineText(q: QuarantineReport, c: Colour): string {
  if (q.count === 0) return c.green('none');
  return c.red(`${q.count} allocation${q.count === 1 ? '' : 's'}, ${q.bytes} bytes of device memory kept allocated and mapped (their host unmap failed)`);
}

function ascendReport(caps: AscendCapabilities, c: Colour): string {
  const lib = (name: string, r: AscendCapabilities['halLibrary']): string => `  ${name.padEnd(16)}${r.found ? c.green(r.path ?? 'found') : c.red(`not found${r.error ? `: ${r.error}` : ''}`)}\n`;
  let out = `${c.bold('Ascend capabilities')} (${caps.platform})\n`;
  out += lib('driver library', caps.halLibrary) + lib('runtime library', caps.runtimeLibrary);
  const symbols = Object.entries(caps.symbols);
  const missing = symbols.filter(([, ok]) => !ok).map(([name]) => name);
  out += `  ${'symbols'.padEnd(16)}${symbols.length - missing.length}/${symbols.length} present${missing.length ? `; missing: ${missing.join(', ')}` : ''}\n`;
  out += `  ${'device count'.padEnd(16)}${caps.deviceCount ?? 'unknown'}\n`;
  out += `  ${'host ordering'.padEnd(16)}${caps.ordering.supported ? c.green('supported') : c.red('unsupported')}: ${caps.ordering.reason}\n`;
  // An older hal-ascend installed in the user's project may not report these.
  if (caps.deviceIds) {
    const converted = caps.deviceIds.conversion === 'aclrtGetLogicDevIdByUserDevId';
    out += `  ${'device ids'.padEnd(16)}${converted ? c.green('logical ids for the driver') : c.yellow(caps.deviceIds.conversion === 'unknown' ? 'unknown' : 'user ids unchanged')}: ${caps.deviceIds.reason}\n`;
  }
  if (caps.quarantine) out += `  ${'quarantine'.padEnd(16)}${quarantineText(caps.quarantine, c)}\n`;
  return out;
}

/** Opens (and closes) one region on the chosen backend: the check `doctor`'s exit status is about. */
async function canOpenRegion(backend: RegionBackend): Promise<void> {
  const ctx = new DeviceContext(backend);
  try {
    ctx.close(ctx.open(4096, 2, 0));
  } finally {
    await ctx.destroy();
  }
}

/** A short simulator self-test: 20 round trips of 256 bytes through the public Worker API. */
async function simSelfTest(choice: CliBackendChoice, ctx: CommandContext): Promise<string> {
  const worker = await createWorker({ level: 2, backend: await openBackend(choice, 0, ctx.io.env, ctx.io.cwd) });
  try {
    const [r] = await runRoundtrip({ worker: worker as unknown as RoundtripWorker<unknown>, deviceIds: [0], iters: 20, bytesPerDirection: 256, timeoutUs: 10_000_000 });
    if (!r || r.verified !== 20) throw new Error(`self-test round trip failed: ${r?.mismatch ?? 'no result'}`);
    return `20/20 round trips verified, p50 ${summarizeLatency(r.latenciesUs).p50} us`;
  } finally {
    await worker.close();
  }
}

/**
 * The `L3 access` line: whether a level-3 region of this backend is direct (the parent maps it) or
 * proxied, and why. Informational: a level-3 failure here does not change doctor's exit status.
 */
async function l3AccessLine(choice: CliBackendChoice, ctx: CommandContext, c: Colour): Promise<string> {
  const label = c.bold('L3 access');
  try {
    const p = await probeL3Access(choice, ctx.io);
    if (p.access === 'direct') {
      return `${label} ${c.green('direct')}: the parent maps level-3 regions; datacopy, notify and wait need no request to the chip child (transport ${p.transport})\n`;
    }
    return `${label} ${c.yellow('proxied')}: ${p.reason}; every datacopy, notify and wait is a request to the chip child (transport ${p.transport})\n`;
  } catch (e) {
    if (ctx.verbose && e instanceof Error && e.stack) ctx.io.err(`${e.stack}\n`);
    const code = isRegionError(e) ? `${e.code}: ` : '';
    return `${label} ${c.yellow('unknown')}: could not open a region at level 3 (${code}${e instanceof Error ? e.message : String(e)})\n`;
  }
}

/** Adds `doctor`: which backends resolve, which is selected and why, and whether it can open a region. */
export function registerDoctorCommand(program: Command, ctx: CommandContext): void {
  const cmd = program
    .command('doctor')
    .description('diagnose the install: which backends resolve, which one is selected and why, whether it can open a region, and whether level-3 regions are direct');
  addBackendFlags(cmd)
    .addHelpText('after', '\nExit status: 0 when the selected backend opened a region, 1 otherwise (with the next step to take).')
    .action(async (flags: DoctorFlags) => {
      ctx.exitCode = await doctor(flags, ctx);
    });
}

async function doctor(flags: DoctorFlags, ctx: CommandContext): Promise<number> {
  const { io } = ctx;
  const c = colourFor(io);
  const say = (s: string): void => io.out(s);
  say(`${c.bold('simpler-region doctor')}  node ${process.version}, ${process.platform}/${process.arch}, cwd ${io.cwd}\n`);
  say(`${c.bold('Backends')}\n`);
  for (const name of KNOWN_BACKENDS) {
    const r = resolveBackendModule(name, io.cwd);
    say(`  ${name.padEnd(20)}${r.resolvedPath ? `${c.green('resolves')} from ${r.from === 'cwd' ? 'this project' : 'the CLI'}: ${r.resolvedPath}` : c.yellow('not installed')}\n`);
  }
  const choice = selectBackend(flags, io.env, io.cwd);
  say(`${c.bold('Selected')}  ${choice.backend}  (${choice.source}: ${choice.reason})\n`);
  if (Object.keys(choice.backendOptions).length) say(`  backendOptions ${JSON.stringify(choice.backendOptions)}\n`);
  const fail = (code: string | undefined, message: string): number => {
    say(`${c.red(c.bold('FAIL'))}  ${code ? `${code}: ` : ''}${message}\n${c.bold('Next step')}: ${nextStepFor(code, choice.backend, message)}\n`);
    return 1;
  };
  const resolved = resolveBackendModule(choice.backend, io.cwd);
  if (!resolved.resolvedPath) {
    say(`${c.red(c.bold('FAIL'))}  ${choice.backend} cannot be resolved from ${io.cwd}\n${c.bold('Next step')}: npm install ${choice.backend}, or fix the name (${choice.reason})\n`);
    return 1;
  }
  let mod: Record<string, unknown> = {};
  try {
    mod = require(resolved.resolvedPath) as Record<string, unknown>;
  } catch (e) {
    return fail('EIO', `${choice.backend} failed to load: ${(e as Error).message}`);
  }
  if (typeof mod['ascendCapabilities'] === 'function') {
    const caps = (mod['ascendCapabilities'] as (o: unknown) => AscendCapabilities)(choice.backendOptions);
    say(ascendReport(caps, c));
  }
  // The region check itself may leave device memory quarantined (an unmap that failed twice).
  const quarantineAfterCheck = (): void => {
    if (typeof mod['ascendQuarantine'] !== 'function') return;
    const q = (mod['ascendQuarantine'] as () => QuarantineReport)();
    if (q.count > 0) say(`${c.bold('Quarantine')} ${quarantineText(q, c)}\n`);
  };
  try {
    await canOpenRegion(await openBackend(choice, 0, io.env, io.cwd));
    say(`${c.bold('Region')}    opened and closed a 4096-byte region with 2 signals\n`);
    if (mod['BACKEND_NAME'] === '@simpler/hal-sim') say(`${c.bold('Self-test')} ${await simSelfTest(choice, ctx)}\n`);
    say(await l3AccessLine(choice, ctx, c));
  } catch (e) {
    if (ctx.verbose && e instanceof Error && e.stack) io.err(`${e.stack}\n`);
    quarantineAfterCheck();
    return fail(isRegionError(e) ? e.code : (e as { code?: string }).code, e instanceof Error ? e.message : String(e));
  }
  quarantineAfterCheck();
  say(`${c.green(c.bold('OK'))}  ${choice.backend} can open a region here\n`);
  return 0;
}

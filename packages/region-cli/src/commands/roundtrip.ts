import { withWorker } from '../backend/with-worker';
import { Command, Option } from 'commander';
import { U32_MAX } from '@simpler/abi';
import { L3Transport, L3_TRANSPORTS, Worker, createWorker, defaultL3Transport } from '@simpler/region-core';
import { CommandContext } from '../command-context';
import { UsageError } from '../usage-error';
import { deviceIdsOption, integerOption } from '../parse/int-option';
import { addBackendFlags } from '../backend/backend-flags';
import { selectBackend } from '../backend/select-backend';
import { backendSpecifier, openBackend } from '../backend/open-backend';
import { createProgress } from '../output/progress';
import { colourFor } from '../output/colour';
import { runRoundtrip, DeviceRoundtripResult } from '../roundtrip/run-roundtrip';
import { LatencySummary, summarizeLatency } from '../roundtrip/latency-stats';
import { RoundtripWorker } from '../roundtrip/roundtrip-worker';

interface RoundtripFlags {
  backend?: string;
  platform?: string;
  config?: string;
  level: number;
  deviceIds?: number[];
  iters: number;
  dataBytes: number;
  timeoutUs: number;
  transport?: L3Transport;
  json?: boolean;
}

/** What `roundtrip --json` prints. */
export interface RoundtripReport {
  readonly ok: boolean;
  readonly backend: string;
  readonly platform: string;
  readonly level: number;
  /** Level 3: what carried the chip children's mailbox blocks and payloads. */
  readonly transport?: L3Transport;
  readonly iters: number;
  readonly dataBytes: number;
  readonly latencyUs: LatencySummary;
  readonly verified: number;
  readonly devices?: readonly { deviceId: number; verified: number; latencyUs: LatencySummary }[];
}

/** Default bound of each host wait: generous, because the machine may be busy. */
export const DEFAULT_ROUNDTRIP_TIMEOUT_US = 10_000_000;

/** Builds the report from per-device results (latencies of every device aggregated). */
export function roundtripReport(base: Omit<RoundtripReport, 'ok' | 'latencyUs' | 'verified' | 'devices'>, results: readonly DeviceRoundtripResult[]): RoundtripReport {
  const all = new Float64Array(results.reduce((s, r) => s + r.latenciesUs.length, 0));
  let at = 0;
  for (const r of results) {
    all.set(r.latenciesUs, at);
    at += r.latenciesUs.length;
  }
  const ok = results.every((r) => r.verified === base.iters && r.mismatch === undefined);
  const report: RoundtripReport = { ok, ...base, latencyUs: summarizeLatency(all), verified: results.reduce((s, r) => s + r.verified, 0) };
  if (results.length <= 1) return report;
  return { ...report, devices: results.map((r) => ({ deviceId: r.deviceId, verified: r.verified, latencyUs: summarizeLatency(r.latenciesUs) })) };
}

/** Adds `roundtrip`: the spec section 11 job on any backend and level. */
export function registerRoundtripCommand(program: Command, ctx: CommandContext): void {
  const cmd = program
    .command('roundtrip')
    .description('prove host and device talk through one region: the spec section 11 round trip, every byte checked');
  addBackendFlags(cmd)
    .addOption(new Option('--level <level>', '2: device context in this process; 3: one chip child process per device').argParser(integerOption(2, 3)).default(2))
    .addOption(new Option('--device-ids <ids>', 'comma-separated device ids; several run concurrently (level 3) (default: 0)').argParser(deviceIdsOption))
    .addOption(new Option('--iters <n>', 'iterations, seq = 1..n').argParser(integerOption(1, U32_MAX)).default(1000))
    .addOption(new Option('--data-bytes <n>', 'bytes per direction n; the region holds 2n').argParser(integerOption(1, 2 ** 40, true)).default(4096))
    .addOption(new Option('--timeout-us <n>', 'bound of each host wait, microseconds').argParser(integerOption(1, U32_MAX)).default(DEFAULT_ROUNDTRIP_TIMEOUT_US))
    .addOption(new Option('--transport <transport>', 'level 3: shared memory or pipes between parent and chip children (default: shm where supported)').choices([...L3_TRANSPORTS]))
    .option('--json', 'print {"ok","backend","platform","level","transport" (level 3),"iters","dataBytes","latencyUs":{"p50","p99","max"}}')
    .option('--verbose', 'print stack traces on failure')
    .addHelpText('after', '\nExit status: 0 when every iteration verified, 1 otherwise (or on a backend error), 2 on a usage error.')
    .action(async (flags: RoundtripFlags) => {
      ctx.exitCode = await roundtripCommand(flags, ctx);
    });
}

async function roundtripCommand(flags: RoundtripFlags, ctx: CommandContext): Promise<number> {
  const { io } = ctx;
  const deviceIds = flags.deviceIds ?? [0];
  if (flags.level === 2 && deviceIds.length !== 1) {
    throw new UsageError(`--device-ids ${deviceIds.join(',')}: level 2 drives one device; use --level 3 for several`);
  }
  if (flags.level === 2 && flags.transport !== undefined) throw new UsageError(`--transport ${flags.transport}: only level 3 has chip children to talk to`);
  const transport = flags.level === 3 ? (flags.transport ?? defaultL3Transport()) : undefined;
  const choice = selectBackend(flags, io.env, io.cwd);
  let worker: Worker;
  if (flags.level === 2) {
    const backend = await openBackend(choice, deviceIds[0]!, io.env, io.cwd);
    worker = await createWorker({ level: 2, backend, deviceId: deviceIds[0]! });
  } else {
    worker = await createWorker({ level: 3, backend: backendSpecifier(choice, io.cwd), backendOptions: choice.backendOptions, deviceIds, transport });
  }
  // At L3 each chip child names its backend's platform in its init-done frame.
  const platform = worker.platformOf(deviceIds[0]);
  const progress = createProgress(io, flags.json === true);
  const results: DeviceRoundtripResult[] = await withWorker(worker, async () => {
    let done = 0;
    progress.start(flags.iters * deviceIds.length, `round trips on ${deviceIds.length === 1 ? `device ${deviceIds[0]}` : `devices ${deviceIds.join(',')}`}`);
    return runRoundtrip({
      worker: worker as unknown as RoundtripWorker<unknown>,
      deviceIds,
      iters: flags.iters,
      bytesPerDirection: flags.dataBytes,
      timeoutUs: flags.timeoutUs,
      onIteration: () => progress.update(++done),
    });
  }, () => progress.stop());
  const report = roundtripReport({ backend: choice.backend, platform, level: flags.level, ...(transport ? { transport } : {}), iters: flags.iters, dataBytes: flags.dataBytes }, results);
  if (flags.json) {
    io.out(JSON.stringify(report) + '\n');
  } else {
    const c = colourFor(io);
    const total = flags.iters * deviceIds.length;
    const head = report.ok ? c.green(c.bold('roundtrip ok')) : c.red(c.bold('roundtrip FAILED'));
    io.out(
      `${head}: ${report.verified}/${total} iterations verified on ${report.backend} (${platform}), level ${report.level}${transport ? ` (${transport})` : ''}, ` +
        `device${deviceIds.length === 1 ? '' : 's'} ${deviceIds.join(',')}, ${flags.dataBytes} bytes per direction\n` +
        `latency (us): p50 ${report.latencyUs.p50}  p99 ${report.latencyUs.p99}  max ${report.latencyUs.max}\n`,
    );
    for (const d of report.devices ?? []) io.out(`  device ${d.deviceId}: ${d.verified}/${flags.iters} verified, p50 ${d.latencyUs.p50}  p99 ${d.latencyUs.p99}  max ${d.latencyUs.max}\n`);
  }
  for (const r of results) if (r.mismatch) io.err(`simpler-region: roundtrip mismatch: ${r.mismatch}\n`);
  return report.ok ? 0 : 1;
}

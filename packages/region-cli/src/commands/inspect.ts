import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { isValidCopyRange } from '@simpler/abi';
import { L3Transport, L3_TRANSPORTS, RegionAccess } from '@simpler/region-core';
import { CommandContext } from '../command-context';
import { UsageError } from '../usage-error';
import { hexBytesOption, integerOption, notifyOption } from '../parse/int-option';
import { addBackendFlags } from '../backend/backend-flags';
import { selectBackend } from '../backend/select-backend';
import { colourFor } from '../output/colour';
import { InspectPlan } from '../inspect/inspect-plan';
import { renderInspect } from '../inspect/inspect-report';
import { inspectOwnedRegion } from '../inspect/inspect-owned-region';
import { inspectWorkerRegion } from '../inspect/inspect-worker-region';

export type { InspectReport, InspectHeader, InspectLayout } from '../inspect/inspect-report';

/** The access modes `--access` accepts. */
const ACCESS_MODES: readonly RegionAccess[] = ['direct', 'proxied'];

interface InspectFlags {
  backend?: string;
  platform?: string;
  config?: string;
  level: 2 | 3;
  access?: RegionAccess;
  transport?: L3Transport;
  dataBytes: number;
  signalCount: number;
  writeFile?: string;
  writeHex?: Uint8Array;
  offset: number;
  notify: { signalId: number; value: number }[];
  maxBytes: number;
  json?: boolean;
}

function collectNotify(value: string, previous: { signalId: number; value: number }[] = []): { signalId: number; value: number }[] {
  return [...previous, notifyOption(value)];
}

function payloadOf(flags: InspectFlags, cwd: string): Uint8Array | undefined {
  if (flags.writeFile !== undefined && flags.writeHex !== undefined) throw new UsageError('--write-file and --write-hex cannot be used together');
  if (flags.writeHex !== undefined) return flags.writeHex;
  if (flags.writeFile === undefined) return undefined;
  try {
    return readFileSync(path.resolve(cwd, flags.writeFile));
  } catch (e) {
    throw new UsageError(`--write-file ${flags.writeFile}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Checks the flags against each other and the region's size; usage errors before anything opens. */
function planOf(flags: InspectFlags, cwd: string): InspectPlan {
  if (flags.level === 2 && flags.transport !== undefined) throw new UsageError(`--transport ${flags.transport}: only level 3 has a chip child to talk to`);
  if (flags.level === 2 && flags.access === 'proxied') throw new UsageError('--access proxied: a level-2 region is always direct (this process owns it); use --level 3');
  const payload = payloadOf(flags, cwd);
  if (payload && !isValidCopyRange(flags.dataBytes, flags.offset, payload.length)) {
    throw new UsageError(`--offset ${flags.offset} with ${payload.length} bytes does not fit the ${flags.dataBytes}-byte data area (--data-bytes)`);
  }
  for (const n of flags.notify) {
    if (n.signalId >= flags.signalCount) throw new UsageError(`--notify ${n.signalId}:${n.value}: signal id must be below --signal-count ${flags.signalCount}`);
  }
  return {
    dataBytes: flags.dataBytes,
    signalCount: flags.signalCount,
    ...(payload ? { payload } : {}),
    offset: flags.offset,
    notify: flags.notify,
    maxBytes: flags.maxBytes,
    ...(flags.access ? { access: flags.access } : {}),
    ...(flags.transport ? { transport: flags.transport } : {}),
  };
}

/** Adds `inspect`: open a region, optionally write and notify, then show its access mode, header or layout, signals and data. */
export function registerInspectCommand(program: Command, ctx: CommandContext): void {
  const cmd = program.command('inspect').description('open a region, optionally write bytes and notify, then print its access mode, header, signals and a hex view of the data');
  addBackendFlags(cmd)
    .addOption(new Option('--level <level>', '2: this process owns the region; 3: a chip child process owns it').argParser(integerOption(2, 3)).default(2))
    .addOption(new Option('--access <mode>', 'level 3: force direct (this process maps the region) or proxied (every call is a request to the chip child); default: direct where the backend can share its memory').choices([...ACCESS_MODES]))
    .addOption(new Option('--transport <transport>', 'level 3: shared memory or pipes to the chip child (default: shm where supported)').choices([...L3_TRANSPORTS]))
    .addOption(new Option('--data-bytes <n>', 'data area size').argParser(integerOption(1, 2 ** 32, true)).default(4096))
    .addOption(new Option('--signal-count <k>', 'signal slots').argParser(integerOption(1, 4096)).default(2))
    .option('--write-file <file>', 'copy this file into the data area (datacopy h2region)')
    .addOption(new Option('--write-hex <hex>', 'copy these bytes into the data area, e.g. deadbeef').argParser(hexBytesOption))
    .addOption(new Option('--offset <n>', 'data offset of the write').argParser(integerOption(0, Number.MAX_SAFE_INTEGER, true)).default(0))
    .addOption(new Option('--notify <id:value>', 'notify a signal after the write (repeatable, in order)').argParser(collectNotify).default([]))
    .addOption(new Option('--max-bytes <n>', 'show at most this many data bytes').argParser(integerOption(0, 2 ** 30, true)).default(512))
    .option('--json', 'print the access mode, header (level 2) or layout (level 3), signals and data as JSON')
    .action(async (flags: InspectFlags) => {
      const plan = planOf(flags, ctx.io.cwd);
      const choice = selectBackend(flags, ctx.io.env, ctx.io.cwd);
      const report = flags.level === 3 ? await inspectWorkerRegion(plan, choice, ctx.io) : await inspectOwnedRegion(plan, choice, ctx.io);
      const wrote = plan.payload ? { what: flags.writeFile ?? 'hex bytes', offset: flags.offset } : undefined;
      ctx.io.out(flags.json ? JSON.stringify(report) + '\n' : renderInspect(report, colourFor(ctx.io), wrote));
    });
}

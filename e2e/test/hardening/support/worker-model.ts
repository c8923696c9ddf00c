import fc from 'fast-check';
import { MappedRegion, RegionErrorCode, Worker } from '@simpler/region-core';
import { regionErrorProblem, sameBytes, settle } from './checks';
import {
  HUGE_U64,
  JUNK,
  Rel,
  SigVal,
  SrcSpec,
  asU32,
  asU64,
  buildSource,
  relArb,
  resolveRel,
  resolveSig,
  sigValArb,
  srcArb,
  timeoutArb,
} from './values';

/** A data size the simulator cannot place in its device address space: `ENOMEM` without allocating. */
export const ENOMEM_DATA_BYTES = 2 ** 53 - 2 ** 40;
const MAX_TOTAL = 2 ** 53 - 64;
const SIM_SPACE = 2 ** 53 - 2 ** 45;

/** Which region a call gets. */
export type RegionSel =
  | { readonly t: 'pool'; readonly i: number }
  | { readonly t: 'foreign' }
  | { readonly t: 'forged'; readonly how: 'mapped' | 'mapped-next' | 'object' | 'bigint' | 'number' | 'null' | 'string' };

/** The `options` argument of a region call. */
export type OptSel = 'none' | 'empty' | 'own' | 'own-big' | 'other' | 'bad-id' | 'null' | 'number' | 'typo';

/** One step of a random program against the public Worker API. */
export type Op =
  | { readonly k: 'open'; readonly dataBytes: unknown; readonly signalCount: unknown; readonly flags: unknown; readonly opts: 'default' | 'chip' | 'chip-big' | 'bad-chip' | 'null' | 'number' | 'typo'; readonly chip: number }
  | { readonly k: 'close'; readonly r: RegionSel; readonly opt: OptSel }
  | { readonly k: 'info'; readonly r: RegionSel; readonly opt: OptSel }
  | { readonly k: 'h2r'; readonly r: RegionSel; readonly offset: Rel; readonly src: SrcSpec; readonly opt: OptSel }
  | { readonly k: 'r2h'; readonly r: RegionSel; readonly offset: Rel; readonly nbytes: Rel; readonly opt: OptSel }
  | { readonly k: 'notify'; readonly r: RegionSel; readonly id: Rel; readonly value: SigVal; readonly opt: OptSel }
  | { readonly k: 'wait'; readonly r: RegionSel; readonly id: Rel; readonly target: SigVal; readonly timeout: unknown; readonly opt: OptSel };

const regionSelArb: fc.Arbitrary<RegionSel> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ t: fc.constant('pool' as const), i: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'foreign' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('forged' as const),
      how: fc.constantFrom('mapped', 'mapped-next', 'object', 'bigint', 'number', 'null', 'string') as fc.Arbitrary<'mapped'>,
    }),
  },
);

const optArb: fc.Arbitrary<OptSel> = fc.oneof(
  { weight: 10, arbitrary: fc.constant('none' as const) },
  { weight: 3, arbitrary: fc.constantFrom('empty' as const, 'own' as const, 'own-big' as const) },
  { weight: 1, arbitrary: fc.constantFrom('other' as const, 'bad-id' as const, 'null' as const, 'number' as const, 'typo' as const) },
);

const dataBytesArb = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 1, max: 3000 }) },
  { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: 3000n }) },
  { weight: 2, arbitrary: fc.constantFrom(0, 0n, ...JUNK, ...HUGE_U64, 2 ** 53 - 1, 2 ** 53 - 64, ENOMEM_DATA_BYTES) },
);
const signalCountArb = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 1, max: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, 2n, 0, ...JUNK) },
);
const flagsArb = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(undefined, 0, 0n) }, { weight: 1, arbitrary: fc.constantFrom(1, 2 ** 31, ...JUNK) });

/** Random programs: mostly valid calls on live regions, with invalid arguments and regions mixed in. */
export const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('open' as const),
      dataBytes: dataBytesArb,
      signalCount: signalCountArb,
      flags: flagsArb,
      opts: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom('default' as const, 'chip' as const, 'chip-big' as const) },
        { weight: 1, arbitrary: fc.constantFrom('bad-chip' as const, 'null' as const, 'number' as const, 'typo' as const) },
      ),
      chip: fc.nat(7),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('close' as const), r: regionSelArb, opt: optArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('info' as const), r: regionSelArb, opt: optArb }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant('h2r' as const), r: regionSelArb, offset: relArb, src: srcArb, opt: optArb }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('r2h' as const), r: regionSelArb, offset: relArb, nbytes: relArb, opt: optArb }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('notify' as const), r: regionSelArb, id: relArb, value: sigValArb, opt: optArb }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('wait' as const), r: regionSelArb, id: relArb, target: sigValArb, timeout: timeoutArb, opt: optArb }) },
);

/** What the model knows about one region this program opened. */
interface ModelRegion {
  readonly region: MappedRegion;
  readonly bytes: Uint8Array;
  readonly signals: number[];
  open: boolean;
}

/** Success (with an optional check of the value) or the error code the spec demands. */
type Expect = { readonly ok: true; readonly check?: (value: unknown) => string | undefined; readonly apply?: (value: unknown) => void } | { readonly ok: false; readonly code: RegionErrorCode };

const EINVAL: Expect = { ok: false, code: 'EINVAL' };

/** Settings of a model run. */
export interface ModelRunOptions {
  /** The worker under test. */
  readonly worker: Worker;
  /** A region of another worker (foreign: always EINVAL here). */
  readonly foreign: MappedRegion;
  /** Called after every step (e.g. the simulator's guard check); returns a problem or undefined. */
  readonly afterStep?: () => string | undefined;
  /** Opens every region with this `access` option, and checks that each region reports it. */
  readonly access?: 'direct' | 'proxied';
}

/**
 * Runs one random program against a worker and the model side by side. Returns the first
 * disagreement (a string naming the step), or undefined. Closes every region it opened.
 */
export async function runWorkerProgram(ops: readonly Op[], options: ModelRunOptions): Promise<string | undefined> {
  const { worker, foreign } = options;
  const pool: ModelRegion[] = [];
  try {
    for (let step = 0; step < ops.length; step++) {
      const op = ops[step];
      const problem = await runStep(op, pool, worker, foreign, options.access);
      if (problem) return `step ${step} ${describeOp(op)}: ${problem}`;
      const after = options.afterStep?.();
      if (after) return `after step ${step} ${describeOp(op)}: ${after}`;
    }
    return await verifyAll(pool, worker);
  } finally {
    for (const m of pool) if (m.open) await worker.closeMappedRegion(m.region).catch(() => undefined);
  }
}

function describeOp(op: Op): string {
  return JSON.stringify(op, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

/** Region call arguments resolved from a selector: the region value and its model (if any). */
function pick(sel: RegionSel, pool: ModelRegion[], worker: Worker, foreign: MappedRegion): { value: unknown; model?: ModelRegion; size: number; signals: number } {
  if (sel.t === 'pool' && pool.length > 0) {
    const m = pool[sel.i % pool.length];
    return { value: m.region, model: m, size: m.region.dataBytes, signals: m.region.signalCount };
  }
  if (sel.t === 'foreign') return { value: foreign, size: foreign.dataBytes, signals: foreign.signalCount };
  const real = pool.find((m) => m.open)?.region ?? foreign;
  const how = sel.t === 'forged' ? sel.how : 'object';
  const h = Number(real.handle);
  const value =
    how === 'mapped'
      ? new MappedRegion(worker, h, real.workerId, real.dataBytes, real.signalCount, 0)
      : how === 'mapped-next'
        ? new MappedRegion(worker, h + 1, real.workerId, real.dataBytes, real.signalCount, 0)
        : how === 'object'
          ? { handle: real.handle, workerId: real.workerId, dataBytes: real.dataBytes, signalCount: real.signalCount, flags: 0, closed: false }
          : how === 'bigint'
            ? real.handle
            : how === 'number'
              ? h
              : how === 'null'
                ? null
                : String(real.handle);
  return { value, size: real.dataBytes, signals: real.signalCount };
}

function optValue(opt: OptSel, region: { workerId?: unknown }, worker: Worker): unknown {
  const own = typeof region?.workerId === 'number' ? region.workerId : worker.workerIds[0];
  switch (opt) {
    case 'none':
      return undefined;
    case 'empty':
      return {};
    case 'own':
      return { workerId: own };
    case 'own-big':
      return { workerId: BigInt(own) };
    case 'other':
      return { workerId: worker.workerIds.find((id) => id !== own) ?? own + 1 };
    case 'bad-id':
      return { workerId: 1.5 };
    case 'null':
      return null;
    case 'number':
      return 7;
    case 'typo':
      return { workerId: own, wokerId: own };
  }
}

/** EINVAL unless the region is an open one of this program and the options agree with it. */
function regionRule(model: ModelRegion | undefined, opt: OptSel): boolean {
  return model !== undefined && model.open && (opt === 'none' || opt === 'empty' || opt === 'own' || opt === 'own-big');
}

async function runStep(op: Op, pool: ModelRegion[], worker: Worker, foreign: MappedRegion, access: 'direct' | 'proxied' | undefined): Promise<string | undefined> {
  let call: () => Promise<unknown>;
  let expect: Expect;
  if (op.k === 'open') {
    const chips = worker.workerIds;
    const chip = op.opts === 'chip' ? chips[op.chip % chips.length] : op.opts === 'bad-chip' ? 1000 + op.chip : undefined;
    const options: Record<string, unknown> = {};
    if (op.signalCount !== undefined) options.signalCount = op.signalCount;
    if (op.flags !== undefined) options.flags = op.flags;
    if (chip !== undefined) options.workerId = chip;
    if (op.opts === 'chip-big') options.workerId = BigInt(chips[op.chip % chips.length]);
    if (op.opts === 'typo') options.signalcount = 2;
    if (access !== undefined) options.access = access;
    const opts = op.opts === 'null' ? null : op.opts === 'number' ? 3 : options;
    call = () => worker.openMappedRegion(op.dataBytes as number, opts as never);
    expect = expectOpen(op, opts, chips);
    if (expect.ok) {
      const db = asU64(op.dataBytes)!;
      const sc = asU32(op.signalCount ?? 1)!;
      const wid = asU32(options.workerId) ?? chips[0];
      expect = {
        ok: true,
        check: (v) => {
          const r = v as MappedRegion;
          if (!(r instanceof MappedRegion)) return 'open did not return a MappedRegion';
          if (r.dataBytes !== db || r.signalCount !== sc || r.flags !== 0 || r.workerId !== wid || r.closed) return `bad region ${r.dataBytes}/${r.signalCount}/${r.workerId}`;
          if (typeof r.handle !== 'bigint' || r.handle <= 0n || r.handle >= 2n ** 64n) return `bad handle ${String(r.handle)}`;
          if (access !== undefined && r.access !== access) return `region access ${r.access}, asked for ${access}`;
          return undefined;
        },
        apply: (v) => pool.push({ region: v as MappedRegion, bytes: new Uint8Array(db), signals: new Array<number>(sc).fill(0), open: true }),
      };
    }
  } else {
    const target = pick(op.r, pool, worker, foreign);
    const opt = optValue(op.opt, target.value as { workerId?: unknown }, worker);
    const m = target.model;
    const regionOk = regionRule(m, op.opt);
    const r = target.value as MappedRegion;
    switch (op.k) {
      case 'close':
        call = () => worker.closeMappedRegion(r, opt as never);
        expect = regionOk ? { ok: true, apply: () => (m!.open = false) } : EINVAL;
        break;
      case 'info': {
        call = () => worker.mappedRegionInfo(r, opt as never);
        expect = regionOk ? { ok: true, check: (v) => checkInfo(v, m!) } : EINVAL;
        break;
      }
      case 'h2r': {
        const offset = resolveRel(op.offset, target.size);
        const off = asU64(offset);
        const room = off !== undefined && off <= target.size ? target.size - off : target.size;
        const src = buildSource(op.src, room);
        call = () => worker.mappedRegionDatacopyH2Region(r, offset as number, src.value as Uint8Array, opt as never);
        const ok = regionOk && src.bytes !== undefined && off !== undefined && off <= target.size && src.bytes.byteLength <= target.size - off;
        expect = ok ? { ok: true, apply: () => m!.bytes.set(src.bytes!, off) } : EINVAL;
        break;
      }
      case 'r2h': {
        const offset = resolveRel(op.offset, target.size);
        const off = asU64(offset);
        const room = off !== undefined && off <= target.size ? target.size - off : target.size;
        const nbytes = resolveRel(op.nbytes, room);
        const n = asU64(nbytes);
        call = () => worker.mappedRegionDatacopyRegion2H(r, offset as number, nbytes as number, opt as never);
        const ok = regionOk && off !== undefined && n !== undefined && off <= target.size && n <= target.size - off;
        expect = ok
          ? {
              ok: true,
              check: (v) => {
                if (!(v instanceof Uint8Array)) return 'region2h did not return a Uint8Array';
                if (v.byteOffset !== 0 || v.buffer.byteLength !== v.byteLength) return `region2h result is a window into a ${v.buffer.byteLength}-byte buffer`;
                return sameBytes(v, m!.bytes.subarray(off, off! + n!)) ? undefined : `region2h(${off}, ${n}) disagrees with the model`;
              },
            }
          : EINVAL;
        break;
      }
      case 'notify': {
        const idRaw = resolveRel(op.id, target.signals - 1);
        const id = asU32(idRaw);
        const current = m && id !== undefined && id < target.signals ? m.signals[id] : 0;
        const valueRaw = resolveSig(op.value, current);
        const value = asU32(valueRaw);
        call = () => worker.mappedRegionNotify(r, idRaw as number, valueRaw as number, opt as never);
        const ok = regionOk && id !== undefined && id < target.signals && value !== undefined && value >= current;
        expect = ok ? { ok: true, apply: () => (m!.signals[id!] = value!) } : EINVAL;
        break;
      }
      case 'wait': {
        const idRaw = resolveRel(op.id, target.signals - 1);
        const id = asU32(idRaw);
        const current = m && id !== undefined && id < target.signals ? m.signals[id] : 0;
        const targetRaw = resolveSig(op.target, current);
        const t = asU32(targetRaw);
        const timeout = asU32(op.timeout);
        call = () => worker.mappedRegionWait(r, idRaw as number, targetRaw as number, op.timeout as number, opt as never);
        const valid = regionOk && id !== undefined && id < target.signals && t !== undefined && timeout !== undefined;
        expect = !valid ? EINVAL : current >= t! ? { ok: true } : { ok: false, code: 'EAGAIN' };
        break;
      }
    }
  }
  const got = await settle(call);
  if (expect.ok) {
    if (!got.ok) return `expected success, got ${(got.error as Error)?.name}: ${(got.error as Error)?.message}`;
    const bad = expect.check?.(got.value);
    if (bad) return bad;
    expect.apply?.(got.value);
    return undefined;
  }
  if (got.ok) return `expected ${expect.code}, but the call succeeded`;
  return regionErrorProblem(got.error, expect.code);
}

function expectOpen(op: Extract<Op, { k: 'open' }>, opts: unknown, chips: readonly number[]): Expect {
  if (typeof opts !== 'object' || opts === null) return EINVAL;
  const o = opts as { workerId?: unknown };
  if (Object.keys(o).some((key) => !['signalCount', 'flags', 'workerId', 'access'].includes(key))) return EINVAL;
  if (o.workerId !== undefined && !chips.includes(asU32(o.workerId) as number)) return EINVAL;
  const flags = asU32(op.flags ?? 0);
  if (flags !== 0) return EINVAL;
  const db = asU64(op.dataBytes);
  const sc = asU32(op.signalCount ?? 1);
  if (db === undefined || sc === undefined || db === 0 || sc === 0) return EINVAL;
  const dataOffset = Math.ceil((64 + 64 * sc) / 64) * 64;
  if (db > MAX_TOTAL - dataOffset) return EINVAL;
  const total = Math.ceil((dataOffset + db) / 64) * 64;
  if (total > SIM_SPACE) return { ok: false, code: 'ENOMEM' };
  return { ok: true };
}

function checkInfo(v: unknown, m: ModelRegion): string | undefined {
  const i = v as Record<string, unknown>;
  const sc = m.region.signalCount;
  const dataOffset = Math.ceil((64 + 64 * sc) / 64) * 64;
  const total = Math.ceil((dataOffset + m.region.dataBytes) / 64) * 64;
  if (i.hostDataPtr !== 0n || i.hostSignalPtr !== 0n) return `host pointers leaked: ${String(i.hostDataPtr)} ${String(i.hostSignalPtr)}`;
  if (i.dataBytes !== m.region.dataBytes || i.signalCount !== sc || i.totalBytes !== total || i.flags !== 0) {
    return `info sizes disagree: ${i.dataBytes}/${i.signalCount}/${i.totalBytes}/${i.flags}`;
  }
  if (typeof i.deviceDataPtr !== 'bigint' || typeof i.deviceSignalPtr !== 'bigint') return 'device pointers are not bigints';
  if (i.deviceDataPtr - i.deviceSignalPtr !== BigInt(dataOffset - 64)) return 'device pointers do not follow the layout';
  if (i.deviceSignalPtr % 64n !== 0n) return 'device signal pointer not 64-byte aligned';
  return undefined;
}

/** Reads every open region in full and probes every signal: all must match the model. */
async function verifyAll(pool: ModelRegion[], worker: Worker): Promise<string | undefined> {
  for (const m of pool) {
    if (!m.open) {
      const got = await settle(() => worker.mappedRegionDatacopyRegion2H(m.region, 0, 1));
      const p = got.ok ? 'a closed region was readable' : regionErrorProblem(got.error, 'EINVAL');
      if (p) return `closed region: ${p}`;
      if (!m.region.closed) return 'a closed region reports closed === false';
      continue;
    }
    const all = await worker.mappedRegionDatacopyRegion2H(m.region, 0, m.region.dataBytes);
    if (!sameBytes(all, m.bytes)) return `final contents of region ${m.region.handle} disagree with the model`;
    for (let id = 0; id < m.signals.length; id++) {
      await worker.mappedRegionWait(m.region, id, m.signals[id], 0);
      if (m.signals[id] < 0xffffffff) {
        const miss = await settle(() => worker.mappedRegionWait(m.region, id, m.signals[id] + 1, 0));
        const p = miss.ok ? `probe of signal ${id} above its value ${m.signals[id]} succeeded` : regionErrorProblem(miss.error, 'EAGAIN');
        if (p) return p;
      }
    }
  }
  return undefined;
}

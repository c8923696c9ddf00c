import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

// Simulator kernel modules (docs/backends/sim.md) for the launch-path suites. Device addresses
// are below 2^53, so Number() of an argument is exact.
const RECORD = `'use strict';
// record(log, tag): appends {tag, how many arguments it got} to the log at device address log
// (u32 count, then 8 bytes per entry), so a test sees the order kernels ran in and their arity.
module.exports = function record(mem, args) {
  const log = Number(args[0]);
  const n = mem.load32Acquire(log);
  mem.store32Release(log + 8 + 8 * n, Number(args[1] & 0xffffffffn));
  mem.store32Release(log + 12 + 8 * n, args.length);
  mem.store32Release(log, n + 1);
};
`;

const EXIT = `'use strict';
// exit(): ends the device thread (process.exit inside a worker thread ends only that thread).
module.exports = function exit() {
  process.exit(7);
};
`;

/** Paths of the kernel modules, and a cleanup. */
export interface LaunchKernels {
  readonly record: string;
  readonly exit: string;
  remove(): void;
}

/** Writes the kernel modules into a fresh temp dir. */
export function writeLaunchKernels(): LaunchKernels {
  const dir = mkdtempSync(path.join(tmpdir(), 'simpler-lq-kernels-'));
  const write = (name: string, source: string): string => {
    const file = path.join(dir, name);
    writeFileSync(file, source);
    return file;
  };
  return {
    record: write('record.js', RECORD),
    exit: write('exit.js', EXIT),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Bytes a record log of `entries` entries takes. */
export function recordLogBytes(entries: number): number {
  return 8 + 8 * entries;
}

/** The entries of a record log read back from its region. */
export function recordedEntries(log: Uint8Array): { tag: number; argc: number }[] {
  const view = new DataView(log.buffer, log.byteOffset, log.byteLength);
  const count = view.getUint32(0, true);
  const entries: { tag: number; argc: number }[] = [];
  for (let i = 0; i < count; i++) entries.push({ tag: view.getUint32(8 + 8 * i, true), argc: view.getUint32(12 + 8 * i, true) });
  return entries;
}

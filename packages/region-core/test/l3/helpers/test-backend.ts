import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** Name the test backend reports. */
export const TEST_BACKEND_NAME = 'l3-test-backend';

// A plain CommonJS backend over SharedArrayBuffer memory. Kernels:
//  store-signal(slotAddr, value, delayMs, _): after delayMs, stores value into the slot at slotAddr.
//  store-args(addr, a, b, c): writes a, b, c as u64 LE at device address addr.
//  fail(): makes the next synchronize reject.
// Device bases are deterministic per backend instance, so two instances give equal infos.
const SOURCE = `'use strict';
exports.BACKEND_NAME = ${JSON.stringify(TEST_BACKEND_NAME)};
exports.createBackend = function createBackend(options) {
  if (options.failInit) throw new Error('init refused: failInit option set');
  let next = 0x100000000n;
  const live = new Map();
  const pending = new Set();
  let failure;
  function locate(addr) {
    for (const [base, bytes] of live) {
      if (addr >= base && addr < base + BigInt(bytes.byteLength)) return { bytes, offset: Number(addr - base) };
    }
    throw new Error('device address ' + addr + ' is not in any allocation');
  }
  return {
    name: ${JSON.stringify(TEST_BACKEND_NAME)},
    abiVersion: 1,
    platform: options.platform || 'testsim',
    deviceId: options.deviceId,
    allocate(totalBytes) {
      const bytes = new Uint8Array(new SharedArrayBuffer(totalBytes));
      const base = next;
      next += BigInt(Math.ceil((totalBytes + 4096) / 4096) * 4096);
      live.set(base, bytes);
      return { bytes, hostBase: 0x7f0000000000n + base, deviceBase: base, release() { live.delete(base); } };
    },
    launch(kernel, args) {
      if (kernel === 'store-signal') {
        const { bytes, offset } = locate(args[0]);
        const cells = new Int32Array(bytes.buffer, bytes.byteOffset + offset, 1);
        pending.add(new Promise((resolve) => setTimeout(() => {
          Atomics.store(cells, 0, Number(args[1]) | 0);
          Atomics.notify(cells, 0);
          resolve();
        }, Number(args[2]))));
      } else if (kernel === 'store-args') {
        const { bytes, offset } = locate(args[0]);
        const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 24);
        for (let i = 0; i < 3; i++) view.setBigUint64(8 * i, args[i + 1], true);
      } else if (kernel === 'fail') {
        failure = new Error('kernel fail ran');
      } else {
        throw new Error('unknown kernel ' + kernel);
      }
    },
    async synchronize() {
      await Promise.all([...pending]);
      pending.clear();
      if (failure) { const f = failure; failure = undefined; throw f; }
    },
    destroy() { live.clear(); },
  };
};
`;

/** Writes the test backend into a fresh temp dir; returns its path and a cleanup. */
export function writeTestBackend(): { file: string; dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'simpler-l3-backend-'));
  const file = path.join(dir, 'l3-test-backend.js');
  writeFileSync(file, SOURCE);
  return { file, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// A pending Atomics.waitAsync does not keep Node alive on its own. When the only other actor is
// an unref'd device thread (as in a simulator), a wait must still hold the process open until it
// resolves. This needs a real process exit, so it runs the built package in a child process.
const SCRIPT = `
const { Worker: Thread } = require('node:worker_threads');
const { DeviceContext } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))});
const backend = {
  name: 'liveness', abiVersion: 1, platform: 'test', deviceId: 0,
  // The memory is published through a global so the device thread can reach it.
  allocate(n) { globalThis.__sab = new SharedArrayBuffer(n); return { bytes: new Uint8Array(globalThis.__sab), hostBase: 0n, deviceBase: 0n, release() {} }; },
  destroy() {},
};
const ctx = new DeviceContext(backend);
const h = ctx.open(64, 1);
const thread = new Thread(\`
  const { workerData } = require('node:worker_threads');
  const i32 = new Int32Array(workerData);
  setTimeout(() => { Atomics.store(i32, 16, 1); Atomics.notify(i32, 16); }, 100);
\`, { eval: true, workerData: globalThis.__sab });
thread.unref();
ctx.waitAsync(h, 0, 1, 10000000).then(() => console.log('resolved'), (e) => console.log('rejected', e.code));
`;

describe('async waits keep the process alive', () => {
  it('a wait whose only waker is an unref-ed thread still resolves', () => {
    const result = spawnSync(process.execPath, ['-e', SCRIPT], { encoding: 'utf8', timeout: 30_000 });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('resolved');
  });
});

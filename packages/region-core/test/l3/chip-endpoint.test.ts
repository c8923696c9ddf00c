import { spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DeviceContext } from '../../src/context/device-context';
import { ChipEndpoint, ChipEndpointOptions } from '../../src/l3/chip-endpoint';
import { SHM_DIR } from '../../src/l3/sideband-segment';
import type { Endpoint } from '../../src/worker/endpoint';
import { LocalEndpoint } from '../../src/worker/local-endpoint';
import { TRANSPORTS, eventually, l3Mappings, processGone, segmentsOf } from './helpers/process-state';
import { writeTestBackend } from './helpers/test-backend';

const backend = writeTestBackend();
const live: ChipEndpoint[] = [];

async function chip(transport: (typeof TRANSPORTS)[number], deviceId = 0, extra: Partial<ChipEndpointOptions> = {}): Promise<ChipEndpoint> {
  const e = await ChipEndpoint.spawn({ deviceId, backend: backend.file, stderr: 'pipe', transport, ...extra });
  live.push(e);
  return e;
}

afterAll(async () => {
  await Promise.all(live.map((e) => e.shutdown()));
  backend.remove();
});

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Runs the same calls on any endpoint and records every result or error (numbers masked in messages). */
async function script(e: Endpoint): Promise<unknown[]> {
  const out: unknown[] = [];
  const rec = async (label: string, p: Promise<unknown>): Promise<void> => {
    try {
      const v = await p;
      out.push([label, v instanceof Uint8Array ? [...v] : v]);
    } catch (error) {
      const err = error as { code: string; name: string; message: string };
      out.push([label, err.name, err.code, err.message.replace(/\d+/g, 'N')]);
    }
  };
  const h = await e.open(4096, 3, 0);
  await rec('info', e.info(h));
  await rec('h2', e.h2region(h, 10, Uint8Array.of(1, 2, 3)));
  await rec('r2h', e.region2h(h, 8, 8));
  await rec('r2h past end', e.region2h(h, 4090, 8));
  await rec('h2 past end', e.h2region(h, 4097, new Uint8Array(0)));
  await rec('r2h zero at end', e.region2h(h, 4096, 0));
  await rec('notify', e.notify(h, 1, 3));
  await rec('notify lower', e.notify(h, 1, 2));
  await rec('notify bad id', e.notify(h, 3, 1));
  await rec('wait hit', e.wait(h, 1, 3, 0));
  await rec('probe miss', e.wait(h, 1, 4, 0));
  await rec('wait timeout', e.wait(h, 1, 4, 2000));
  const info = await e.info(h);
  await rec('launch', e.launch('store-args', [info.deviceDataPtr + 64n, 7n, 8n, 9n]));
  await rec('sync', e.synchronize());
  await rec('r2h args', e.region2h(h, 64, 24));
  await rec('launch unknown', e.launch('nope', []));
  await rec('open bad', e.open(0, 1, 0));
  await rec('open flags', e.open(16, 1, 1));
  await rec('info forged', e.info(h + 1));
  await rec('close', e.close(h));
  await rec('close again', e.close(h));
  await rec('info closed', e.info(h));
  await rec('notify closed', e.notify(h, 0, 1));
  return out;
}

describe.each(TRANSPORTS)('ChipEndpoint over the %s transport', (transport) => {
  it('gives the same results and errors as an in-process DeviceContext', async () => {
    const mod = require(backend.file);
    const local = new LocalEndpoint(0, new DeviceContext(mod.createBackend({ deviceId: 0 })));
    const expected = await script(local);
    await local.shutdown();
    const remote = await script(await chip(transport));
    expect(remote).toEqual(expected);
    const info = (expected[0] as [string, Record<string, unknown>])[1];
    expect(info.hostDataPtr).toBe(0n);
    expect(info.hostSignalPtr).toBe(0n);
  });

  it('serves one child in order: 300 pipelined notifies with rising values all succeed in order', async () => {
    const e = await chip(transport);
    const h = await e.open(4096, 1, 0);
    const order: number[] = [];
    const all: Promise<unknown>[] = [];
    for (let v = 1; v <= 300; v++) {
      all.push(e.notify(h, 0, v).then(() => order.push(v)));
      if (v % 25 === 0) all.push(e.h2region(h, v, Uint8Array.of(v & 0xff)));
    }
    await Promise.all(all);
    expect(order).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    const bytes = await e.region2h(h, 25, 1);
    expect(bytes[0]).toBe(25);
  });

  it('children work concurrently: a long wait on child 0 does not hold up child 1', async () => {
    const [a, b] = await Promise.all([chip(transport, 0), chip(transport, 1)]);
    const [ha, hb] = await Promise.all([a.open(64, 1, 0), b.open(64, 1, 0)]);
    const events: string[] = [];
    const slow = a.wait(ha, 0, 1, 1_500_000).then(
      () => events.push('a resolved'),
      (e: { code: string }) => events.push(`a ${e.code}`),
    );
    await b.notify(hb, 0, 1);
    await b.wait(hb, 0, 1, 0);
    await b.h2region(hb, 0, Uint8Array.of(1, 2, 3));
    expect([...(await b.region2h(hb, 0, 3))]).toEqual([1, 2, 3]);
    events.push('b done');
    await slow;
    expect(events).toEqual(['b done', 'a EAGAIN']);
  });

  it('a wait that the device satisfies later resolves (the child event loop keeps running)', async () => {
    const e = await chip(transport);
    const h = await e.open(64, 2, 0);
    const info = await e.info(h);
    await e.launch('store-signal', [info.deviceSignalPtr + 64n, 5n, 50n]);
    await e.wait(h, 1, 5, 5_000_000);
    await e.synchronize();
  });

  it('moves 256 MiB payloads in both directions', async () => {
    const n = 256 << 20;
    const e = await chip(transport);
    const h = await e.open(n, 1, 0);
    const src = randomFillSync(Buffer.allocUnsafe(n));
    const want = sha(src);
    await e.h2region(h, 0, src);
    const back = await e.region2h(h, 0, n);
    expect(back.byteLength).toBe(n);
    expect(sha(back)).toBe(want);
    // A window in the middle, to catch offset mistakes.
    const mid = await e.region2h(h, 12345, 1 << 20);
    expect(sha(mid)).toBe(sha(src.subarray(12345, 12345 + (1 << 20))));
    if (transport === 'pipe') {
      // The segment gave its memory back after the big transfers.
      expect(fs.statSync(path.join(SHM_DIR, e.segmentName!)).size).toBeLessThanOrEqual(64 + (1 << 20));
    } else {
      // The data window stays its fixed size: 256 MiB went through it in chunks.
      expect(e.segmentName).toBeUndefined();
      expect(l3Mappings().length).toBeGreaterThan(0);
    }
    await e.close(h);
  });

  it('kill -9 of a child fails its pending and later requests with EIO within 2 s; the other child keeps working', async () => {
    const [a, b] = await Promise.all([chip(transport, 0), chip(transport, 1)]);
    const [ha, hb] = await Promise.all([a.open(64, 1, 0), b.open(64, 1, 0)]);
    const pendingWait = a.wait(ha, 0, 1, 30_000_000);
    await new Promise((r) => setTimeout(r, 50));
    // Queued behind the wait slice in flight (between slices it would run, and satisfy the wait).
    const queued = a.notify(ha, 0, 1);
    const t0 = performance.now();
    process.kill(a.pid!, 'SIGKILL');
    const results = await Promise.allSettled([pendingWait, queued]);
    expect(performance.now() - t0).toBeLessThan(2000);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason;
      expect(err).toMatchObject({ name: 'BackendError', code: 'EIO', errno: -5 });
      expect(err.message).toMatch(/worker 0/);
      expect(err.message).toMatch(/SIGKILL/);
    }
    await expect(a.notify(ha, 0, 1)).rejects.toMatchObject({ code: 'EIO' });
    await b.notify(hb, 0, 1);
    await b.wait(hb, 0, 1, 0);
    await a.shutdown();
    expect(processGone(a.pid!)).toBe(true);
  });

  it('a child that stops answering fails the request with EIO after the request timeout', async () => {
    const e = await chip(transport, 0, { requestTimeoutMs: 300 });
    const h = await e.open(64, 1, 0);
    process.kill(e.pid!, 'SIGSTOP');
    await expect(e.notify(h, 0, 1)).rejects.toMatchObject({ code: 'EIO', message: expect.stringMatching(/did not answer notify/) });
    await e.shutdown();
    expect(await eventually(() => processGone(e.pid!), 2000)).toBe(true);
  });

  it('close() leaves no child process, no segment and no mapping behind, and later calls fail with EINVAL', async () => {
    const e = await chip(transport);
    const h = await e.open(4096, 1, 0);
    await e.h2region(h, 0, Uint8Array.of(1));
    const name = e.segmentName;
    if (transport === 'pipe') expect(fs.existsSync(path.join(SHM_DIR, name!))).toBe(true);
    else expect(l3Mappings(e.pid!).length).toBe(2);
    const mappedBefore = l3Mappings().length;
    await e.shutdown();
    expect(await eventually(() => processGone(e.pid!), 2000)).toBe(true);
    if (name !== undefined) expect(fs.existsSync(path.join(SHM_DIR, name))).toBe(false);
    // Mappings of other live endpoints of this suite remain; this one's two are gone.
    expect(l3Mappings().length).toBe(transport === 'shm' ? mappedBefore - 2 : mappedBefore);
    await expect(e.notify(h, 0, 1)).rejects.toMatchObject({ code: 'EINVAL', message: 'worker 0 is closed' });
    await e.shutdown(); // idempotent
  });

  it('close() with a request in flight does not hang and fails that request with EINVAL (the caller closed it)', async () => {
    const e = await chip(transport);
    const h = await e.open(64, 1, 0);
    const w = e.wait(h, 0, 1, 60_000_000).catch((error: unknown) => error);
    await new Promise((r) => setTimeout(r, 30));
    await e.shutdown();
    expect(await w).toMatchObject({ code: 'EINVAL', message: `region handle ${h} was closed while a wait on signal slot 0 was pending` });
    expect(await eventually(() => processGone(e.pid!), 2000)).toBe(true);
  });

  it('an init failure rejects spawn with the child error and leaves nothing behind', async () => {
    await expect(ChipEndpoint.spawn({ deviceId: 0, backend: backend.file, backendOptions: { failInit: true }, stderr: 'ignore', transport })).rejects.toMatchObject({
      code: 'EIO',
      message: expect.stringMatching(/failInit/),
    });
  });

  it.each(['SIGKILL', 'SIGTERM'] as const)('when the parent dies of %s, its children exit and its segments and mappings disappear', async (signal) => {
    const script = path.join(backend.dir, `parent-${transport}-${signal}.js`);
    fs.writeFileSync(
      script,
      `const { ChipEndpoint } = require(${JSON.stringify(require.resolve('../../dist/l3/chip-endpoint.js'))});
(async () => {
  const out = [];
  for (const id of [0, 1]) {
    const e = await ChipEndpoint.spawn({ deviceId: id, backend: ${JSON.stringify(backend.file)}, transport: ${JSON.stringify(transport)} });
    const h = await e.open(4096, 1, 0);
    await e.h2region(h, 0, Buffer.alloc(100, 1));
    out.push({ pid: e.pid, segment: e.segmentName });
  }
  process.stdout.write(JSON.stringify(out) + '\\n');
  setInterval(() => {}, 1000);
})();
`,
    );
    const parent = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let text = '';
      parent.stdout!.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.includes('\n')) resolve(text.split('\n')[0]);
      });
      parent.once('exit', (code) => reject(new Error(`parent exited early with ${code}`)));
    });
    const kids = JSON.parse(line) as { pid: number; segment: string }[];
    expect(kids).toHaveLength(2);
    for (const k of kids) {
      if (transport === 'pipe') expect(fs.existsSync(path.join(SHM_DIR, k.segment))).toBe(true);
      else expect(l3Mappings(k.pid)).toHaveLength(2);
    }
    const died = new Promise((r) => parent.once('exit', (_code, sig) => r(sig)));
    parent.kill(signal);
    expect(await died).toBe(signal);
    expect(await eventually(() => kids.every((k) => processGone(k.pid)), 10_000)).toBe(true);
    if (transport === 'pipe') expect(await eventually(() => kids.every((k) => !fs.existsSync(path.join(SHM_DIR, k.segment))), 5000)).toBe(true);
    // The shared memory objects had no name: with their last mapping gone they are gone.
    for (const k of kids) expect(l3Mappings(k.pid)).toEqual([]);
    expect(segmentsOf(parent.pid!, fs.readdirSync(SHM_DIR))).toEqual([]);
  });
});

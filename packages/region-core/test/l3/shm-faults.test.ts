import { performance } from 'node:perf_hooks';
import { ChipEndpoint } from '../../src/l3/chip-endpoint';
import { CHILD_SLEEPING_WORD } from '../../src/l3/shm-layout';
import { eventually, l3Mappings, processGone } from './helpers/process-state';
import { writeTestBackend } from './helpers/test-backend';

const backend = writeTestBackend();
const live: ChipEndpoint[] = [];

async function chip(deviceId: number): Promise<ChipEndpoint> {
  const e = await ChipEndpoint.spawn({ deviceId, backend: backend.file, stderr: 'ignore', transport: 'shm' });
  live.push(e);
  return e;
}

afterAll(async () => {
  await Promise.all(live.map((e) => e.shutdown()));
  backend.remove();
});

/** The child's `child_sleeping` word, read from the parent's mapping of the control block. */
function childSleeping(e: ChipEndpoint): number {
  const box = (e as unknown as { transport: { box: { load(word: number): number } } }).transport.box;
  return box.load(CHILD_SLEEPING_WORD);
}

/**
 * Kills `victim` with SIGKILL (unless `killedAt` says it was killed already); every pending request
 * must fail with EIO within 2 s, and `other` keeps working.
 */
async function killAndCheck(victim: ChipEndpoint, pending: Promise<unknown>[], other: ChipEndpoint, otherHandle: number, killedAt?: number): Promise<void> {
  const mapped = l3Mappings().length + (killedAt === undefined ? 0 : 2);
  let t0 = killedAt ?? 0;
  if (killedAt === undefined) {
    t0 = performance.now();
    process.kill(victim.pid!, 'SIGKILL');
  }
  const results = await Promise.allSettled(pending);
  expect(performance.now() - t0).toBeLessThan(2000);
  for (const r of results) {
    expect(r.status).toBe('rejected');
    expect((r as PromiseRejectedResult).reason).toMatchObject({ name: 'BackendError', code: 'EIO', errno: -5, message: expect.stringMatching(/SIGKILL/) });
  }
  await expect(victim.notify(1, 0, 1)).rejects.toMatchObject({ code: 'EIO' });
  // Its control block and data window are unmapped; the other child's stay.
  expect(l3Mappings().length).toBe(mapped - 2);
  await other.notify(otherHandle, 0, 1);
  await other.h2region(otherHandle, 0, Uint8Array.of(1, 2, 3));
  expect([...(await other.region2h(otherHandle, 0, 3))]).toEqual([1, 2, 3]);
  expect(await eventually(() => processGone(victim.pid!), 2000)).toBe(true);
}

describe('shared-memory transport: a chip child killed with SIGKILL', () => {
  it('while spinning between requests fails everything pending with EIO within 2 s', async () => {
    const [a, b] = await Promise.all([chip(0), chip(1)]);
    const [ha, hb] = await Promise.all([a.open(4096, 1, 0), b.open(64, 1, 0)]);
    let killedAt = 0;
    let sleepingAtKill = -1;
    // Back-to-back requests: between two of them the child spins. It is killed right after a reply
    // that finds it spinning (on a loaded machine its adaptive spin may be off for a while).
    const loop = (async () => {
      for (let v = 1; ; v++) {
        await a.notify(ha, 0, v);
        if (v >= 2000 && (childSleeping(a) === 0 || v === 200_000)) {
          sleepingAtKill = childSleeping(a);
          killedAt = performance.now();
          process.kill(a.pid!, 'SIGKILL');
        }
      }
    })();
    await killAndCheck(a, [loop], b, hb, await loop.then(() => 0, () => killedAt));
    expect(sleepingAtKill).toBe(0);
  });

  it('while asleep (idle, then inside a long wait) fails everything pending with EIO within 2 s', async () => {
    const [a, b] = await Promise.all([chip(2), chip(3)]);
    const [ha, hb] = await Promise.all([a.open(64, 1, 0), b.open(64, 1, 0)]);
    expect(await eventually(() => childSleeping(a) === 1, 2000)).toBe(true);
    const pending = [a.wait(ha, 0, 1, 30_000_000)];
    await new Promise((r) => setTimeout(r, 100));
    // Queued behind the wait slice in flight (between slices it would run, and satisfy the wait).
    pending.push(a.notify(ha, 0, 1));
    await killAndCheck(a, pending, b, hb);
  });

  it.each(['h2region', 'region2h'] as const)('in the middle of a chunked 256 MiB %s fails it with EIO within 2 s', async (direction) => {
    const n = 256 << 20;
    const [a, b] = await Promise.all([chip(4), chip(5)]);
    const [ha, hb] = await Promise.all([a.open(n, 1, 0), b.open(64, 1, 0)]);
    const payload = Buffer.alloc(n, 0x5a);
    const copy = direction === 'h2region' ? a.h2region(ha, 0, payload) : a.region2hInto(ha, 0, payload);
    await new Promise((r) => setTimeout(r, 20));
    await killAndCheck(a, [copy], b, hb);
  });
});

describe('shared-memory transport: the parent stays responsive', () => {
  it('its event loop keeps running during 256 MiB copies in both directions', async () => {
    const n = 256 << 20;
    const e = await chip(6);
    const h = await e.open(n, 1, 0);
    const payload = Buffer.alloc(n, 0x33);
    let last = performance.now();
    let worst = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 1);
    try {
      await e.h2region(h, 0, payload);
      await e.region2hInto(h, 0, payload);
    } finally {
      clearInterval(timer);
    }
    expect(payload[n - 1]).toBe(0x33);
    // Chunk copies run in slices of a few milliseconds; a blocked loop would stall for the whole copy.
    expect(worst).toBeLessThan(250);
  });

  it('a pending wait with a long timeout does not spin the parent', async () => {
    const e = await chip(7);
    const h = await e.open(64, 1, 0);
    const before = process.cpuUsage();
    await expect(e.wait(h, 0, 1, 1_000_000)).rejects.toMatchObject({ code: 'EAGAIN' });
    const used = process.cpuUsage(before);
    // A spinning parent would burn the whole second.
    expect((used.user + used.system) / 1000).toBeLessThan(300);
  });
});

import { performance } from 'node:perf_hooks';
import { L3_TRANSPORTS, L3Transport, Worker, createWorker } from '@simpler/region-core';
import { ourSegments, regionErrorProblem, sameBytes, settle, sleep } from './support/checks';
import { simBackend } from './support/sim';

// Issue 11 items 2, 9 and 10, reproduced as an adversarial user would, through the public API
// on the simulator: a source spoiled while its copy is queued, a region closed under a pending
// wait, and a worker closed under one. Each must give the spec's answer, the same at L2 and L3.

const segmentsBefore = new Set(ourSegments());
afterAll(() => {
  expect(ourSegments().filter((s) => !segmentsBefore.has(s))).toEqual([]);
});

const l3 = (transport: L3Transport): Promise<Worker> => createWorker({ level: 3, backend: '@simpler/hal-sim', deviceIds: [0], childStderr: 'ignore', transport });

describe.each(L3_TRANSPORTS)('L3 over %s: a datacopy source spoiled while the copy waits behind a pending wait', (transport) => {
  it.each([
    ['detached', (buf: ArrayBuffer) => void structuredClone(buf, { transfer: [buf] })],
    ['shrunk', (buf: ArrayBuffer) => (buf as ArrayBuffer & { resize(n: number): void }).resize(8)],
  ])('%s: EINVAL or the bytes at the call, never the 4096 bytes another region left in the segment', async (_how, spoil) => {
    const worker = await l3(transport);
    try {
      const [gate, other, target] = await Promise.all([64, 4096, 4096].map((n) => worker.openMappedRegion(n)));
      await worker.mappedRegionDatacopyH2Region(other, 0, new Uint8Array(4096).fill(0xee));
      const gateWait = settle(() => worker.mappedRegionWait(gate, 0, 1, 100_000));
      const buf = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(4096, { maxByteLength: 8192 });
      new Uint8Array(buf).fill(0x5a);
      const copy = settle(() => worker.mappedRegionDatacopyH2Region(target, 0, buf));
      spoil(buf);
      const outcome = await copy;
      if (!outcome.ok) expect(regionErrorProblem(outcome.error, 'EINVAL')).toBeUndefined();
      const got = await worker.mappedRegionDatacopyRegion2H(target, 0, 4096);
      expect(sameBytes(got, new Uint8Array(4096).fill(outcome.ok ? 0x5a : 0))).toBe(true);
      expect((await gateWait).ok).toBe(false);
    } finally {
      await worker.close();
    }
  });
});

describe.each(L3_TRANSPORTS)('a region closed while a wait on it is pending (L3 over %s)', (transport) => {
  it('L3: the wait fails with EINVAL within 100 ms and the close returns promptly, as at L2', async () => {
    const l2 = await createWorker({ level: 2, backend: await simBackend() });
    const l3worker = await l3(transport);
    try {
      const answers: string[] = [];
      for (const worker of [l2, l3worker]) {
        const region = await worker.openMappedRegion(64, { signalCount: 2 });
        const pending = settle(() => worker.mappedRegionWait(region, 1, 1, 4_000_000_000));
        await sleep(120);
        const t0 = performance.now();
        const closed = settle(() => worker.closeMappedRegion(region));
        const w = await pending;
        const waitMs = performance.now() - t0;
        expect((await closed).ok).toBe(true);
        expect(performance.now() - t0).toBeLessThan(1000);
        expect(w.ok).toBe(false);
        expect(regionErrorProblem(!w.ok && w.error, 'EINVAL')).toBeUndefined();
        expect(waitMs).toBeLessThan(100);
        answers.push((!w.ok && (w.error as Error).message.replace(/\d{6,}/, 'H')) || '');
      }
      expect(answers[1]).toBe(answers[0]);
    } finally {
      await Promise.all([l2.close(), l3worker.close()]);
    }
  });
});

describe.each(L3_TRANSPORTS)('a worker closed while a wait is pending (L3 over %s)', (transport) => {
  it('fails the wait with EINVAL at L2 and at L3 (not EIO "chip child exited with code 0")', async () => {
    const answers: string[] = [];
    for (const worker of [await createWorker({ level: 2, backend: await simBackend() }), await l3(transport)]) {
      const region = await worker.openMappedRegion(64, { signalCount: 2 });
      const pending = settle(() => worker.mappedRegionWait(region, 0, 1, 60_000_000));
      await sleep(120);
      await worker.close();
      const w = await pending;
      expect(regionErrorProblem(!w.ok && w.error, 'EINVAL')).toBeUndefined();
      answers.push((!w.ok && (w.error as Error).message.replace(/\d{6,}/, 'H')) || '');
    }
    expect(answers[1]).toBe(answers[0]);
  });
});

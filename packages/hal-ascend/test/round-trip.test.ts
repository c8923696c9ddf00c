import { BackendAllocation, SIGNAL_SLOT_BYTES, computeRegionLayout } from '@simpler/abi';
import { AscendBackend, createBackend } from '../src';
import { DoubleFixture, buildFixture, describeWithDouble, expectNothingHeld } from './fixture';

const ITERATIONS = 1000;
const HOST_WAIT_MS = 20_000; // generous: two shared cores, other suites running
const DEVICE_WAIT_MS = 20_000;

/** Fills `out` with a pattern of period 256 given by `byteAt(i)` for i < 256 (doubling copies). */
function fillPeriodic(out: Uint8Array, byteAt: (i: number) => number): void {
  const head = Math.min(256, out.length);
  for (let i = 0; i < head; i++) out[i] = byteAt(i);
  for (let filled = head; filled < out.length; filled *= 2) out.copyWithin(filled, 0, Math.min(filled, out.length - filled));
}

/**
 * The host side of spec section 11 against the native device thread of the double, which
 * addresses the region only through its device addresses. Payload and expected bytes depend on
 * seq, so a stale read fails; every byte is compared.
 */
function roundTrip(backend: AscendBackend, fx: DoubleFixture, n: number): void {
  const layout = computeRegionLayout(2 * n, 2);
  const mem: BackendAllocation = backend.allocate(layout.totalBytes);
  // Present on an aarch64 host only; called where region-core calls them.
  const flush = (offset: number, length: number): void => mem.flush?.(offset, length);
  const invalidate = (offset: number, length: number): void => mem.invalidate?.(offset, length);
  try {
    flush(0, layout.totalBytes); // open: the zeroed region reaches the device
    const signals = new Int32Array(mem.bytes.buffer, mem.bytes.byteOffset + layout.signalOffset, (2 * SIGNAL_SLOT_BYTES) / 4);
    const hostToDevice = 0;
    const deviceToHost = SIGNAL_SLOT_BYTES / 4;
    const input = mem.bytes.subarray(layout.dataOffset, layout.dataOffset + n);
    const output = mem.bytes.subarray(layout.dataOffset + n, layout.dataOffset + 2 * n);
    const payload = new Uint8Array(n);
    const expected = new Uint8Array(n);

    const started = fx.dd.startRoundTrip(
      mem.deviceBase + BigInt(layout.dataOffset),
      mem.deviceBase + BigInt(layout.signalOffset),
      ITERATIONS,
      n,
      DEVICE_WAIT_MS,
    );
    expect(started).toBe(0);
    let failure: string | null = null;
    for (let seq = 1; seq <= ITERATIONS && failure === null; seq++) {
      fillPeriodic(payload, (i) => (seq * 17 + i * 5) & 0xff);
      input.set(payload); // datacopy_h2region(0, payload)
      flush(layout.dataOffset, n);
      Atomics.store(signals, hostToDevice, seq); // notify(0, seq): release point
      flush(layout.signalOffset, SIGNAL_SLOT_BYTES);
      const deadline = Date.now() + HOST_WAIT_MS;
      for (;;) {
        // wait(1, seq, timeout): acquire point
        invalidate(layout.signalOffset + SIGNAL_SLOT_BYTES, SIGNAL_SLOT_BYTES);
        if (Atomics.load(signals, deviceToHost) >= seq) break;
        if (Date.now() > deadline) {
          failure = `host wait for seq ${seq} timed out`;
          break;
        }
      }
      if (failure !== null) break;
      invalidate(layout.dataOffset + n, n); // datacopy_region2h(n, n)
      fillPeriodic(expected, (i) => ((seq * 17 + i * 5) & 0xff) ^ ((seq + i * 3) & 0xff));
      if (Buffer.compare(output, expected) !== 0) {
        const at = output.findIndex((b, i) => b !== expected[i]);
        failure = `seq ${seq}: byte ${at} is ${output[at]}, expected ${expected[at]}`;
      }
    }
    if (failure !== null) Atomics.store(signals, hostToDevice, 0x7fffffff); // let the device thread finish
    const status = fx.dd.joinDevice();
    expect(failure).toBeNull();
    expect(status).toBe(0);
    expect(Atomics.load(signals, deviceToHost)).toBe(ITERATIONS);
  } finally {
    mem.release();
  }
}

describeWithDouble('round trip with a native device thread (spec section 11)', () => {
  let fx: DoubleFixture;
  let backend: AscendBackend;

  beforeAll(() => {
    fx = buildFixture();
    backend = createBackend({ deviceId: 0, ...fx.libs });
  });

  afterAll(() => {
    backend?.destroy();
    if (fx) expectNothingHeld(fx.dd);
  });

  it.each([
    ['1 B', 1],
    ['4 KiB', 4096],
    ['1 MiB', 1024 * 1024],
  ])(`passes ${ITERATIONS} iterations with %s per direction`, (_label, n) => {
    roundTrip(backend, fx, n);
    expectNothingHeld(fx.dd);
    expect(fx.dd.orderViolations()).toBe(0);
  });

  it('fails when the host never notifies (the device thread really waits on the region)', () => {
    const layout = computeRegionLayout(8, 2);
    const mem = backend.allocate(layout.totalBytes);
    try {
      expect(fx.dd.startRoundTrip(mem.deviceBase + BigInt(layout.dataOffset), mem.deviceBase + BigInt(layout.signalOffset), 1, 4, 50)).toBe(0);
      expect(fx.dd.joinDevice()).toBe(-11);
      expect(fx.dd.deviceFailedSeq()).toBe(1);
    } finally {
      mem.release();
    }
  });
});

describeWithDouble('round trip on an aarch64 host through aclrtMemFlush/aclrtMemInvalidate (arch: arm64)', () => {
  let fx: DoubleFixture;
  let backend: AscendBackend;

  beforeAll(() => {
    fx = buildFixture();
    backend = createBackend({ deviceId: 0, arch: 'arm64', ...fx.libs });
  });

  afterAll(() => {
    backend?.destroy();
    if (fx) expectNothingHeld(fx.dd);
  });

  it(`passes ${ITERATIONS} iterations of 4 KiB with the hooks on the device range`, () => {
    fx.dd.reset();
    roundTrip(backend, fx, 4096);
    const calls = fx.dd.calls().filter((c) => c.call.startsWith('aclrtMem'));
    expect(calls.length).toBeGreaterThan(3 * ITERATIONS);
    expect(calls.every((c) => c.ret === 0)).toBe(true);
    expect(new Set(calls.map((c) => c.call))).toEqual(new Set(['aclrtMemFlush', 'aclrtMemInvalidate']));
    expectNothingHeld(fx.dd);
  });
});

import { describeBackendContract } from '@simpler/abi/testing';
import { createBackend } from '../src';
import { CAN_BUILD, DoubleFixture, buildFixture, expectNothingHeld } from './fixture';

// The shared backend contract suite, run against hal-ascend + the C test-double driver.
// The double's device thread is driven directly by round-trip.test.ts: the backend itself has
// no kernel-launch path, so the suite's launch-based round trip is off.
if (CAN_BUILD) {
  let fx: DoubleFixture;
  beforeAll(() => {
    fx = buildFixture();
  });
  afterAll(() => expectNothingHeld(fx.dd));
  describeBackendContract('hal-ascend + driver double', async () => createBackend({ deviceId: 0, ...fx.libs }), {
    supported: true,
    roundTrip: false,
  });
  // The same suite on an (injected) aarch64 host, where allocations carry flush/invalidate hooks.
  describeBackendContract('hal-ascend + driver double, arm64 host', async () => createBackend({ deviceId: 0, arch: 'arm64', ...fx.libs }), {
    supported: true,
    roundTrip: false,
  });
} else {
  it.skip('backend contract: hal-ascend (no C compiler to build the driver double)', () => undefined);
}

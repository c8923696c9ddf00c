import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DriverDoubleBuild, DriverDoubleBuildOptions, buildDriverDouble, haveCompiler } from './driver-double/build-driver-double';
import { DriverDoubleControl, openDriverDoubleControl } from './driver-double/driver-double-control';

/** True when `cc` exists; otherwise the suites skip with a visible message. */
export const CAN_BUILD = haveCompiler();
if (!CAN_BUILD) {
  console.warn('hal-ascend tests SKIPPED: no system C compiler `cc` to build the test-double driver');
}

/** `describe`, or `describe.skip` when the double cannot be built. */
export const describeWithDouble = CAN_BUILD ? describe : describe.skip;

/** One built and bound test double. */
export interface DoubleFixture extends DriverDoubleBuild {
  /** Its control API. */
  readonly dd: DriverDoubleControl;
  /** Backend options pointing at it. */
  readonly libs: { halLibrary: string; runtimeLibrary: string };
}

/** Builds a test double into a fresh temporary directory (unique paths: loaded libraries stay loaded). */
export function buildFixture(options: DriverDoubleBuildOptions = {}): DoubleFixture {
  const dir = mkdtempSync(join(tmpdir(), 'simpler-hal-ascend-'));
  const build = buildDriverDouble(dir, options);
  return {
    ...build,
    dd: openDriverDoubleControl(build.controlPath),
    libs: { halLibrary: build.halPath, runtimeLibrary: build.runtimePath },
  };
}

/** Asserts the double holds nothing: no allocation, registration or mapping. */
export function expectNothingHeld(dd: DriverDoubleControl): void {
  expect({ allocations: dd.liveAllocations(), registrations: dd.liveRegistrations(), mappings: dd.liveMappings() }).toEqual({
    allocations: 0,
    registrations: 0,
    mappings: 0,
  });
}

/** Names of the calls recorded since the last reset, in order. */
export function callNames(dd: DriverDoubleControl): string[] {
  return dd.calls().map((c) => c.call);
}

/** Runs `fn` and returns what it threw (failing the test when it did not throw). */
export function thrown(fn: () => unknown): Error & { code?: string; errno?: number } {
  try {
    fn();
  } catch (error) {
    return error as Error & { code?: string; errno?: number };
  }
  throw new Error('expected a throw');
}

import { sharedAllocationProblem } from '../src';

// The one shape check of a share() description: the L3 chip child runs it before it answers a
// share request, and the backend contract suite runs it on every backend that shares.

const good = { fd: 7, offset: 4096, length: 192, cacheHooks: 'none', wake: { kind: 'futex', sleepersOffset: 0 } };

describe('sharedAllocationProblem', () => {
  it('accepts a futex or a polling description of exactly the allocation', () => {
    expect(sharedAllocationProblem(good, 192)).toBeUndefined();
    expect(sharedAllocationProblem({ ...good, wake: { kind: 'poll' } }, 192)).toBeUndefined();
    expect(sharedAllocationProblem({ ...good, wake: { kind: 'futex', sleepersOffset: 4096 + 192 } }, 192)).toBeUndefined();
  });

  it.each([
    ['not an object', null, /expected an object/],
    ['a negative descriptor', { ...good, fd: -1 }, /fd/],
    ['a fractional offset', { ...good, offset: 1.5 }, /offset/],
    ['another length', { ...good, length: 256 }, /length must be the region's 192 bytes/],
    ['cache hooks to run', { ...good, cacheHooks: 'flush' }, /cacheHooks/],
    ['an unknown wake', { ...good, wake: { kind: 'signal' } }, /wake.kind/],
    ['a misaligned sleeper count', { ...good, wake: { kind: 'futex', sleepersOffset: 2 } }, /multiple of 4/],
    ['a sleeper count inside the bytes', { ...good, wake: { kind: 'futex', sleepersOffset: 4096 + 64 } }, /inside the region/],
  ])('names %s', (_what, shared, message) => {
    expect(sharedAllocationProblem(shared, 192)).toMatch(message);
  });
});

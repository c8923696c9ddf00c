import { openSync } from 'node:fs';
import { BackendModule } from '@simpler/abi';
import * as halSim from '@simpler/hal-sim';
import * as halStub from '@simpler/hal-stub';
import { MapShared, describeBackendContract } from '@simpler/abi/testing';
import { SharedMemoryObject } from '@simpler/shm';

// Each backend package must also have the BackendModule shape the core loads by name.
const modules: Array<[string, BackendModule]> = [
  ['@simpler/hal-sim', halSim],
  ['@simpler/hal-stub', halStub],
];
describe.each(modules)('%s module shape', (name, mod) => {
  it('exports BACKEND_NAME and createBackend', () => {
    expect(mod.BACKEND_NAME).toBe(name);
    expect(typeof mod.createBackend).toBe('function');
  });
});

/**
 * Maps a shared allocation the way another process would: its own descriptor (here a fresh open
 * of /proc/self/fd/N; another process would get one passed to it), its own mapping of the
 * control words and the allocation, and the publisher's side of the wake protocol.
 */
const mapShared: MapShared = (shared) => {
  const object = SharedMemoryObject.fromFd(openSync(`/proc/self/fd/${shared.fd}`, 'r+'));
  const mapping = object.map(shared.offset + shared.length);
  object.close();
  const words = new Int32Array(mapping.buffer);
  const wake = shared.wake;
  return {
    bytes: new Uint8Array(mapping.buffer, shared.offset, shared.length),
    wake: (offset) => {
      if (wake.kind === 'futex' && Atomics.load(words, wake.sleepersOffset / 4) !== 0) mapping.futexWake(shared.offset + offset);
    },
    unmap: () => mapping.unmap(),
  };
};

describeBackendContract('hal-sim a2a3sim', () => halSim.createBackend({ deviceId: 0, platform: 'a2a3sim' }), { supported: true, share: true, mapShared });
describeBackendContract('hal-sim a5sim', () => halSim.createBackend({ deviceId: 1, platform: 'a5sim' }), { supported: true, share: true, mapShared });
describeBackendContract('hal-sim, SharedArrayBuffer memory', () => halSim.createBackend({ deviceId: 0, memory: 'sab' }), { supported: true, share: false });
describeBackendContract('hal-stub a5', async () => halStub.createBackend({ deviceId: 0, platform: 'a5' }), { supported: false });

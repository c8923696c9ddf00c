import { BackendModule } from '@simpler/abi';
import * as halSim from '@simpler/hal-sim';
import * as halStub from '@simpler/hal-stub';
import { describeBackendContract } from '@simpler/abi/testing';

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

describeBackendContract('hal-sim a2a3sim', () => halSim.createBackend({ deviceId: 0, platform: 'a2a3sim' }), { supported: true });
describeBackendContract('hal-sim a5sim', () => halSim.createBackend({ deviceId: 1, platform: 'a5sim' }), { supported: true });
describeBackendContract('hal-stub a5', async () => halStub.createBackend({ deviceId: 0, platform: 'a5' }), { supported: false });

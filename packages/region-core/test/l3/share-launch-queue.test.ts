// Command 35 (share launch queue, docs/l3-protocol.md section 11) from both ends: what a chip
// child answers, frame by frame and checked through /proc rather than the implementation's types;
// and what the parent does with an answer it must not trust.
import { readlinkSync } from 'node:fs';
import { LaunchQueueProducer, LaunchQueueView, LQ_DOORBELL, MailboxCommand, MailboxFrame, MailboxState, launchQueueBytes } from '@simpler/abi';
import { ChipEndpoint } from '../../src/l3/chip-endpoint';
import { DirectEndpoint } from '../../src/l3/direct/direct-endpoint';
import { requireShm } from '../../src/l3/shm-loader';
import { launcherOf, queueDescriptors, queueMappings, QUEUE_NAME, settledPath } from './helpers/launch-queue-probes';
import { LyingChild, QueueLie, writeLyingChild } from './helpers/lying-chip-child';
import { TRANSPORTS } from './helpers/process-state';
import { RawChip, control, startRawChip } from './helpers/raw-chip';
import { writeTestBackend } from './helpers/test-backend';

const EIO = -5;
const ENOTSUP = -95;


const shareQueue = (c: RawChip): Promise<MailboxFrame> => control(c, MailboxCommand.SHARE_LAUNCH_QUEUE);
const synchronize = (c: RawChip): Promise<MailboxFrame> => control(c, MailboxCommand.SYNCHRONIZE);

/** ARG0..ARG3 and RESULT of a reply, exactly. */
function fieldsOf(f: MailboxFrame): { args: bigint[]; result: bigint } {
  return { args: [0, 1, 2, 3].map((i) => f.argBig(i as 0 | 1 | 2 | 3)), result: f.resultBig };
}

function expectRefused(reply: MailboxFrame, message: RegExp): void {
  expect(reply.state).toBe(MailboxState.CONTROL_DONE);
  expect(reply.command).toBe(MailboxCommand.SHARE_LAUNCH_QUEUE);
  expect({ error: reply.error, message: reply.errorMessage }).toEqual({ error: ENOTSUP, message: expect.stringMatching(message) });
  expect(fieldsOf(reply)).toEqual({ args: [0n, 0n, 0n, 0n], result: 0n });
}

describe.each(TRANSPORTS)('command 35 (share launch queue) at the frame level, over %s', (transport) => {
  it('a simulator child with memfd memory describes its queue: a sealed object it holds, offset 0, its length, ARG3 0, RESULT its inode', async () => {
    const child = startRawChip(transport, '@simpler/hal-sim', ['--backend-options', '{"memory":"memfd"}']);
    try {
      await child.ready();
      const pid = child.process.pid!;
      const reply = await shareQueue(child);
      expect(reply.state).toBe(MailboxState.CONTROL_DONE);
      expect(reply.command).toBe(MailboxCommand.SHARE_LAUNCH_QUEUE);
      expect({ error: reply.error, message: reply.errorMessage }).toEqual({ error: 0, message: '' });
      const [fd, offset, length, arg3] = fieldsOf(reply).args;
      expect([offset, arg3]).toEqual([0n, 0n]);
      expect(readlinkSync(`/proc/${pid}/fd/${fd}`)).toBe(`/memfd:${QUEUE_NAME} (deleted)`);

      const { SharedMemoryObject } = requireShm('share-launch-queue test');
      const object = SharedMemoryObject.fromProcess(pid, Number(fd));
      const mapping = object.map(Number(length), 0);
      try {
        expect(object.inode).toBe(reply.resultBig);
        expect(object.sizeSealed).toBe(true);
        expect(BigInt(object.size)).toBeGreaterThanOrEqual(length);
        // The header is a launch queue exactly `length` bytes long, with the built-in kernel as id 0.
        const view = new LaunchQueueView(mapping.buffer, 0, Number(length));
        expect(launchQueueBytes(view.capacity)).toBe(Number(length));
        expect(view.closed).toBe(false);
        const producer = new LaunchQueueProducer(mapping.buffer, 0, Number(length), () => void mapping.futexWake(LQ_DOORBELL));
        expect(producer.kernelId('round-trip')).toBe(0);
        // It is the queue the device takes launches from, and synchronize counts them: a
        // round-trip with three arguments written here fails on the device, as it would at L2.
        expect(producer.push(0, [1n, 2n, 3n])).toBe('queued');
        const failed = await synchronize(child);
        expect({ error: failed.error, message: failed.errorMessage }).toEqual({ error: EIO, message: expect.stringContaining('round-trip: expected 4 or 5 arguments') });
        // The queue reply's fields do not leak into later replies; the child keeps serving.
        expect(fieldsOf(failed)).toEqual({ args: [0n, 0n, 0n, 0n], result: 0n });
        expect((await synchronize(child)).error).toBe(0);
      } finally {
        mapping.unmap();
        object.close();
      }
      // Asked twice, the same description.
      expect(fieldsOf(await shareQueue(child))).toEqual(fieldsOf(reply));
    } finally {
      child.kill();
    }
  });

  it.each([
    ["the simulator with memory 'sab'", '@simpler/hal-sim', ['--backend-options', '{"memory":"sab"}'], /SharedArrayBuffer.*cannot be shared/],
    ['the stub backend', '@simpler/hal-stub', [], /no launch queue/],
  ])('%s answers ENOTSUP with every field 0, and keeps serving', async (_what, backendModule, extra, message) => {
    const child = startRawChip(transport, backendModule, extra);
    try {
      await child.ready();
      expectRefused(await shareQueue(child), message);
      expectRefused(await shareQueue(child), message);
      const open = await child.request((f) => {
        f.command = MailboxCommand.OPEN;
        f.setArg(0, 64);
        f.setArg(1, 1);
      });
      expect(open.state).toBe(MailboxState.CONTROL_DONE);
      expect(open.command).toBe(MailboxCommand.OPEN);
      // The simulator opens it; the stub answers its own ENOTSUP.
      expect(open.error).toBe(backendModule === '@simpler/hal-stub' ? ENOTSUP : 0);
    } finally {
      child.kill();
    }
  });

  it('a backend without the hook (SharedArrayBuffer test backend) answers ENOTSUP, and its launches still run', async () => {
    const backend = writeTestBackend();
    const child = startRawChip(transport, backend.file);
    try {
      await child.ready();
      expectRefused(await shareQueue(child), /no launch queue/);
      const launched = await child.request((f) => {
        f.command = MailboxCommand.LAUNCH;
        f.name = 'fail';
      });
      expect(launched.error).toBe(0);
      expect((await synchronize(child)).errorMessage).toContain('kernel fail ran');
    } finally {
      child.kill();
      backend.remove();
    }
  });
});

describe('a chip child whose answer to command 35 cannot be trusted', () => {
  let lying: LyingChild;
  beforeAll(() => {
    lying = writeLyingChild();
  });
  afterAll(() => lying.remove());
  beforeEach(() => lying.reset());

  async function spawnLying(lie: QueueLie): Promise<DirectEndpoint> {
    const chip = await ChipEndpoint.spawn({ deviceId: 0, backend: 'lying', backendOptions: { lie, log: lying.log }, childMain: lying.childMain, stderr: 'ignore', transport: 'pipe' });
    return new DirectEndpoint(chip);
  }

  it('answered honestly, the stand-in is believed: the parent maps its queue and launches stop reaching it', async () => {
    const endpoint = await spawnLying('honest');
    try {
      await endpoint.launch('k', [1n]);
      expect(await settledPath(endpoint)).toBe('queue');
      await endpoint.launch('k', [2n]);
      expect(lying.requests()).toEqual(['launch k 1', 'share launch queue']);
      expect(queueMappings()).toHaveLength(1);
      expect(queueDescriptors()).toEqual([]);
    } finally {
      await endpoint.shutdown();
    }
    expect(queueMappings()).toEqual([]);
  });

  const lies: QueueLie[] = [
    'another inode',
    'an unsealed object',
    'a bad magic',
    'a length too short for its slots',
    'length 0',
    'a huge length',
    'a length beyond the object',
    'offset 4096',
    'a descriptor not open in the child',
    'a descriptor beyond any',
    'a descriptor of a pipe',
    'ENOTSUP',
    'EIO',
  ];
  it.each(lies)('%s: launches keep going through the child, nothing is mapped, no descriptor is left', async (lie) => {
    const endpoint = await spawnLying(lie);
    try {
      await endpoint.launch('k', [1n]);
      expect(await settledPath(endpoint)).toBe('child');
      for (let i = 2n; i <= 4n; i++) await endpoint.launch('k', [i]);
      expect(launcherOf(endpoint).launchPath).toBe('child');
      expect(lying.requests()).toEqual(['launch k 1', 'share launch queue', 'launch k 2', 'launch k 3', 'launch k 4']);
      expect(queueMappings()).toEqual([]);
      expect(queueDescriptors()).toEqual([]);
      // Nothing about the queue fails the chip: its other requests go on.
      await endpoint.synchronize();
      expect(endpoint.chip.lost).toBeUndefined();
    } finally {
      await endpoint.shutdown();
    }
    expect(queueMappings()).toEqual([]);
    expect(queueDescriptors()).toEqual([]);
  });
});

// The child side of command 34 (share), frame by frame, the way a foreign-language client sees it
// (docs/l3-protocol.md section 10): what the reply describes is checked through /proc, not
// through the implementation's own types.
import { readlinkSync, statSync } from 'node:fs';
import { MailboxCommand, MailboxFrame, MailboxState, REGION_MAGIC, REGION_VERSION, computeRegionLayout } from '@simpler/abi';
import { requireShm } from '../../src/l3/shm-loader';
import { TRANSPORTS } from './helpers/process-state';
import { RawChip, control, startRawChip } from './helpers/raw-chip';
import { writeTestBackend } from './helpers/test-backend';

const EINVAL = -22;
const ENOTSUP = -95;
/** ARG3 of a share reply whose sleepers poll. */
const WAKE_BY_POLLING = 0xffff_ffff_ffff_ffffn;

const backend = writeTestBackend();
afterAll(() => backend.remove());


const open = (c: RawChip, dataBytes: number, signals: number): Promise<MailboxFrame> => control(c, MailboxCommand.OPEN, dataBytes, signals);
const share = (c: RawChip, handle: bigint): Promise<MailboxFrame> => control(c, MailboxCommand.SHARE, handle);
const close = (c: RawChip, handle: number): Promise<MailboxFrame> => control(c, MailboxCommand.CLOSE, handle);
const notify = (c: RawChip, handle: number, id: number, value: number): Promise<MailboxFrame> => control(c, MailboxCommand.NOTIFY, handle, id, value);

/** ARG0..ARG3 and RESULT of a reply, exactly. */
function fieldsOf(f: MailboxFrame): { args: bigint[]; result: bigint } {
  return { args: [0, 1, 2, 3].map((i) => f.argBig(i as 0 | 1 | 2 | 3)), result: f.resultBig };
}

/** The inode of what the child holds at descriptor `fd`, or undefined once it holds nothing there. */
function inodeAt(pid: number, fd: bigint): bigint | undefined {
  try {
    return statSync(`/proc/${pid}/fd/${fd}`, { bigint: true }).ino;
  } catch {
    return undefined;
  }
}

function expectRefused(reply: MailboxFrame, errno: number, message: RegExp): void {
  expect(reply.state).toBe(MailboxState.CONTROL_DONE);
  expect(reply.command).toBe(MailboxCommand.SHARE);
  expect({ error: reply.error, message: reply.errorMessage }).toEqual({ error: errno, message: expect.stringMatching(message) });
  expect(fieldsOf(reply)).toEqual({ args: [0n, 0n, 0n, 0n], result: 0n });
}

describe.each(TRANSPORTS)('command 34 (share) at the frame level, over %s', (transport) => {
  describe('a simulator child with memfd memory', () => {
    let child: RawChip;
    let pid: number;
    beforeAll(async () => {
      child = startRawChip(transport, '@simpler/hal-sim', ['--backend-options', '{"memory":"memfd"}']);
      await child.ready();
      pid = child.process.pid!;
    });
    afterAll(() => child.kill());

    it('describes an open region: a sealed object the child holds, its inode, a page-aligned offset, the total bytes, a sleeper word outside the region', async () => {
      const layout = computeRegionLayout(1000, 3);
      const opened = await open(child, 1000, 3);
      expect(opened.error).toBe(0);
      const handle = opened.result;

      const reply = await share(child, BigInt(handle));
      expect(reply.state).toBe(MailboxState.CONTROL_DONE);
      expect(reply.command).toBe(MailboxCommand.SHARE);
      expect({ error: reply.error, message: reply.errorMessage }).toEqual({ error: 0, message: '' });
      expect(reply.reserved).toBe(0n);
      expect(reply.bytes.subarray(64, 96).every((b) => b === 0)).toBe(true); // no name
      const [fd, offset, length, sleepers] = fieldsOf(reply).args;
      const inode = reply.resultBig;

      // ARG0 is a descriptor open in the child right now, on the object whose inode is RESULT.
      expect(readlinkSync(`/proc/${pid}/fd/${fd}`)).toMatch(/^\/memfd:/);
      expect(inodeAt(pid, fd)).toBe(inode);
      const { SharedMemoryObject, systemPageSize } = requireShm('share-command test');
      const object = SharedMemoryObject.fromProcess(pid, Number(fd));
      try {
        expect(object.inode).toBe(inode);
        expect(object.sizeSealed).toBe(true);
        expect(offset % BigInt(systemPageSize())).toBe(0n);
        expect(length).toBe(BigInt(layout.totalBytes));
        expect(sleepers).not.toBe(WAKE_BY_POLLING);
        expect(sleepers % 4n).toBe(0n);
        expect(sleepers + 4n <= offset || sleepers >= offset + length).toBe(true);
        const end = Number(offset + length > sleepers + 4n ? offset + length : sleepers + 4n);
        expect(object.size).toBeGreaterThanOrEqual(end);

        // The bytes at ARG1 are the region: its header, and a notify served by the child shows here.
        const mapping = object.map(end, 0);
        try {
          const view = new DataView(mapping.buffer, mapping.byteOffset + Number(offset), layout.totalBytes);
          expect(view.getUint32(0, true)).toBe(REGION_MAGIC);
          expect(view.getUint32(4, true)).toBe(REGION_VERSION);
          expect(view.getUint32(12, true)).toBe(3);
          expect(view.getBigUint64(16, true)).toBe(BigInt(layout.signalOffset));
          expect(view.getBigUint64(24, true)).toBe(BigInt(layout.dataOffset));
          expect(view.getBigUint64(32, true)).toBe(1000n);
          expect(view.getBigUint64(40, true)).toBe(BigInt(layout.totalBytes));
          const after = await notify(child, handle, 2, 7);
          expect(after.error).toBe(0);
          // The share reply's fields do not leak into the next reply.
          expect(fieldsOf(after)).toEqual({ args: [0n, 0n, 0n, 0n], result: 0n });
          expect(view.getUint32(layout.signalOffset + 2 * 64, true)).toBe(7);
        } finally {
          mapping.unmap();
        }
      } finally {
        object.close();
      }

      // Asked twice, the same description; after close the child no longer holds that object.
      expect(fieldsOf(await share(child, BigInt(handle)))).toEqual(fieldsOf(reply));
      expect((await close(child, handle)).error).toBe(0);
      expect(inodeAt(pid, fd)).not.toBe(inode);
    });

    it('a closed, unknown, zero or out-of-range handle is EINVAL with every field 0, and the child keeps serving', async () => {
      const opened = await open(child, 64, 1);
      const handle = opened.result;
      expect((await close(child, handle)).error).toBe(0);
      expectRefused(await share(child, BigInt(handle)), EINVAL, new RegExp(`${handle}`));
      expectRefused(await share(child, BigInt(handle) + 1n), EINVAL, /handle/);
      expectRefused(await share(child, 0n), EINVAL, /handle/);
      expectRefused(await share(child, 2n ** 64n - 1n), EINVAL, /handle/);
      const again = await open(child, 64, 1);
      expect(again.error).toBe(0);
      expect((await share(child, BigInt(again.result))).error).toBe(0);
      expect((await close(child, again.result)).error).toBe(0);
    });
  });

  it('a backend whose memory cannot be shared (SharedArrayBuffer test backend) answers ENOTSUP for an open region', async () => {
    const child = startRawChip(transport, backend.file);
    try {
      await child.ready();
      const opened = await open(child, 256, 1);
      expect(opened.error).toBe(0);
      expectRefused(await share(child, BigInt(opened.result)), ENOTSUP, /cannot be shared/);
      expectRefused(await share(child, BigInt(opened.result) + 1n), EINVAL, /handle/);
      expect((await notify(child, opened.result, 0, 1)).error).toBe(0);
    } finally {
      child.kill();
    }
  });

  it("the simulator with memory 'sab' answers ENOTSUP", async () => {
    const child = startRawChip(transport, '@simpler/hal-sim', ['--backend-options', '{"memory":"sab"}']);
    try {
      await child.ready();
      const opened = await open(child, 256, 1);
      expect(opened.error).toBe(0);
      expectRefused(await share(child, BigInt(opened.result)), ENOTSUP, /cannot be shared/);
    } finally {
      child.kill();
    }
  });

  it('the stub backend (@simpler/hal-stub) opens nothing (ENOTSUP), so a share names no region: EINVAL', async () => {
    const child = startRawChip(transport, '@simpler/hal-stub');
    try {
      await child.ready();
      const opened = await open(child, 256, 1);
      expect(opened.error).toBe(ENOTSUP);
      expectRefused(await share(child, 1n), EINVAL, /handle/);
    } finally {
      child.kill();
    }
  });
});

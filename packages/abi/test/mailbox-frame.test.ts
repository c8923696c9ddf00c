import { MAILBOX_BYTES, MailboxCommand, MailboxFrame, MailboxState, decodeMailbox, readU64 } from '../src';

function u64At(bytes: Uint8Array, at: number): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(at, true);
}

describe('MailboxFrame', () => {
  it('writes each field at its spec offset', () => {
    const f = new MailboxFrame();
    f.state = MailboxState.CONTROL_REQUEST;
    f.error = -11;
    f.command = MailboxCommand.WAIT;
    f.setArg(0, 0x1234_5678_9abc);
    f.setArg(3, 1000);
    f.result = 2 ** 40 + 5;
    f.name = 'seg-1';
    f.errorMessage = 'timed out';
    const b = f.bytes;
    expect([...b.subarray(0, 8)]).toEqual([4, 0, 0, 0, 0xf5, 0xff, 0xff, 0xff]);
    expect(u64At(b, 8)).toBe(18n);
    expect(u64At(b, 16)).toBe(0x1234_5678_9abcn);
    expect(u64At(b, 40)).toBe(1000n);
    expect(u64At(b, 48)).toBe(2n ** 40n + 5n);
    expect(Buffer.from(b.subarray(64, 70)).toString('latin1')).toBe('seg-1\0');
    expect(Buffer.from(b.subarray(3840, 3850)).toString('latin1')).toBe('timed out\0');
    const d = decodeMailbox(b);
    expect(d).toMatchObject({ state: 4, error: -11, command: 18n, arg0: 0x1234_5678_9abcn, arg3: 1000n, name: 'seg-1', error_message: 'timed out' });
  });

  it('reads back what it wrote', () => {
    const f = new MailboxFrame();
    f.state = MailboxState.CONTROL_DONE;
    f.error = -22;
    f.command = MailboxCommand.OPEN;
    f.setArg(1, 7);
    f.result = 99;
    expect([f.state, f.error, f.command, f.arg(1), f.result]).toEqual([5, -22, 12, 7, 99]);
  });

  it('bigint args keep values above 2^53 exact; number reads of them are not safe integers', () => {
    const f = new MailboxFrame();
    f.setArgBig(2, 0xffff_ffff_ffff_ffffn);
    expect(f.argBig(2)).toBe(0xffff_ffff_ffff_ffffn);
    expect(Number.isSafeInteger(f.arg(2))).toBe(false);
    expect(Number.isSafeInteger(readU64(new DataView(f.bytes.buffer), 32))).toBe(false);
  });

  it('truncates the name to 31 bytes and reports whether it is NUL-terminated', () => {
    const f = new MailboxFrame();
    f.name = 'n'.repeat(50);
    expect(f.name).toBe('n'.repeat(31));
    expect(f.nameTerminated).toBe(true);
    f.bytes.fill(0x41, 64, 96); // a peer wrote 32 bytes without a NUL
    expect(f.nameTerminated).toBe(false);
    expect(f.name).toBe('A'.repeat(32));
  });

  it('truncates the error message to 255 bytes', () => {
    const f = new MailboxFrame();
    f.errorMessage = 'e'.repeat(300);
    expect(f.errorMessage).toBe('e'.repeat(255));
    expect(f.bytes[4095]).toBe(0);
  });

  it('clearFields zeroes fields, name and message; clear zeroes everything', () => {
    const f = new MailboxFrame(new Uint8Array(MAILBOX_BYTES).fill(0x77));
    f.clearFields();
    expect(f.bytes.subarray(0, 96).every((x) => x === 0)).toBe(true);
    expect(f.bytes.subarray(3840).every((x) => x === 0)).toBe(true);
    expect(f.bytes[96]).toBe(0x77); // the reserved body is left alone on purpose
    f.clear();
    expect(f.bytes.every((x) => x === 0)).toBe(true);
    expect(f.reserved).toBe(0n);
  });

  it('works over a view at a non-zero byteOffset', () => {
    const backing = new Uint8Array(MAILBOX_BYTES + 8);
    const f = new MailboxFrame(backing.subarray(8));
    f.state = MailboxState.INIT_DONE;
    f.setArg(0, 3);
    expect(backing[8]).toBe(6);
    expect(backing[8 + 16]).toBe(3);
    expect(backing[0]).toBe(0);
  });

  it('rejects a block of the wrong size with EINVAL', () => {
    expect(() => new MailboxFrame(new Uint8Array(4095))).toThrow(expect.objectContaining({ code: 'EINVAL', errno: -22 }));
    expect(() => new MailboxFrame('x' as never)).toThrow(/4096 bytes, got "x"/);
  });
});

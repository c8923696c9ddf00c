import { PassThrough } from 'node:stream';
import { MAILBOX_BYTES } from '@simpler/abi';
import { FrameAssembler, PipeFrameTransport } from '../../src/l3/frame-transport';

function frames(count: number): Buffer {
  const all = Buffer.alloc(count * MAILBOX_BYTES);
  for (let i = 0; i < count; i++) all.fill(i + 1, i * MAILBOX_BYTES, (i + 1) * MAILBOX_BYTES);
  return all;
}

describe('FrameAssembler', () => {
  it.each([1, 100, 4095, 4096, 4097, 8192, 10_000, 5 * 4096])('cuts a stream fed in chunks of %i bytes into exact frames', (chunk) => {
    const got: number[][] = [];
    const a = new FrameAssembler((f) => got.push([f.byteLength, f[0], f[MAILBOX_BYTES - 1]]));
    const all = frames(5);
    for (let at = 0; at < all.length; at += chunk) a.push(all.subarray(at, at + chunk));
    expect(got).toEqual([1, 2, 3, 4, 5].map((v) => [MAILBOX_BYTES, v, v]));
    expect(a.pendingBytes).toBe(0);
  });

  it('holds a partial frame until it completes', () => {
    const got: Uint8Array[] = [];
    const a = new FrameAssembler((f) => got.push(f.slice()));
    a.push(frames(1).subarray(0, 4000));
    expect(got).toHaveLength(0);
    expect(a.pendingBytes).toBe(4000);
    a.push(frames(1).subarray(4000));
    expect(got).toHaveLength(1);
  });

  it('hands out whole frames of a chunk as views, without copying', () => {
    const all = frames(2);
    const views: Uint8Array[] = [];
    new FrameAssembler((f) => views.push(f)).push(all);
    expect(views[1].buffer).toBe(all.buffer);
    expect(views[1].byteOffset).toBe(all.byteOffset + MAILBOX_BYTES);
  });
});

describe('PipeFrameTransport', () => {
  it('sends whole frames, receives reassembled frames, and reports the end of input once', () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const t = new PipeFrameTransport({ input, output });
    const got: number[] = [];
    let closes = 0;
    t.onFrame((f) => got.push(f[0]));
    t.onClose(() => closes++);
    const two = frames(2);
    input.write(two.subarray(0, 5000));
    input.write(two.subarray(5000));
    t.send(frames(1));
    expect(output.read()).toHaveLength(MAILBOX_BYTES);
    expect(() => t.send(new Uint8Array(10))).toThrow(RangeError);
    return new Promise<void>((resolve) => {
      setImmediate(() => {
        expect(got).toEqual([1, 2]);
        input.end();
        setImmediate(() => {
          expect(closes).toBe(1);
          t.close();
          expect(closes).toBe(1);
          resolve();
        });
      });
    });
  });
});

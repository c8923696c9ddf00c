import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { QUEUE_NAME } from './launch-queue-probes';

/** How a stand-in child answers command 35 (its --backend-options `lie`); `honest` describes a usable queue. */
export type QueueLie =
  | 'honest'
  | 'another inode'
  | 'an unsealed object'
  | 'a bad magic'
  | 'a length too short for its slots'
  | 'length 0'
  | 'a huge length'
  | 'a length beyond the object'
  | 'offset 4096'
  | 'a descriptor not open in the child'
  | 'a descriptor beyond any'
  | 'a descriptor of a pipe'
  | 'ENOTSUP'
  | 'EIO';

// A stand-in chip child over the pipe transport (docs/l3-protocol.md sections 2-4): it answers
// launch (32) and synchronize (33) with success, noting each request in a log file, and answers
// share launch queue (35) with the reply its `lie` option names. Its queue is a real one (a sealed
// memfd laid out as the launch-queue layout documents, kernel 'k' listed as id 0), so only the
// lie differs from an honest answer. Frames and the queue are written by offset, as a client in
// another language would, not with the implementation's own codecs.
const SOURCE = `'use strict';
const { appendFileSync, fstatSync } = require('node:fs');
const { SharedMemoryObject } = require(__SHM__);
const { lie, log } = JSON.parse(process.argv[process.argv.indexOf('--backend-options') + 1]);
const CAPACITY = 1024;
const SLOTS = 4096;
const SLOT_BYTES = 128;
const BYTES = SLOTS + CAPACITY * SLOT_BYTES;
const kept = [];
function queueObject(sealSize, magic) {
  const object = SharedMemoryObject.create(BYTES, { debugName: __NAME__, sealSize });
  const mapping = object.map();
  const v = new DataView(mapping.buffer);
  for (let i = 0; i < CAPACITY; i++) v.setUint32(SLOTS + i * SLOT_BYTES, i, true);
  v.setUint32(4, 1, true); // version
  v.setUint32(8, CAPACITY, true);
  v.setUint32(12, SLOT_BYTES, true);
  v.setUint32(64, 1, true); // kernel table entry 0: 1 name byte, 'k'
  v.setUint8(68, 0x6b);
  v.setUint32(40, 1, true); // kernel count
  v.setUint32(0, magic, true);
  kept.push(object, mapping);
  return object;
}
function describe() {
  const q = queueObject(lie !== 'an unsealed object', lie === 'a bad magic' ? 0x12345678 : 0x514c4853);
  const r = { fd: BigInt(q.fd), offset: 0n, length: BigInt(BYTES), inode: q.inode };
  switch (lie) {
    case 'another inode': r.inode += 1n; break;
    case 'a length too short for its slots': r.length = 4096n; break;
    case 'length 0': r.length = 0n; break;
    case 'a huge length': r.length = 1n << 62n; break;
    case 'a length beyond the object': r.length = BigInt(SLOTS + 65536 * SLOT_BYTES); break;
    case 'offset 4096': r.offset = 4096n; break;
    case 'a descriptor not open in the child': r.fd = 1000n; break;
    case 'a descriptor beyond any': r.fd = 1n << 40n; break;
    case 'a descriptor of a pipe': r.fd = 1n; r.inode = fstatSync(1, { bigint: true }).ino; break;
  }
  return r;
}
const init = Buffer.alloc(4096); init.writeInt32LE(6, 0); process.stdout.write(init);
let pending = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  while (pending.length >= 4096) {
    const req = pending.subarray(0, 4096);
    pending = pending.subarray(4096);
    if (req.readInt32LE(0) === 3) process.exit(0);
    const command = req.readUInt32LE(8);
    const reply = Buffer.alloc(4096);
    reply.writeInt32LE(5, 0);
    reply.writeUInt32LE(command, 8);
    if (command === 32) {
      const name = req.subarray(64, 96).toString('latin1').replace(/\\0.*$/s, '');
      appendFileSync(log, 'launch ' + name + ' ' + req.readBigUInt64LE(16) + '\\n');
    } else if (command === 35) {
      appendFileSync(log, 'share launch queue\\n');
      if (lie === 'ENOTSUP' || lie === 'EIO') {
        reply.writeInt32LE(lie === 'ENOTSUP' ? -95 : -5, 4);
        reply.write('no queue here (' + lie + ')', 3840, 'latin1');
      } else {
        const r = describe();
        reply.writeBigUInt64LE(r.fd, 16);
        reply.writeBigUInt64LE(r.offset, 24);
        reply.writeBigUInt64LE(r.length, 32);
        reply.writeBigUInt64LE(r.inode, 48);
      }
    }
    process.stdout.write(reply);
  }
});
process.stdin.on('end', () => process.exit(0));
`;

/** A stand-in chip child script and its log, in a temp dir. */
export interface LyingChild {
  /** Path of the child's main script (ChipEndpoint option `childMain`). */
  readonly childMain: string;
  /** Path of the log the child appends each launch and queue request to. */
  readonly log: string;
  /** The log's lines so far. */
  requests(): string[];
  /** Empties the log. */
  reset(): void;
  remove(): void;
}

/** Writes the stand-in child into a fresh temp dir. */
export function writeLyingChild(): LyingChild {
  const dir = mkdtempSync(path.join(tmpdir(), 'simpler-lying-child-'));
  const childMain = path.join(dir, 'lying-child.js');
  const log = path.join(dir, 'requests.log');
  const source = SOURCE.replace('__SHM__', JSON.stringify(require.resolve('@simpler/shm'))).replace('__NAME__', JSON.stringify(QUEUE_NAME));
  writeFileSync(childMain, source);
  writeFileSync(log, '');
  return {
    childMain,
    log,
    requests: () => readFileSync(log, 'utf8').split('\n').filter((line) => line.length > 0),
    reset: () => writeFileSync(log, ''),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

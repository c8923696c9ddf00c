// Device side of tools/bench-wake.js, registered with the simulator's `kernels` option.
// wake-probe(signals, data, mode, count, delayUs):
//  mode 0, host publishes -> device wakes: for seq 1..count, sleep in waitU32AtLeast on signal 0
//    until >= seq, stamp the wake time (process.hrtime, ns) at data[8 (seq-1)], answer seq on signal 1;
//  mode 1, device publishes -> host wakes: for seq 1..count, wait for signal 0 >= seq (the host
//    is about to wait), idle `delayUs` so the host is asleep, stamp, then publish seq on signal 1.
'use strict';

const nap = new Int32Array(new SharedArrayBuffer(4));

module.exports = (mem, [signals, data, mode, count, delayUs]) => {
  const stamps = mem.bytes(data, Number(count) * 8);
  const view = new DataView(stamps.buffer, stamps.byteOffset, stamps.byteLength);
  for (let seq = 1; seq <= Number(count); seq++) {
    if (!mem.waitU32AtLeast(signals, seq, 10_000_000)) throw new Error(`signal 0 never reached ${seq}`);
    if (mode === 1n) Atomics.wait(nap, 0, 0, Number(delayUs) / 1000);
    view.setFloat64((seq - 1) * 8, Number(process.hrtime.bigint()), true);
    mem.store32Release(signals + 64n, seq);
  }
};

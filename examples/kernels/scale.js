// A user kernel for the simulator (docs/backends/sim.md): scale(data, signals, n, k).
// Once the host has published round `seq` in signal 0, data[n + i] = data[i] * k (mod 256) for
// i < n, then signal 1 takes `seq`. `seq` is one past the round last answered in signal 1, so the
// same launch arguments serve every round. Four arguments: all a launch can carry, at L2 and L3.
module.exports = (mem, [data, signals, n, k]) => {
  const done = signals + 64n; // signal slots are 64 bytes apart
  const seq = mem.load32Acquire(done) + 1;
  if (!mem.waitU32AtLeast(signals, seq, 1_000_000)) throw new Error(`scale: signal 0 never reached ${seq}`);
  const input = mem.bytes(data, Number(n));
  const output = mem.bytes(data + n, Number(n));
  const factor = Number(k);
  for (let i = 0; i < input.length; i++) output[i] = input[i] * factor;
  mem.store32Release(done, seq);
};

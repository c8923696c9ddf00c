#!/usr/bin/env python3
"""Drive a simpler-region chip child from Python (standard library only).

Spawns the chip child, then: open, info, h2region, notify, wait, region2h, close, shutdown,
following docs/l3-protocol.md byte for byte, over either transport:
  --transport pipe  frames on the child's stdin/stdout, payloads in a /dev/shm side-band segment;
  --transport shm   the mailbox block and a data window in two memfds the child inherits, requests
                    published by a state word, doorbell bytes on the pipes (Linux, x86-64 only here:
                    see docs/l3-protocol.md, "Memory ordering", for why).
With --round-trip it also runs the simulator's round-trip kernel once (spec section 11) and checks
every byte; with --big N it also moves N bytes in and out (in chunks, over shm). With --direct it
also opens a *direct* region (docs/l3-protocol.md section 10, see direct_region.py): a share
request, the child's memory mapped here through /proc, and the round-trip kernel driven with
datacopy, notify and wait on that mapping (the backend must share its memory: the simulator).

Usage:
  python3 examples/python/chip_client.py [--node node] [--child-main PATH] [--transport pipe|shm]
      [--backend @simpler/hal-sim] [--device-id 0] [--round-trip] [--big BYTES] [--direct]
Environment overrides: SIMPLER_L3_NODE, SIMPLER_L3_CHILD_MAIN, SIMPLER_L3_BACKEND, SIMPLER_L3_TRANSPORT.
Exits 0 and prints "OK" when every step checked out.
"""

import argparse
import mmap
import os
import platform
import secrets
import select
import struct
import subprocess
import sys

sys.dont_write_bytecode = True  # an example run from a checkout leaves no __pycache__ behind
from direct_region import SHARE, DirectError, DirectRegion  # noqa: E402

FRAME_BYTES = 4096
NAME_OFFSET, NAME_BYTES = 64, 32
MESSAGE_OFFSET, MESSAGE_BYTES = 3840, 256
# state, error, command, ARG0..ARG3, RESULT, reserved
FIXED = struct.Struct("<iiQQQQQQQ")

STATE_SHUTDOWN, STATE_REQUEST, STATE_DONE, STATE_INIT_DONE = 3, 4, 5, 6
OPEN, CLOSE, INFO, H2REGION, REGION2H, NOTIFY, WAIT, LAUNCH, SYNCHRONIZE = 12, 13, 14, 15, 16, 17, 18, 32, 33
EAGAIN = -11

# Side-band header: magic, version, op, region, offset, nbytes, status, reserved u32, 24 reserved bytes
SIDEBAND = struct.Struct("<4sHHQQQiI24s")
SIDEBAND_BYTES = 64
OP_INFO, OP_H2REGION, OP_REGION2H = 1, 2, 3
# HostDeviceMappedRegionInfo
INFO_STRUCT = struct.Struct("<QQQQQIIQII")

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class ChipError(Exception):
    """A reply with a negative errno."""

    def __init__(self, errno, message):
        super().__init__(f"errno {errno}: {message}")
        self.errno = errno


class Segment:
    """The side-band segment: /dev/shm, mode 0600, exclusive, unpredictable name, unlinked by us."""

    def __init__(self):
        prefix = f"simpler-hdmr-{os.getpid()}-"
        digits = 31 - len(prefix)  # the mailbox name field holds 31 characters + NUL
        self.name = prefix + secrets.token_hex(16)[:digits]
        self.path = os.path.join("/dev/shm", self.name)
        flags = os.O_CREAT | os.O_EXCL | os.O_RDWR | os.O_NOFOLLOW
        self.fd = os.open(self.path, flags, 0o600)
        self.size = SIDEBAND_BYTES
        os.ftruncate(self.fd, self.size)

    def prepare(self, op, region, offset, nbytes, payload=b""):
        if self.size < SIDEBAND_BYTES + nbytes:
            self.size = SIDEBAND_BYTES + nbytes
            os.ftruncate(self.fd, self.size)
        os.pwrite(self.fd, SIDEBAND.pack(b"HMRD", 1, op, region, offset, nbytes, 0, 0, bytes(24)), 0)
        if payload:
            os.pwrite(self.fd, payload, SIDEBAND_BYTES)

    def payload(self, nbytes):
        return os.pread(self.fd, nbytes, SIDEBAND_BYTES)

    def status(self):
        return struct.unpack_from("<i", os.pread(self.fd, 4, 32))[0]

    def remove(self):
        os.close(self.fd)
        os.unlink(self.path)


class Chip:
    """One chip child: one request in flight, replies read in order."""

    def __init__(self, node, child_main, backend, device_id):
        cmd = [node, child_main, "--device-id", str(device_id), "--backend", backend]
        # The child resolves the backend module from its working directory: the repo root.
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO)
        first = self._read()
        if first["state"] != STATE_INIT_DONE:
            raise ChipError(first["error"], first["message"])
        self.segment = Segment()

    def _read(self):
        data = b""
        while len(data) < FRAME_BYTES:
            chunk = self.proc.stdout.read(FRAME_BYTES - len(data))
            if not chunk:
                raise EOFError("chip child closed its stdout")
            data += chunk
        state, error, command, a0, a1, a2, a3, result, _ = FIXED.unpack_from(data)
        message = data[MESSAGE_OFFSET:MESSAGE_OFFSET + MESSAGE_BYTES].split(b"\0", 1)[0].decode("utf-8", "replace")
        return {"state": state, "error": error, "command": command, "args": (a0, a1, a2, a3), "result": result,
                "message": message}

    def request(self, command, args=(0, 0, 0, 0), name="", **kw):
        """Sends one request; returns the reply's RESULT (raises ChipError for an error reply)."""
        return self.call(command, args, name, **kw)["result"]

    def call(self, command, args=(0, 0, 0, 0), name=""):
        """Sends one request; returns the whole reply (state, error, command, args, result, message)."""
        frame = bytearray(FRAME_BYTES)
        a = list(args) + [0] * (4 - len(args))
        FIXED.pack_into(frame, 0, STATE_REQUEST, 0, command, a[0], a[1], a[2], a[3], 0, 0)
        encoded = name.encode("ascii")
        assert len(encoded) < NAME_BYTES
        frame[NAME_OFFSET:NAME_OFFSET + len(encoded)] = encoded
        self.proc.stdin.write(frame)
        self.proc.stdin.flush()
        return self._checked(self._read(), command)

    @staticmethod
    def _checked(reply, command):
        assert reply["state"] == STATE_DONE and reply["command"] == command, reply
        if reply["error"] != 0:
            raise ChipError(reply["error"], reply["message"])
        return reply

    def open(self, data_bytes, signal_count):
        return self.request(OPEN, (data_bytes, signal_count, 0))

    def close(self, handle):
        self.request(CLOSE, (handle,))

    def info(self, handle):
        self.segment.prepare(OP_INFO, handle, 0, 64)
        self.request(INFO, name=self.segment.name)
        f = INFO_STRUCT.unpack(self.segment.payload(64))
        keys = ("host_data_ptr", "device_data_ptr", "data_bytes", "host_signal_ptr", "device_signal_ptr",
                "signal_count", "reserved0", "total_bytes", "flags", "reserved1")
        return dict(zip(keys, f))

    def h2region(self, handle, offset, data):
        self.segment.prepare(OP_H2REGION, handle, offset, len(data), data)
        self.request(H2REGION, name=self.segment.name)

    def region2h(self, handle, offset, nbytes):
        self.segment.prepare(OP_REGION2H, handle, offset, nbytes)
        self.request(REGION2H, name=self.segment.name)
        return self.segment.payload(nbytes)

    def notify(self, handle, signal_id, value):
        self.request(NOTIFY, (handle, signal_id, value))

    def wait(self, handle, signal_id, target, timeout_us):
        self.request(WAIT, (handle, signal_id, target, timeout_us))

    def launch(self, kernel, args):
        self.request(LAUNCH, args, name=kernel)

    def synchronize(self):
        self.request(SYNCHRONIZE)

    def share(self, handle):
        """The reply to a share request: ARG0..ARG3 in "args", the inode in "result"."""
        return self.call(SHARE, (handle,))

    def shutdown(self):
        frame = bytearray(FRAME_BYTES)
        FIXED.pack_into(frame, 0, STATE_SHUTDOWN, 0, 0, 0, 0, 0, 0, 0, 0)
        self.proc.stdin.write(frame)
        self.proc.stdin.flush()
        return self.proc.wait(timeout=10)

    def release(self):
        if os.path.exists(self.segment.path):
            self.segment.remove()

    def status(self):
        return self.segment.status()


# --- The shared-memory transport (docs/l3-protocol.md, "Shared-memory transport") ---------------

# i32 word indexes in the control block
W_STATE, W_CHILD_SLEEPING, W_PARENT_SLEEPING, W_PARENT_CHUNKS, W_CHILD_CHUNKS = 0, 128 // 4, 192 // 4, 256 // 4, 320 // 4
WINDOW_DATA = 4096   # the window's two chunk halves start here, after the 64-byte header and padding
CHUNK = 64 * 1024    # bytes per chunk: the window is 4096 + 2 * CHUNK bytes
SPIN_CHECKS = 2000   # how many times to look at the block before sleeping on the doorbell pipe
SLEEP_S = 0.005      # bound of one sleep: a wake-up lost to store->load reordering costs at most this


class ShmChip(Chip):
    """One chip child over the shared-memory transport: same requests, no frames on the pipes."""

    def __init__(self, node, child_main, backend, device_id):
        if platform.machine().lower() not in ("x86_64", "amd64"):
            raise ChipError(-95, "this client relies on x86-64 memory ordering; use --transport pipe here")
        self.control_fd = os.memfd_create("simpler-l3-control", os.MFD_CLOEXEC)
        self.window_fd = os.memfd_create("simpler-l3-window", os.MFD_CLOEXEC)
        os.ftruncate(self.control_fd, FRAME_BYTES)
        os.ftruncate(self.window_fd, WINDOW_DATA + 2 * CHUNK)
        self.block = mmap.mmap(self.control_fd, FRAME_BYTES)
        self.window = mmap.mmap(self.window_fd, WINDOW_DATA + 2 * CHUNK)
        # Aligned 4-byte elements: each access is one 32-bit load or store (see the docs on ordering).
        self.words = memoryview(self.block).cast("i")
        cmd = [node, child_main, "--device-id", str(device_id), "--backend", backend, "--transport", "shm",
               "--control-fd", str(self.control_fd), "--window-fd", str(self.window_fd)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO,
                                     pass_fds=(self.control_fd, self.window_fd))
        os.close(self.control_fd)  # the child holds its own descriptors; our mappings stay
        os.close(self.window_fd)
        first = self._read()       # the init frame still comes over stdout
        if first["state"] != STATE_INIT_DONE:
            raise ChipError(first["error"], first["message"])

    def _ring(self):
        self.proc.stdin.write(b"\x01")
        self.proc.stdin.flush()

    def _until(self, ready):
        """Spins on ready(), then sleeps on the doorbell pipe (bounded) until it holds."""
        for _ in range(SPIN_CHECKS):
            if ready():
                return
        out = self.proc.stdout.fileno()
        while True:
            self.words[W_PARENT_SLEEPING] = 1
            if ready():
                break
            readable, _, _ = select.select([out], [], [], SLEEP_S)
            if readable and not os.read(out, 4096):
                raise EOFError("chip child closed its stdout")
            if ready():
                break
            # Our request may have been missed by a child that went to sleep meanwhile: ring again.
            if self.words[W_CHILD_SLEEPING]:
                self._ring()
        self.words[W_PARENT_SLEEPING] = 0

    def _publish(self, state):
        self.words[W_STATE] = state      # last: every field written before it is visible with it
        if self.words[W_CHILD_SLEEPING]:
            self._ring()

    def call(self, command, args=(0, 0, 0, 0), name="", transfer=None):
        frame = bytearray(96)
        a = list(args) + [0] * (4 - len(args))
        FIXED.pack_into(frame, 0, STATE_REQUEST, 0, command, a[0], a[1], a[2], a[3], 0, 0)
        encoded = name.encode("ascii")
        assert len(encoded) < NAME_BYTES
        frame[NAME_OFFSET:NAME_OFFSET + len(encoded)] = encoded
        self.block[4:96] = frame[4:96]
        self._publish(STATE_REQUEST)
        if transfer:
            transfer()
        self._until(lambda: self.words[W_STATE] != STATE_REQUEST)
        data = self.block[0:FRAME_BYTES]
        state, error, rcommand, a0, a1, a2, a3, result, _ = FIXED.unpack_from(data)
        message = data[MESSAGE_OFFSET:MESSAGE_OFFSET + MESSAGE_BYTES].split(b"\0", 1)[0].decode("utf-8", "replace")
        reply = {"state": state, "error": error, "command": rcommand, "args": (a0, a1, a2, a3), "result": result,
                 "message": message}
        return self._checked(reply, command)

    def _header(self, op, region, offset, nbytes):
        self.window[0:64] = SIDEBAND.pack(b"HMRD", 1, op, region, offset, nbytes, 0, 0, bytes(24))

    def _half(self, k):
        return WINDOW_DATA + (k % 2) * CHUNK

    def info(self, handle):
        self._header(OP_INFO, handle, 0, 64)
        assert self.request(INFO) == 64
        f = INFO_STRUCT.unpack(self.window[WINDOW_DATA:WINDOW_DATA + 64])
        keys = ("host_data_ptr", "device_data_ptr", "data_bytes", "host_signal_ptr", "device_signal_ptr",
                "signal_count", "reserved0", "total_bytes", "flags", "reserved1")
        return dict(zip(keys, f))

    def h2region(self, handle, offset, data):
        n = len(data)
        chunks = (n + CHUNK - 1) // CHUNK
        self._header(OP_H2REGION, handle, offset, n)
        if chunks:
            self.window[WINDOW_DATA:WINDOW_DATA + min(n, CHUNK)] = data[0:CHUNK]
        self.words[W_CHILD_CHUNKS] = 0
        self.words[W_PARENT_CHUNKS] = 1 if chunks else 0

        def rest():
            # Chunk k goes into half k % 2 once the child has consumed chunk k - 2.
            for k in range(1, chunks):
                self._until(lambda: self.words[W_CHILD_CHUNKS] >= k - 1 or self.words[W_STATE] != STATE_REQUEST)
                if self.words[W_STATE] != STATE_REQUEST:
                    return  # answered early (an error): stop feeding
                piece = data[k * CHUNK:(k + 1) * CHUNK]
                self.window[self._half(k):self._half(k) + len(piece)] = piece
                self.words[W_PARENT_CHUNKS] = k + 1
                if self.words[W_CHILD_SLEEPING]:
                    self._ring()

        self.request(H2REGION, transfer=rest)

    def region2h(self, handle, offset, nbytes):
        chunks = (nbytes + CHUNK - 1) // CHUNK
        out = bytearray(nbytes)
        self._header(OP_REGION2H, handle, offset, nbytes)
        self.words[W_CHILD_CHUNKS] = 0
        self.words[W_PARENT_CHUNKS] = 0

        def drain():
            # Chunk k is ready once child_chunks > k; releasing it lets the child reuse its half.
            for k in range(chunks):
                self._until(lambda: self.words[W_CHILD_CHUNKS] > k or self.words[W_STATE] != STATE_REQUEST)
                if self.words[W_CHILD_CHUNKS] <= k:
                    return  # answered without it (an error)
                length = min(CHUNK, nbytes - k * CHUNK)
                out[k * CHUNK:k * CHUNK + length] = self.window[self._half(k):self._half(k) + length]
                self.words[W_PARENT_CHUNKS] = k + 1
                if self.words[W_CHILD_SLEEPING]:
                    self._ring()

        assert self.request(REGION2H, transfer=drain) == nbytes
        return bytes(out)

    def shutdown(self):
        self.words[W_STATE] = STATE_SHUTDOWN
        self._ring()
        return self.proc.wait(timeout=10)

    def release(self):
        self.words.release()
        self.block.close()
        self.window.close()

    def status(self):
        return struct.unpack_from("<i", self.window, 32)[0]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--node", default=os.environ.get("SIMPLER_L3_NODE", "node"))
    p.add_argument("--child-main", default=os.environ.get(
        "SIMPLER_L3_CHILD_MAIN", os.path.join(REPO, "packages/region-core/dist/l3/chip-child-main.js")))
    p.add_argument("--backend", default=os.environ.get("SIMPLER_L3_BACKEND", "@simpler/hal-sim"))
    p.add_argument("--device-id", type=int, default=0)
    p.add_argument("--round-trip", action="store_true", help="also run the round-trip kernel once")
    p.add_argument("--transport", choices=("pipe", "shm"), default=os.environ.get("SIMPLER_L3_TRANSPORT", "pipe"))
    p.add_argument("--big", type=int, default=0, help="also move this many bytes in and out")
    p.add_argument("--direct", action="store_true", help="also run round trips on a direct region")
    opts = p.parse_args()

    cls = ShmChip if opts.transport == "shm" else Chip
    chip = cls(opts.node, opts.child_main, opts.backend, opts.device_id)
    try:
        run(chip, opts)
    finally:
        if chip.proc.poll() is None:
            chip.proc.kill()
        chip.release()


def run(chip, opts):
    n = 1024
    handle = chip.open(2 * n, 2)
    info = chip.info(handle)
    assert info["host_data_ptr"] == 0 and info["host_signal_ptr"] == 0, info
    assert info["data_bytes"] == 2 * n and info["signal_count"] == 2, info
    print(f"opened handle {handle:#x}: device data {info['device_data_ptr']:#x}, "
          f"signals {info['device_signal_ptr']:#x}, total {info['total_bytes']} bytes")

    payload = bytes((17 + i * 5) & 0xFF for i in range(n))
    chip.h2region(handle, 0, payload)
    assert chip.status() == 0
    chip.notify(handle, 0, 1)
    chip.wait(handle, 0, 1, 0)  # probe: satisfied
    try:
        chip.wait(handle, 1, 1, 1000)  # nobody publishes signal 1 here
        raise AssertionError("wait on signal 1 should time out")
    except ChipError as e:
        assert e.errno == EAGAIN, e
    assert chip.region2h(handle, 0, n) == payload

    if opts.round_trip:
        seq = 2
        chip.launch("round-trip", (info["device_data_ptr"], info["device_signal_ptr"], seq, n))
        payload = bytes((seq * 17 + i * 5) & 0xFF for i in range(n))
        chip.h2region(handle, 0, payload)
        chip.notify(handle, 0, seq)
        chip.wait(handle, 1, seq, 5_000_000)
        expected = bytes(payload[i] ^ ((seq + i * 3) & 0xFF) for i in range(n))
        assert chip.region2h(handle, n, n) == expected, "round-trip bytes differ"
        chip.synchronize()
        print("round trip verified")

    if opts.big:
        big = chip.open(opts.big, 1)
        data = os.urandom(opts.big)
        chip.h2region(big, 0, data)
        assert chip.region2h(big, 0, opts.big) == data, "big payload differs"
        chip.close(big)
        print(f"moved {opts.big} bytes in and out")

    if opts.direct:
        run_direct(chip)

    chip.close(handle)
    try:
        chip.close(handle)
        raise AssertionError("second close should fail")
    except ChipError as e:
        assert e.errno == -22, e
    code = chip.shutdown()
    assert code == 0, f"child exit code {code}"
    print(f"OK ({opts.transport} transport)")


def expect_errno(errno, call, *args):
    try:
        call(*args)
    except (ChipError, DirectError) as e:
        assert e.errno == errno, e
        return
    raise AssertionError(f"{call.__name__}{args} should fail with errno {errno}")


def run_direct(chip, n=4096, iters=3):
    """Round trips on a direct region: every datacopy, notify and wait on our own mapping."""
    handle = chip.open(2 * n, 2)
    info = chip.info(handle)
    try:
        region = DirectRegion(chip, handle, 2 * n, 2)
    except Exception:
        chip.close(handle)   # a region this client cannot map is given back, not leaked in the child
        raise
    print(f"direct region {handle:#x}: {region.total_bytes} bytes mapped at offset {region.base} of the child's "
          f"object, sleepers {'poll' if region.polling else 'futex'}")
    for seq in range(1, iters + 1):
        chip.launch("round-trip", (info["device_data_ptr"], info["device_signal_ptr"], seq, n))
        payload = bytes((seq * 17 + i * 5) & 0xFF for i in range(n))
        region.h2region(0, payload)
        region.notify(0, seq)
        region.wait(1, seq, 5_000_000)
        expected = bytes(payload[i] ^ ((seq + i * 3) & 0xFF) for i in range(n))
        assert region.region2h(n, n) == expected, f"direct round trip {seq}: bytes differ"
        # The child sees the same memory: a proxied read agrees with the direct one.
        assert chip.region2h(handle, 0, n) == payload, f"direct round trip {seq}: the child reads other bytes"
    chip.synchronize()
    expect_errno(-11, region.wait, 1, iters + 1, 0)          # probe: not there yet
    expect_errno(-11, region.wait, 1, iters + 1, 2000)       # bounded: nobody publishes it
    expect_errno(-22, region.notify, 0, iters - 1)           # lower than the slot: not monotonic
    expect_errno(-22, region.h2region, 2 * n, b"x")          # starts at the end
    expect_errno(-22, region.region2h, 2 * n + 1, 0)         # starts past the end
    expect_errno(-22, region.wait, 2, 0, 0)                  # no such signal
    region.close()                                           # unmap here, then close in the child
    expect_errno(-22, region.notify, 0, iters)               # closed here
    expect_errno(-22, chip.share, handle)                    # closed there: share is EINVAL
    print(f"direct round trip verified ({iters} iterations)")


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # report and fail, whatever went wrong
        print(f"FAILED: {exc}", file=sys.stderr)
        sys.exit(1)

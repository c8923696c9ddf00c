"""Direct regions for the Python chip client (standard library only): docs/l3-protocol.md section 10.

A chip child describes a region's memory in its reply to a share request (command 34); this module
opens that memory through /proc/<child pid>/fd/<n>, checks it is the object described (inode,
size seal, size, region header), maps it, and then runs datacopy, notify and wait on the mapping
itself, with no request to the child. Sleepers use the region's futex protocol through ctypes.

Python has no atomic instructions. What this module relies on instead:
- aligned 4-byte elements of memoryview(mmap).cast("I") are read and written with one 32-bit
  load or store (no torn values);
- the kernel's atomic futex operation (FUTEX_WAKE_OP) does the sleeper count's atomic add, and
  serves as a full memory barrier where ordering matters (release before notify's store,
  acquire after a successful wait): it is a locked read-modify-write on x86-64 and is followed by
  a full barrier on aarch64;
- FUTEX_WAKE after a store never misses a sleeper that compared the old value (the kernel orders
  the two), so notify wakes unconditionally instead of reading the sleeper count behind a fence.
"""

import ctypes
import fcntl
import mmap
import os
import platform
import stat
import struct
import time

SHARE = 34
EINVAL, EAGAIN, EIO, ENOTSUP = -22, -11, -5, -95
WAKE_BY_POLLING = 0xFFFF_FFFF_FFFF_FFFF   # ARG3 of a share reply when sleepers must poll

F_GET_SEALS = getattr(fcntl, "F_GET_SEALS", 1034)
F_SEAL_SHRINK = getattr(fcntl, "F_SEAL_SHRINK", 2)

FUTEX_WAIT, FUTEX_WAKE, FUTEX_WAKE_OP, FUTEX_PRIVATE_FLAG = 0, 1, 5, 128
FUTEX_OP_ADD, FUTEX_OP_CMP_LT = 1, 2
INT_MAX = 0x7FFF_FFFF
SYS_FUTEX = {"x86_64": 202, "amd64": 202, "aarch64": 98, "arm64": 98}

# Region header (spec 3.3): magic, version, flags, signal_count, signal_offset, data_offset,
# data_bytes, total_bytes, reserved[2]
REGION_HEADER = struct.Struct("<IIIIQQQQ16s")
REGION_MAGIC, REGION_VERSION = 0x48444D52, 1
SLOT_BYTES = 64

SPIN_LOOKS = 200     # looks at the slot before sleeping
SLICE_S = 0.02       # longest single futex sleep: the deadline is checked at least this often
POLL_MAX_S = 0.001   # longest single sleep of a wait on memory whose sleepers poll


class DirectError(Exception):
    """A direct operation refused (a negative errno, as the chip child would answer)."""

    def __init__(self, errno, message):
        super().__init__(f"errno {errno}: {message}")
        self.errno = errno


def align64(n):
    return (n + 63) & ~63


def region_layout(data_bytes, signal_count):
    """(signal_offset, data_offset, total_bytes) of a region (spec 3.5)."""
    data_offset = align64(64 + signal_count * SLOT_BYTES)
    return 64, data_offset, align64(data_offset + data_bytes)


def _u32(name, value):
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xFFFF_FFFF:
        raise DirectError(EINVAL, f"{name} must be an integer in 0 ..= 2^32 - 1, got {value!r}")
    return value


class Futex:
    """The futex system call through ctypes (shared futexes: they work across processes)."""

    def __init__(self):
        number = SYS_FUTEX.get(platform.machine().lower())
        if number is None:
            raise DirectError(ENOTSUP, f"the futex call number of {platform.machine()} is not known here")
        self.number = number
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.syscall.restype = ctypes.c_long
        self.timespec = (ctypes.c_long * 2)()
        self.private_word = ctypes.c_int32(0)

    def _call(self, addr, op, val, timeout, addr2, val3):
        L = ctypes.c_long
        return self.libc.syscall(L(self.number), L(addr), L(op), L(val), L(timeout), L(addr2), L(val3))

    def wait(self, addr, expected_u32, timeout_s):
        """FUTEX_WAIT while the word at addr holds expected_u32, at most timeout_s; any ending means 'look again'."""
        ts = self.timespec
        ts[0] = int(timeout_s)
        ts[1] = int((timeout_s - int(timeout_s)) * 1e9)
        expected = expected_u32 - (1 << 32) if expected_u32 >= 1 << 31 else expected_u32
        self._call(addr, FUTEX_WAIT, expected, ctypes.addressof(ts), 0, 0)

    def wake_all(self, addr):
        if self._call(addr, FUTEX_WAKE, INT_MAX, 0, 0, 0) < 0:
            raise DirectError(EIO, f"FUTEX_WAKE failed: {os.strerror(ctypes.get_errno())}")

    def add(self, addr, delta, private=False):
        """Atomically adds delta (-2048 ..= 2047) to the int32 at addr (and is a full barrier).

        FUTEX_WAKE_OP on (addr, addr): the kernel adds to the word with an atomic instruction; the
        comparison 'old < 0' is false for a count, and nobody sleeps on a count, so it wakes no one.
        """
        encoded = (FUTEX_OP_ADD << 28) | (FUTEX_OP_CMP_LT << 24) | ((delta & 0xFFF) << 12)
        op = FUTEX_WAKE_OP | (FUTEX_PRIVATE_FLAG if private else 0)
        if self._call(addr, op, 0, 0, addr, encoded) < 0:
            raise DirectError(EIO, f"FUTEX_WAKE_OP failed: {os.strerror(ctypes.get_errno())}")

    def fence(self):
        """A full memory barrier: an atomic add of 0 to a word of our own."""
        self.add(ctypes.addressof(self.private_word), 0, private=True)


class DirectRegion:
    """A region of a chip child mapped here: datacopy, notify and wait run without requests."""

    def __init__(self, chip, handle, data_bytes, signal_count):
        self.chip, self.handle = chip, handle
        self.data_bytes, self.signal_count = data_bytes, signal_count
        self.signal_offset, self.data_offset, self.total_bytes = region_layout(data_bytes, signal_count)
        self.futex = Futex()
        reply = chip.call(SHARE, (handle,))      # ChipError EINVAL / ENOTSUP travel up
        fd, offset, length, wake = reply["args"]
        inode = reply["result"]
        if offset % mmap.PAGESIZE or length != self.total_bytes:
            raise DirectError(EIO, f"share reply does not fit: offset {offset}, length {length}, expected {self.total_bytes}")
        self.polling = wake == WAKE_BY_POLLING
        if not self.polling and (wake % 4 or offset < wake + 4 and wake < offset + length):
            raise DirectError(EIO, f"share reply does not fit: sleeper count at {wake}")
        size = max(offset + length, 0 if self.polling else wake + 4)
        self.mm = self._map(chip.proc.pid, fd, inode, size)
        self.base = offset
        self.words = memoryview(self.mm).cast("I")
        self._anchor = ctypes.c_char.from_buffer(self.mm)   # gives the mapping's address
        self.address = ctypes.addressof(self._anchor)
        self.sleepers = None if self.polling else self.address + wake
        try:
            self._check_header()
        except Exception:
            self._unmap()
            raise

    @staticmethod
    def _map(pid, fd, inode, size):
        path = f"/proc/{pid}/fd/{fd}"
        try:
            own = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        except OSError as e:   # not ours to open (another user, no ptrace access): stay proxied
            raise DirectError(ENOTSUP, f"cannot open {path}: {e.strerror}") from e
        try:
            st = os.fstat(own)
            if not stat.S_ISREG(st.st_mode) or st.st_ino != inode:
                raise DirectError(EIO, f"{path} is not the object described (inode {st.st_ino}, expected {inode})")
            if not fcntl.fcntl(own, F_GET_SEALS) & F_SEAL_SHRINK:
                raise DirectError(ENOTSUP, f"{path} is not sealed against shrinking: a mapping could fault")
            if st.st_size < size:
                raise DirectError(EIO, f"{path} holds {st.st_size} bytes, fewer than the {size} described")
            return mmap.mmap(own, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        except OSError as e:   # F_GET_SEALS on a file that cannot carry seals: EINVAL
            raise DirectError(ENOTSUP, f"{path}: {e.strerror}") from e
        finally:
            os.close(own)   # the mapping keeps the memory alive

    def _check_header(self):
        got = REGION_HEADER.unpack_from(self.mm, self.base)[:8]
        want = (REGION_MAGIC, REGION_VERSION, 0, self.signal_count, self.signal_offset,
                self.data_offset, self.data_bytes, self.total_bytes)
        if got != want:
            raise DirectError(EIO, f"the mapped memory is not the region: header {got}, expected {want}")

    # --- operations (spec 4, 6, 7) -------------------------------------------------------------

    def _live(self):
        if self.mm is None:
            raise DirectError(EINVAL, f"region {self.handle:#x} is closed")
        if self.chip.proc.poll() is not None:
            raise DirectError(EIO, f"the chip child exited ({self.chip.proc.returncode})")

    def _range(self, offset, nbytes):
        # Subtraction form: offset + nbytes is never computed before both are known to fit.
        if not isinstance(offset, int) or offset < 0 or offset > self.data_bytes or nbytes > self.data_bytes - offset:
            raise DirectError(EINVAL, f"range offset {offset} nbytes {nbytes} is outside the {self.data_bytes}-byte data area")
        return self.base + self.data_offset + offset

    def _slot(self, signal_id):
        if not isinstance(signal_id, int) or not 0 <= signal_id < self.signal_count:
            raise DirectError(EINVAL, f"signal id {signal_id!r} is not below the signal count {self.signal_count}")
        return (self.base + self.signal_offset + signal_id * SLOT_BYTES) >> 2

    def h2region(self, offset, data):
        self._live()
        at = self._range(offset, len(data))
        self.mm[at:at + len(data)] = data

    def region2h(self, offset, nbytes):
        self._live()
        at = self._range(offset, nbytes)
        return self.mm[at:at + nbytes]

    def notify(self, signal_id, value):
        self._live()
        index = self._slot(signal_id)
        _u32("value", value)
        current = self.words[index]   # we are this slot's only publisher
        if value < current:
            raise DirectError(EINVAL, f"notify value {value} is lower than signal {signal_id}'s current value {current}")
        self.futex.fence()            # release: every write before it is visible before the value
        self.words[index] = value
        self.futex.wake_all(self.address + index * 4)

    def wait(self, signal_id, target, timeout_us):
        """Returns once the slot is >= target; EAGAIN at the deadline, never before it."""
        self._live()
        index = self._slot(signal_id)
        _u32("target", target)
        _u32("timeout_us", timeout_us)
        deadline = time.monotonic() + timeout_us / 1e6
        addr = self.address + index * 4
        looks = 0
        pause = 20e-6
        while True:
            seen = self.words[index]
            if seen >= target:
                self.futex.fence()    # acquire: reads after the wait see what was published before it
                return
            left = deadline - time.monotonic()
            if timeout_us == 0 or left <= 0:
                raise DirectError(EAGAIN, f"wait on signal {signal_id} for {target} timed out after {timeout_us} us (value {seen})")
            looks += 1
            if looks < SPIN_LOOKS:
                continue
            self._live()
            if self.polling:
                time.sleep(min(pause, left))
                pause = min(2 * pause, POLL_MAX_S)
                continue
            # Announce, then look: a publisher either sees the count or this look sees its store.
            self.futex.add(self.sleepers, 1)
            try:
                if self.words[index] == seen:
                    self.futex.wait(addr, seen, min(SLICE_S, left))
            finally:
                self.futex.add(self.sleepers, -1)

    def _unmap(self):
        if self.mm is None:
            return
        self.words.release()
        del self._anchor
        self.mm.close()
        self.mm = None

    def close(self):
        """Unmaps here first, then asks the child to close the region (docs/l3-protocol.md 10.6)."""
        self._unmap()
        self.chip.close(self.handle)

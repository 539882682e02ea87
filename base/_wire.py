"""The wire format shared by every part: frames, records, the fetch plan.

One source of truth. docs/protocol.md describes the same thing in prose; the C
side (native/tracer.h) is tested against these constants
(tests/native/test_wire.py), so a change here that the C side does not
follow fails the suite.

Records are msgpack arrays whose first element is the record type and whose
next four are common to every record (seq, ts_ns, tid, tgid). The position of
every other field is named below in ``FIELDS``: decoders index by those names,
never by bare numbers. A record may carry one more trailing element than
``FIELDS`` names: the extension map (``EXT``), e.g. ``{"nspid": [tid, tgid]}``.
"""

from __future__ import annotations

import struct
from enum import IntEnum

import msgpack

WIRE_VERSION = 1

# --- frames -----------------------------------------------------------------
# A frame is a fixed little-endian header followed by `length` bytes holding
# `count` concatenated msgpack records whose sequence numbers start at
# `first_seq` and rise by one per record.
FRAME_MAGIC = 0x5254  # b"TR" little-endian
FRAME_HEADER = struct.Struct("<HBBIQII")  # magic, version, kind, session, first_seq, count, length
FRAME_HEADER_SIZE = FRAME_HEADER.size  # 24
FRAME_MAX_PAYLOAD = 1 << 20  # a worker never writes a bigger frame


class FrameKind(IntEnum):
    RECORDS = 0


class Rec(IntEnum):
    SYSCALL = 1  # a whole call: entry and exit (or entry only)
    SYSCALL_ENTRY = 2  # entry of a call whose exit comes later (<unfinished ...>)
    SYSCALL_EXIT = 3  # exit of a call announced by SYSCALL_ENTRY (<... resumed>)
    EXEC = 4
    NEWTASK = 5  # fork/vfork/clone: a task appeared
    SIGNAL = 6  # signal-delivery-stop
    EXIT = 7  # a task exited normally
    KILLED = 8  # a task was killed by a signal
    LOST = 9  # records dropped (drop mode)
    ERROR = 10  # the tracer could not do something
    ATTACH = 11  # a task was seized
    DETACH = 12  # a task was released
    STOPPED = 13  # group-stop (--- stopped by SIGSTOP ---)


COMMON = ("type", "seq", "ts", "tid", "tgid")

# Type-specific fields, after the five common ones.
_SPECIFIC: dict[Rec, tuple[str, ...]] = {
    # pers: Pers; args: array of 6 uint64; ret: int64 or nil (no exit stop);
    # is_error: bool; dur: entry->exit ns (nil without exit); mem: list of
    # [phase, arg, value] (see MEM below); cpu: on-CPU ns of the call or nil;
    # flags: SysFlag bits.
    Rec.SYSCALL: ("pers", "nr", "args", "ret", "is_error", "dur", "mem", "cpu", "flags"),
    Rec.SYSCALL_ENTRY: ("pers", "nr", "args", "mem", "flags"),
    Rec.SYSCALL_EXIT: ("pers", "nr", "ret", "is_error", "dur", "mem", "cpu", "flags"),
    # old_tid: the id the exec'ing thread had before (differs when a non-leader
    # thread exec'd: PTRACE_GETEVENTMSG at PTRACE_EVENT_EXEC).
    Rec.EXEC: ("old_tid",),
    # child: new task id; how: NewTask
    Rec.NEWTASK: ("child", "how"),
    # signo; siginfo: the raw 128-byte siginfo_t (bin)
    Rec.SIGNAL: ("signo", "siginfo"),
    Rec.EXIT: ("status",),
    Rec.KILLED: ("signo", "core"),
    Rec.LOST: ("count",),
    Rec.ERROR: ("errno", "message"),
    Rec.ATTACH: (),
    Rec.DETACH: (),
    Rec.STOPPED: ("signo",),
}

FIELDS: dict[Rec, tuple[str, ...]] = {t: COMMON + f for t, f in _SPECIFIC.items()}
# index of each field by record type: IDX[Rec.SYSCALL]["nr"] == 6
IDX: dict[Rec, dict[str, int]] = {t: {n: i for i, n in enumerate(f)} for t, f in FIELDS.items()}
EXT = "ext"


class Pers(IntEnum):
    """Personality of a call: decided by the `arch` the kernel reports."""

    X86_64 = 0
    I386 = 1
    X32 = 2


# AUDIT_ARCH_* values (linux/audit.h) by personality. x32 reports X86_64 with
# bit 30 (__X32_SYSCALL_BIT) set in nr.
AUDIT_ARCH = {Pers.X86_64: 0xC000003E, Pers.I386: 0x40000003, Pers.X32: 0xC000003E}
X32_SYSCALL_BIT = 0x40000000


class NewTask(IntEnum):
    FORK = 1
    VFORK = 2
    CLONE = 3


class SysFlag(IntEnum):
    """Bits of a syscall record's `flags`."""

    NO_EXIT = 0x1  # no exit stop was asked: ret is nil
    VANISHED = 0x2  # the task went away before its exit stop (ret nil)
    SECCOMP = 0x4  # stopped by the seccomp filter (else a plain syscall stop)
    # tampering (-e inject=/fault=, docs/fetch-plan.md's tamper section):
    INJECTED = 0x8  # the return value was written (error= or retval=): "(INJECTED)"
    POKED = 0x10  # tracee memory was written (poke_enter=/poke_exit=): "(INJECTED: args)"
    DELAYED = 0x20  # held by delay_enter=/delay_exit=: "(DELAYED)"
    SIGNALED = 0x40  # a signal= was sent (the signal shows as its own record)


# --- fetched memory (the `mem` field) -----------------------------------------
# Each entry is [phase, arg, value]: phase 0 = read at entry, 1 = at exit; arg
# is the argument index 0..5 the pointer came from; value depends on the op:
#   CSTR   bin: the bytes read, *including* the terminating NUL when one was
#          found within the limit (no trailing NUL = truncated)
#   BUF    bin: the bytes read (at most the limit; the decoder knows the full
#          length from the length argument or the return value)
#   STRUCT bin: exactly the struct's size
#   STRARR array: [total, s0, s1, ...]: total = number of non-NULL pointers
#          (counted up to STRARR_COUNT_MAX), then up to `limit` strings, each
#          encoded as for CSTR (or, one that cannot be read, its pointer as
#          a uint; older records: -errno); an op with LEN_FIXED fetches
#          exactly `size` strings, so size 0 gives [total] alone; when the
#          array runs into unreadable memory before its NULL, a last
#          element [address] says where
#   IOVEC  array of [base, len, bin-or-int]: one per iovec, up to `limit`
#          elements (one more than -s shows, to tell `...` from an
#          unreadable element); each one's data up to the string size + 1,
#          out of the return value in all at exit (strace's rule), and at
#          most IOV_DATA_MAX bytes in the record; when the array runs into
#          unreadable memory, the readable elements then an int (-EFAULT)
#   MSGHDR array [hdr, name, iov, control]: hdr = bin, the struct msghdr
#          itself (56 bytes; 28 for i386/x32); name = bin, msg_namelen bytes
#          (at most MSG_NAME_MAX) at msg_name, nil when NULL or empty; iov = as
#          IOVEC for msg_iov/msg_iovlen (up to `limit` elements; data capped
#          at the string size, and at the return value at exit); control =
#          bin, msg_controllen bytes (at most MSG_CONTROL_MAX) at msg_control,
#          nil when NULL or empty. A failed read of the header makes the whole
#          value an int; of a part, that part an int. It follows the pointers
#          found in the header itself (DEREF follows one pointer of any
#          struct the table's [layouts] describe).
#   MMSGHDR array of MSGHDR values, one per struct mmsghdr (exit only: the
#          first `ret` of the vector, at most the len_src argument, `limit`
#          and MMSG_MAX, each with at most that many iovecs); each hdr is the whole mmsghdr (64 bytes; 32 compat),
#          msg_len included, which bounds that message's iovec data
#   FD     what an fd names, resolved at the stop (-y/-yy/--decode-fds/-P):
#          the entry's arg is FD_SLOT + the op's arg (FD_SLOT + FD_RET: the
#          return value), so it never meets a pointer op's entry. One fd's
#          value: bin, the /proc/TID/fd/N link; or [link, detail, deleted]
#          when there is more: detail (bin or nil) is what -yy prints
#          instead of the link (`TCP:[a:p->b:q]`, `UNIX-STREAM:[i->j]`,
#          `NETLINK:[ROUTE:pid]`, `pid:N`) or after it (`char 1:3`), deleted
#          (bool) is strace's `(deleted)` (the link's " (deleted)" suffix
#          is then cut); an int: -errno (not open). An op with LEN_FIXED
#          reads `size` ints at the argument's pointer (pipe's pair), one
#          with len_src an argument that many elements of `size` bytes,
#          each starting with an int fd (poll's struct pollfd: 8), at most
#          FD_ARRAY_MAX; with len_src an argument and size 0, an fd_set
#          (select's) of that many bits, one value per set bit in
#          ascending order (at most FD_ARRAY_MAX); its value is an array of
#          such values (or an int when the memory cannot be read).
#   DEREF  bin: the elements behind a pointer that sits inside the memory an
#          argument points to (clone_args' set_tid, sock_fprog's filter,
#          pselect6's sigset pointer), as far as readable (a short read
#          kept), or an int (-errno: the argument's memory or the pointer's
#          cannot be read, -EFAULT for a NULL pointer). The entry's arg is
#          deref_slot(argument, offset of the pointer), so several pointers
#          of one struct have entries of their own.
#   FD_AT  what the int fd at `size` bytes into an argument's memory names
#          (io_uring_params' wq_fd, mount_attr's userns_fd, an ioctl's
#          srcfd), or with FD_AT_PTR the int behind the pointer there
#          (clone3's pidfd at exit), one value as for FD; the entry's arg
#          is fd_at_slot(argument, offset); -EFAULT when the int cannot be
#          read.
#   COND   writes nothing: the next `len_src` ops of the call run only when
#          the low 32 bits of argument `arg` equal `size` (an ioctl request,
#          a command, an opcode); a COND may gate another COND.
#          such values (or an int when the memory cannot be read). An op
#          with LEN_NONE and size FD_SCM_RIGHTS names the fds an argument's
#          msghdr passes in its SCM_RIGHTS control messages (sendmsg at
#          entry, recvmsg at exit), in the order they come, at most
#          FD_ARRAY_MAX, read as the decoder walks the control (its first
#          MSG_CONTROL_MAX bytes): an array, or an int (-errno) when the
#          header or the control cannot be read.
#   STACK  bin: exactly `size` bytes at the stack pointer (as the syscall
#          entry saw it) plus 8 x the op's `arg`; the entry's `arg` is that
#          word offset, not an argument index (rt_sigreturn's saved mask)
# A value that is an int is a failed read: -errno (e.g. -14 for EFAULT).
MEM_PHASE_ENTRY = 0
MEM_PHASE_EXIT = 1
STRARR_COUNT_MAX = 1 << 20


class Op(IntEnum):
    CSTR = 1
    BUF = 2
    STRUCT = 3
    STRARR = 4
    IOVEC = 5
    MSGHDR = 6
    STACK = 7
    MMSGHDR = 8
    FD = 9  # name an fd while the tracee is stopped (-y, -yy, --decode-fds, -P)
    DEREF = 10  # memory behind a pointer found inside an argument's memory (second level)
    FD_AT = 11  # name the int fd at an offset inside an argument's memory (-y...)
    COND = 12  # run the next `len_src` ops only when an argument's low 32 bits == `size`


# --- the fetch plan -----------------------------------------------------------
# Binary, little-endian. Header, then `count` entries sorted by (pers, nr), each
# followed by its ops.
#   header: magic b"TRFP", version u16, count u16, strsize u32, flags u32
#   entry:  pers u8, nops u8, eflags u16, nr u32
#   op:     phase u8, kind u8 (Op), arg u8, len_src u8, size u32
# arg: the argument 0..5 holding the pointer; for STACK, the offset from the
# stack pointer in 8-byte words (0..255).
# len_src: 0..5 = the value of that argument, LEN_RET = the return value (exit
# only), LEN_FIXED = `size` bytes (STRARR: `size` strings, even 0), LEN_IOC =
# the size ioctl's request (argument 1) encodes (_IOC_SIZE: bits 16-29) and
# IOC_TRAILER bytes more (a flexible array after the struct: fiemap's
# extents), or IOC_UNSIZED bytes for a request that encodes none (BUF only;
# capped at `size`), LEN_NONE =
# not applicable (CSTR, STRARR).
# size: the read's upper bound in bytes (CSTR, BUF: 0 means "the session's
# strsize"; STRUCT: the struct's size; STRARR, IOVEC, MSGHDR: max (iovec) elements, 0 means
# strsize). A BUF whose length comes from an argument or ret is capped at its
# size bound.
PLAN_MAGIC = b"TRFP"
PLAN_VERSION = 2  # 2: the tamper section (PlanFlag.TAMPER)
PLAN_HEADER = struct.Struct("<4sHHII")
PLAN_ENTRY = struct.Struct("<BBHI")
PLAN_OP = struct.Struct("<BBBBI")
LEN_RET = 6
LEN_FIXED = 7
LEN_IOC = 8
IOC_UNSIZED = 512  # what an ioctl argument whose request encodes no size is read as (LOOP_CONFIGURE's 304)
IOC_TRAILER = 256  # read past the size a request encodes
LEN_NONE = 0xFF
PATH_MAX = 4096
IOV_DATA_MAX = 65536  # iovec data bytes in one mem value at most
FD_SLOT = 16  # an FD op's mem entry: arg FD_SLOT + i (i: argument, or FD_RET)
FD_RET = 6  # an FD op's arg naming the return value (exit phase only)
DEREF_SLOT = 0x100  # a DEREF op's mem entry: arg DEREF_SLOT + 256 * argument + pointer offset
FD_AT_SLOT = 0x800  # an FD_AT op's mem entry: arg FD_AT_SLOT + 256 * argument + fd offset
LEN_FIELD = 9  # DEREF: the element count is the field at byte 1 of `size` in the argument's memory
# DEREF's `arg` byte: bits 0-2 the argument, then these; its `size`: byte 0
# the pointer's offset in the argument's memory, byte 1 the count's offset
# (LEN_FIELD) or the count (LEN_FIXED), bytes 2-3 the most elements read (0:
# strsize + 1, one more than -s shows, as strace reads one more)
DEREF_PTR64 = 0x08  # the pointer is 64 bits in every personality (clone_args' aligned_u64); else a long
DEREF_LEN_SHIFT = 4  # bits 4-5: log2 of the count field's width (1, 2, 4, 8 bytes)
DEREF_ELEM_SHIFT = 6  # bits 6-7: log2 of an element's size (1, 2, 4, 8 bytes)
DEREF_MAX_BYTES = 65536  # a DEREF value's bytes at most (elements x size, capped)
DEREF_STRS = 0x80000000  # `size`'s top bit: the elements are pointers to C strings, each read as a CSTR of strsize
DEREF_STRS_MAX = 64  # the most strings such a DEREF reads
COND_MAX = 32  # ops a COND may gate at most
# FD_AT's `arg` byte: bits 0-2 the argument, then these
FD_AT_PTR = 0x08  # the word at the offset is a pointer to the int fd (written by the call: clone3's pidfd)
FD_AT_PTR64 = 0x10  # that pointer is 64 bits in every personality; else a long
FD_AT_OFF_MAX = 256  # an FD_AT op's offset (its `size`) stays below


def deref_slot(arg: int, off: int) -> int:
    return DEREF_SLOT + 256 * arg + off


def fd_at_slot(arg: int, off: int) -> int:
    return FD_AT_SLOT + 256 * arg + off


def is_fd_slot(slot: int) -> bool:
    """The mem entry of an fd named at the stop (FD or FD_AT op)."""
    return FD_SLOT <= slot <= FD_SLOT + FD_RET or FD_AT_SLOT <= slot < FD_AT_SLOT + 6 * 256


KVM_SLOT = 32  # PlanFlag.KVM: the exit mem entry [1, KVM_SLOT, exit_reason] of a KVM_RUN ioctl
FD_ARRAY_MAX = 64  # an FD op names this many fds of an array or a set at most
FD_SCM_RIGHTS = 1  # an FD op's size with LEN_NONE: the SCM_RIGHTS fds of a msghdr
FD_STRIDE_MAX = 64  # an FD op's array element (len_src an argument: `size` bytes each)
MMSG_MAX = 64  # messages (and iovecs per message) an MMSGHDR value holds at most
MSG_NAME_MAX = 128  # sizeof(struct sockaddr_storage)
MSG_CONTROL_MAX = 1024  # control data read for a msghdr (cmsg headers and payloads)
# MSGHDR's `arg` byte: bits 0-2 the argument, then this flag (set when the
# call is printed unabbreviated, -v): msg_control is read as far as the
# kernel takes it, net.core.optmem_max, within [MSG_CONTROL_MAX,
# MSG_CONTROL_VMAX], as strace reads it
MSGHDR_CTL_FULL = 0x08
MSG_CONTROL_VMAX = 524288
# Fetched memory one call carries at most, entry and exit together (the mem
# values, encoded): the record always fits in a frame. Beyond it, strings and
# buffers are cut (no NUL: shown with "..."), a STRARR keeps fewer strings than
# its total, and an op with no room left is an int, -E2BIG (-7).
MEM_MAX = FRAME_MAX_PAYLOAD - 8192


class EntryFlag(IntEnum):
    """Per-entry flags of the fetch plan; the same bits ride in the 16 data bits
    of SECCOMP_RET_TRACE, so the loop knows what to do without a lookup."""

    EXIT = 0x1  # catch the exit stop
    FETCH_ENTRY = 0x2  # the entry has entry-phase ops
    FETCH_EXIT = 0x4  # the entry has exit-phase ops


class PlanFlag(IntEnum):
    CPU_TIME = 0x1  # read per-thread schedstat at entry and exit (-c)
    TAMPER = 0x2  # a tamper section follows the entries
    IP = 0x20  # call (entry, whole) and signal records carry the task's instruction pointer: ext "ip" (-i)
    KVM = 0x80  # a successful ioctl(VCPU_FD, KVM_RUN) gets the exit mem entry [1, KVM_SLOT, kvm_run.exit_reason] (-e kvm=vcpu)
    STACK = 0x40  # call records (entry, or whole) carry the stack unwound at entry: ext "stack", a list of strace's " > ..." lines (-k)
    # what FD ops add to an fd's link (strace's --decode-fds sets; the
    # ops themselves are there only when fds are named at all)
    FD_SOCKET = 0x4  # socket protocol and addresses (sock_diag, -yy)
    FD_DEV = 0x8  # a device's type and numbers (`char 1:3`)
    FD_PIDFD = 0x10  # a pidfd's pid (`pid:N`)


# --- the tamper section (plan version 2, PlanFlag.TAMPER) ----------------------
# After the last entry's ops: a header, `npaths` -P paths, then `count` rules
# sorted by (pers, nr), each (pers, nr) also an entry of the plan, each
# followed by its pokes.
#   header: count u16, npaths u16, reserved u32
#   path:   len u16, then `len` bytes; the two zero-padded to a multiple of 8
#   rule:   pers u8, actions u8 (TamperAction), signo u8, npokes u8, nr u32,
#           first u16, last u16 (0xFFFF: none), step u16 (0: `first` only),
#           error u16, retval u64, scno i64 (the call that runs instead: -1
#           none, the call is skipped), delay_enter_ns u64, delay_exit_ns u64,
#           pathargs u8, fdargs u8 (with -P paths: bit i = argument i is a
#           path / an fd; the call is counted and tampered with only when one
#           names a -P path), reserved u16 + u32
#   poke:   phase u8 (0 entry, 1 exit), arg u8 (1..7, strace's @argN), len u16,
#           reserved u32, then `len` bytes zero-padded to a multiple of 8
TAMPER_HEADER = struct.Struct("<HHI")
TAMPER_RULE = struct.Struct("<BBBBIHHHHQqQQBBHI")
TAMPER_PATH = struct.Struct("<H")
TAMPER_POKE = struct.Struct("<BBHI")
TAMPER_LAST_INF = 0xFFFF
TAMPER_POKE_MAX = 1024


class TamperAction(IntEnum):
    ERROR = 0x1
    RETVAL = 0x2
    SIGNAL = 0x4
    SYSCALL = 0x8  # scno holds the substitute (with ERROR or RETVAL)
    DELAY_ENTER = 0x10
    DELAY_EXIT = 0x20
    POKE_ENTER = 0x40
    POKE_EXIT = 0x80


# --- control messages (consumer -> worker) -------------------------------------
# Fixed 8-byte little-endian messages: op u32, arg u32.
CONTROL = struct.Struct("<II")


class Ctl(IntEnum):
    DETACH = 1  # detach from every task and exit (attach mode)
    KILL = 2  # kill every launched task and exit
    FLUSH = 3  # flush the current batch now


# --- helpers (Python side; the C side writes the same bytes) -------------------


def pack_frame(session: int, first_seq: int, records: list[bytes]) -> bytes:
    payload = b"".join(records)
    return FRAME_HEADER.pack(FRAME_MAGIC, WIRE_VERSION, FrameKind.RECORDS, session, first_seq, len(records), len(payload)) + payload


def unpack_header(buf: bytes | memoryview, offset: int = 0) -> tuple[int, int, int, int, int]:
    """Return (kind, session, first_seq, count, length) of the header at
    `offset`; raise ValueError on a bad header."""
    magic, version, kind, session, first_seq, count, length = FRAME_HEADER.unpack_from(buf, offset)
    if magic != FRAME_MAGIC:
        raise ValueError(f"bad frame magic 0x{magic:04x}")
    if version != WIRE_VERSION:
        raise ValueError(f"unsupported frame version {version}")
    if length > FRAME_MAX_PAYLOAD:
        raise ValueError(f"frame of {length} bytes exceeds the maximum {FRAME_MAX_PAYLOAD}")
    return kind, session, first_seq, count, length


class FrameSplitter:
    """Cuts a byte stream of frames at its headers, parsing each header once
    (the worker's pipe, read by the embedded client and by the daemon).

    ``feed(data)``, then either ``frames()``: each complete frame as
    ``(first_seq, count, payload)``, the payload a memoryview of a bytes
    copy of the whole frame (`frame_of(payload)` gives the frame itself,
    header included, for a consumer that passes it on); or ``run()``: the
    complete frames of this pass joined as they came, ``(first_seq, count,
    nframes, data)``, one bytes object for any number of frames. A header
    that is bad (`unpack_header`), of another kind, or, with `session`,
    names another session raises ValueError. ``pending`` is how many bytes
    of an incomplete frame are held."""

    def __init__(self, session: int | None = None):
        self.session = session
        self._buf = bytearray()
        self._pos = 0  # consumed up to here; compacted at the next feed

    def feed(self, data) -> None:
        if self._pos:
            # compacted here, not per frame: deleting per frame would move
            # the rest of a large read each time
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += data

    @property
    def pending(self) -> int:
        return len(self._buf) - self._pos

    def _refuse(self, kind: int, session: int):
        if kind != FrameKind.RECORDS:
            raise ValueError(f"unknown frame kind {kind}")
        raise ValueError(f"frame for session {session}")

    # frames() and run() walk the headers inline: this is the daemon's
    # per-frame path, and a call per header cost more than the parse.
    # `if kind`: any kind but FrameKind.RECORDS (0) is refused

    def frames(self):
        buf, hs, sid = self._buf, FRAME_HEADER_SIZE, self.session
        while len(buf) - (pos := self._pos) >= hs:
            kind, session, first, count, length = unpack_header(buf, pos)
            if kind or (sid is not None and session != sid):
                self._refuse(kind, session)
            end = pos + hs + length
            if end > len(buf):
                return
            # the one copy (the temporary view is gone before the next feed compacts)
            frame = bytes(memoryview(buf)[pos:end])
            self._pos = end
            yield first, count, memoryview(frame)[hs:]

    def run(self) -> tuple[int, int, int, bytes] | None:
        buf, hs, sid = self._buf, FRAME_HEADER_SIZE, self.session
        size = len(buf)
        start = pos = self._pos
        first = None
        count = nframes = 0
        while size - pos >= hs:
            kind, session, fseq, fcount, length = unpack_header(buf, pos)
            if kind or (sid is not None and session != sid):
                self._refuse(kind, session)
            end = pos + hs + length
            if end > size:
                break
            if first is None:
                first = fseq
            count += fcount
            nframes += 1
            pos = end
        if first is None:
            return None
        data = bytes(memoryview(buf)[start:pos])
        self._pos = pos
        return first, count, nframes, data


def frame_of(payload: memoryview) -> bytes:
    """The whole frame (header included) of a payload `FrameSplitter.frames()` yielded."""
    return payload.obj


def iter_records(payload: bytes) -> list[list]:
    """Decode a frame's payload into its records (lists)."""
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
    unpacker.feed(payload)
    return list(unpacker)


def record(rtype: Rec, seq: int, ts: int, tid: int, tgid: int, *fields, ext: dict | None = None) -> list:
    """Build a record as a list (tests and Python producers)."""
    out = [int(rtype), seq, ts, tid, tgid, *fields]
    if len(out) != len(FIELDS[rtype]):
        raise ValueError(f"{rtype.name} takes {len(FIELDS[rtype])} fields, got {len(out)}")
    if ext:
        out.append(ext)
    return out


def field(rec: list, name: str):
    """A record's field by name (None when an optional trailing field is absent)."""
    i = IDX[Rec(rec[0])][name]
    return rec[i] if i < len(rec) else None


def ext(rec: list) -> dict:
    n = len(FIELDS[Rec(rec[0])])
    return rec[n] if len(rec) > n and isinstance(rec[n], dict) else {}

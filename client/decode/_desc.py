"""Descriptor family: read/write and friends, fcntl commands, lseek, dup,
pipes, close, sendfile/splice."""

from __future__ import annotations

import struct

from ._core import C, styled, syscall, struct as register_struct, table_args
from ._fmt import hexa


def _fd0(c: C) -> list:
    return [c.fd(0)]


@syscall("readv", head=_fd0)
def _readv(c: C):
    return [c.iovec(1, c.ulong(2), c.rval) if c.ok else _iov_addrs(c, 1, c.ulong(2)), c.lu(2)]


@syscall("preadv", "preadv2", head=_fd0)
def _preadv(c: C):
    out = [c.iovec(1, c.ulong(2), c.rval) if c.ok else _iov_addrs(c, 1, c.ulong(2)), c.lu(2), c.ld(3)]
    return out + ([c.flags(5, "rwf_flags")] if c.name == "preadv2" else [])


@syscall("pwritev2")
def _pwritev(c: C):
    out = [c.fd(0), c.iovec(1, c.ulong(2)), c.lu(2), c.ld(3)]
    return out + ([c.flags(5, "rwf_flags")] if c.name == "pwritev2" else [])


@syscall("fadvise64")
def _fadvise(c: C):
    return [c.fd(0), c.ld(1), c.lu(2), c.xval(3, "fadvise_advice")]


_LOCK_TYPES = {0: "F_RDLCK", 1: "F_WRLCK", 2: "F_UNLCK", 4: "F_EXLCK", 8: "F_SHLCK"}
# F_GETLK, F_OFD_GETLK; F_SETLK, F_SETLKW, F_OFD_SETLK, F_OFD_SETLKW
_GETLK, _SETLK = frozenset({5, 36}), frozenset({6, 7, 37, 38})


def flock_fields(c: C, b: bytes, getlk: bool) -> str:
    """struct flock: the lock and its range; the owner's pid only as
    F_GETLK returns it."""
    typ, whence, start, ln, pid = struct.unpack_from("<hh4xqqi", b)
    raw = f"{typ & 0xFFFF:#x}" if typ else "0"
    name = _LOCK_TYPES.get(typ & 0xFFFF)
    t = styled(raw, name, c.style) if name else (raw if c.style == "raw" else f"{raw} /* F_??? */")
    text = f"{{l_type={t}, l_whence={c.fs('seek_whence').xval(whence & 0xFFFF, c.style)}, l_start={start}, l_len={ln}"
    if getlk:
        t = c.dec.pidns
        text += f", l_pid={pid}" + ("" if t is None else t.comment(c.tid, pid))
    return text + "}"


@register_struct("flock")
def flock_text(c: C, b: bytes, i: int) -> str:
    return flock_fields(c, b, c.uint(1) in _GETLK)


def _fcntl_lock(c: C) -> str:
    """fcntl's lock argument: F_SETLK* print it at entry, F_GETLK at exit
    (the address when the call failed)."""
    if not c.ulong(2):
        return "NULL"
    getlk = c.uint(1) in _GETLK
    if getlk and not c.ok:
        return c.ptr(2)
    v = c.m(2, 1 if getlk else 0)
    if c.pers == 1 or not isinstance(v, (bytes, bytearray)) or len(v) < 32:
        return c.ptr(2)
    return flock_fields(c, bytes(v), getlk)


def _fcntl_ret(c: C) -> str:
    cmd = c.uint(1)
    r = c.ret
    if cmd == 1:  # F_GETFD
        return f"{r:#x} (flags {c.fs('fd_flags').flags(r, c.style)})" if r else "0"
    if cmd == 3:  # F_GETFL
        return f"{hexa(r)} (flags {c.fs('open_modes').flags(r)})"
    if cmd == 11:  # F_GETSIG
        from ._core import sigtext

        return f"{r} ({sigtext(r)})" if r else "0"
    if cmd == 1025:  # F_GETLEASE
        name = c.fs("lock_types").lookup(r)
        return f"{hexa(r)} ({name})" if name else hexa(r)
    if cmd in (0, 1030):
        return c.dec.fd_text(r, c.tid)
    return str(r)


@syscall("fcntl", "fcntl64", ret=_fcntl_ret)
def _fcntl(c: C):
    out = table_args(c)  # the arguments are the table's fcntl$ variants; the return is annotated here
    cmd = c.uint(1)
    if cmd in _GETLK or cmd in _SETLK:
        out[2] = _fcntl_lock(c)
    elif cmd in (15, 16):  # F_SETOWN_EX at entry, F_GETOWN_EX at exit
        out[2] = _f_owner_ex(c, cmd == 16)
    return out


def _f_owner_ex(c: C, get: bool) -> str:
    if not c.ulong(2):
        return "NULL"
    v = c.m(2, 1 if get else 0)
    if (get and not c.ok) or c.pers == 1 or not isinstance(v, (bytes, bytearray)) or len(v) < 8:
        return c.ptr(2)
    typ, pid = struct.unpack_from("<ii", v)
    t = c.dec.pidns
    p = str(pid) + ("" if t is None or typ not in (0, 1, 2) else t.comment(c.tid, pid))
    return f"{{type={c.fs('f_owner_types').xval(typ & 0xFFFFFFFF, c.style)}, pid={p}}}"


def _fdpair(c: C, i: int) -> str:
    v = c.m(i, 1)
    if not c.ok or not isinstance(v, (bytes, bytearray)) or len(v) < 8:
        return c.ptr(i)
    a, b = struct.unpack_from("<ii", v)
    named = c.named(i) if c.dec._anyfd else None
    if isinstance(named, list) and len(named) == 2:  # named at the exit stop
        return f"[{c.dec.fd_named(a, named[0])}, {c.dec.fd_named(b, named[1])}]"
    return f"[{c.dec.fd_text(a, c.tid)}, {c.dec.fd_text(b, c.tid)}]"


@syscall("pipe")
def _pipe(c: C):
    return [_fdpair(c, 0)]


@syscall("pipe2")
def _pipe2(c: C):
    return [_fdpair(c, 0), c.flags(1, "pipe_flags")]


def _offset(c: C, i: int, phase: int) -> str | None:
    """An offset word as sendfile prints it (unsigned), or None when it
    was not read."""
    v = c.m(i, phase)
    if not isinstance(v, (bytes, bytearray)) or len(v) < (8 if c.name == "sendfile64" or c.pers == 0 else 4):
        return None
    return f"[{struct.unpack_from('<Q' if c.name == 'sendfile64' or c.pers == 0 else '<I', v)[0]}]"


@syscall("sendfile", "sendfile64")
def _sendfile(c: C):
    """The offset as the call got it, then ` => [new]` when it moved bytes
    (strace reads it again at exit then)."""
    if not c.ulong(2):
        o = "NULL"
    else:
        o = _offset(c, 2, 0) or c.ptr(2)
        if o != c.ptr(2) and c.ok and c.rval:
            after = _offset(c, 2, 1)
            o += f" => {after or c.ptr(2)}"
    return [c.fd(0), c.fd(1), o, c.lu(3)]


@syscall("fanotify_mark")
def _fanotify_mark(c: C):
    """The mask is a 64-bit word; the directory fd may be FAN_NOFD (-1)."""
    if c.int(3) == -1:
        dirfd = styled("-1", "FAN_NOFD", c.style)
    else:
        dirfd = c.dirfd(3)
    return [c.fd(0), c.flags(1, "fan_mark_flags"), c.fs("fan_mask").flags(c.ulong(2), c.style), dirfd, c.path(4)]


@register_struct("mq_attr")
def mq_attr_text(c: C, b: bytes, i: int) -> str:
    """struct mq_attr: mq_getsetattr names the flags (O_NONBLOCK), mq_open
    prints them in hex (the kernel ignores them there)."""
    flags, maxmsg, msgsize, curmsgs = struct.unpack_from("<Qqqq", b)
    f = hexa(flags) if c.name == "mq_open" else c.fs("mq_attr_flags").flags(flags, c.style)
    return f"{{mq_flags={f}, mq_maxmsg={maxmsg}, mq_msgsize={msgsize}, mq_curmsgs={curmsgs}}}"


def _iov_addrs(c: C, i: int, count: int, phase: int = 0) -> str:
    """An iovec array whose bases print as addresses (another process's
    memory, or a read that failed)."""
    v = c.m(i, phase)
    if not c.ulong(i):
        return "NULL"
    if not isinstance(v, list) or not v or not isinstance(v[0], list):
        return "[]" if count == 0 and isinstance(v, list) else c.ptr(i)
    return c.iovec_list([[e[0], e[1], None] if isinstance(e, list) else e for e in v], count, None, c.ulong(i))


@syscall("process_vm_readv")
def _process_vm_readv(c: C):
    """The local vectors at exit: their data up to what was read, or their
    addresses when the call failed; the remote ones as addresses."""
    n = c.ulong(2)
    local = c.iovec(1, n, c.rval) if c.ok else _iov_addrs(c, 1, n)
    return [c.pid(0), local, c.lu(2), _iov_addrs(c, 3, c.ulong(4)), c.lu(4), c.lu(5)]


@syscall("process_vm_writev")
def _process_vm_writev(c: C):
    return [c.pid(0), c.iovec(1, c.ulong(2)), c.lu(2), _iov_addrs(c, 3, c.ulong(4)), c.lu(4), c.lu(5)]


def _uring_offsets(v: tuple, names: tuple) -> str:
    """io_sqring_offsets/io_cqring_offsets: seven offsets, the reserved
    words only when set."""
    p = [f"{n}={x}" for n, x in zip(names, v)]
    p += [f"{n}={hexa(x)}" for n, x in (("resv1", v[7]), ("resv2", v[8])) if x]
    return "{" + ", ".join(p) + "}"


@syscall("io_uring_setup")
def _io_uring_setup(c: C):
    """The params the call reads at entry (flags, the SQ thread's cpu and
    idle time, wq_fd under IORING_SETUP_ATTACH_WQ, resv when nonzero) and,
    when it succeeded, what it filled in (sizes, features, ring offsets)."""
    v = c.m(1, 0)
    if not c.ulong(1) or not isinstance(v, (bytes, bytearray)) or len(v) < 120:
        return [str(c.uint(0)), c.ptr(1)]
    _, _, flags, cpu, idle, _, wq, *resv = struct.unpack_from("<IIIIIIi3I", v)
    p = [f"flags={c.fs('uring_setup_flags').flags(flags, c.style)}", f"sq_thread_cpu={hexa(cpu)}",
         f"sq_thread_idle={idle}"]
    if flags & 0x20:  # IORING_SETUP_ATTACH_WQ
        p.append(f"wq_fd={c.fd_in(1, 24, wq) if wq >= 0 else wq}")  # named at the stop ([layouts] io_uring_params)
    if any(resv):
        p.append("resv=[" + ", ".join(hexa(x) for x in resv) + "]")
    e = c.m(1, 1)
    if c.ok and isinstance(e, (bytes, bytearray)) and len(e) >= 120:
        sq, cq, _, _, _, feat = struct.unpack_from("<6I", e)
        p += [f"sq_entries={sq}", f"cq_entries={cq}", f"features={c.fs('uring_setup_features').flags(feat, c.style)}",
              "sq_off=" + _uring_offsets(struct.unpack_from("<8IQ", e, 40),
                                         ("head", "tail", "ring_mask", "ring_entries", "flags", "dropped", "array")),
              "cq_off=" + _uring_offsets(struct.unpack_from("<8IQ", e, 80),
                                         ("head", "tail", "ring_mask", "ring_entries", "overflow", "cqes", "flags"))]
    return [str(c.uint(0)), "{" + ", ".join(p) + "}"]

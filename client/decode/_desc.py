"""Descriptor family: read/write and friends, fcntl commands, ioctl requests,
lseek, pipes, poll/select/epoll, dup, close."""

from __future__ import annotations

import struct

from ._core import C, syscall, struct as register_struct
from ._fmt import comment, hexa


@syscall("read", entry=1)
def _read(c: C):
    return [c.fd(0), c.outbuf(1), c.lu(2)]


@syscall("write")
def _write(c: C):
    return [c.fd(0), c.buf(1, c.ulong(2), phase=0), c.lu(2)]


@syscall("pread64", entry=1)
def _pread(c: C):
    return [c.fd(0), c.outbuf(1), c.lu(2), c.ld(3)]


@syscall("pwrite64")
def _pwrite(c: C):
    return [c.fd(0), c.buf(1, c.ulong(2), phase=0), c.lu(2), c.ld(3)]


@syscall("readv", entry=1)
def _readv(c: C):
    return [c.fd(0), c.iovec(1, c.ulong(2), c.rval) if c.ok else c.ptr(1), c.lu(2)]


@syscall("writev")
def _writev(c: C):
    return [c.fd(0), c.iovec(1, c.ulong(2)), c.lu(2)]


@syscall("preadv", "preadv2", entry=1)
def _preadv(c: C):
    out = [c.fd(0), c.iovec(1, c.int(2), c.rval) if c.ok else c.ptr(1), c.d(2), c.ld(3)]
    return out + ([c.flags(5, "rwf_flags")] if c.name == "preadv2" else [])


@syscall("pwritev", "pwritev2")
def _pwritev(c: C):
    out = [c.fd(0), c.iovec(1, c.int(2)), c.d(2), c.ld(3)]
    return out + ([c.flags(5, "rwf_flags")] if c.name == "pwritev2" else [])


@syscall("close", "fsync", "fdatasync", "fchdir", "syncfs")
def _fd1(c: C):
    return [c.fd(0)]


@syscall("dup", ret="fd")
def _dup(c: C):
    return [c.fd(0)]


@syscall("dup2", ret="fd")
def _dup2(c: C):
    return [c.fd(0), c.fd(1)]


@syscall("dup3", ret="fd")
def _dup3(c: C):
    return [c.fd(0), c.fd(1), c.flags(2, "pipe_flags")]


@syscall("close_range")
def _close_range(c: C):
    return [c.u(0), c.u(1), c.flags(2, "close_range_flags")]


@syscall("lseek")
def _lseek(c: C):
    return [c.fd(0), c.ld(1), c.xval(2, "seek_whence")]


@syscall("ftruncate")
def _ftruncate(c: C):
    return [c.fd(0), c.ld(1)]


@syscall("fadvise64")
def _fadvise(c: C):
    return [c.fd(0), c.ld(1), c.lu(2), c.xval(3, "fadvise_advice")]


@syscall("flock")
def _flock(c: C):
    return [c.fd(0), c.flags(1, "flock_ops")]


@register_struct("flock")
def flock_text(c: C, b: bytes, i: int) -> str:
    typ, whence, start, ln, pid = struct.unpack_from("<hhqqi", b)
    t = {0: "F_RDLCK", 1: "F_WRLCK", 2: "F_UNLCK"}.get(typ, str(typ))
    return f"{{l_type={t}, l_whence={c.fs('seek_whence').xval(whence)}, l_start={start}, l_len={ln}, l_pid={pid}}}"


def _fcntl_ret(c: C) -> str:
    cmd = c.uint(1)
    r = c.ret
    if cmd == 1:  # F_GETFD
        return f"{r:#x} (flags {c.fs('fd_flags').flags(r, c.style)})" if r else "0"
    if cmd == 3:  # F_GETFL
        from ._file import open_flags

        return f"{hexa(r)} (flags {open_flags(c, r, 'abbrev')})"
    if cmd == 11:  # F_GETSIG
        from ._core import sigtext

        return f"{r} ({sigtext(r)})" if r else "0"
    if cmd in (0, 1030):
        return c.dec.fd_text(r, c.tid)
    return str(r)


@syscall("fcntl", "fcntl64", ret=_fcntl_ret)
def _fcntl(c: C):
    cmd = c.uint(1)
    out = [c.fd(0), c.xval(1, "fcntl_cmds")]
    if cmd in (1, 3, 9, 11, 1025, 1032, 1034):  # the getters take no argument
        return out
    if cmd in (0, 1030):  # F_DUPFD, F_DUPFD_CLOEXEC
        return out + [c.d(2)]
    if cmd == 2:
        return out + [c.flags(2, "fd_flags")]
    if cmd == 4:
        from ._file import open_flags

        return out + [open_flags(c, c.uint(2))]
    if cmd in (5, 6, 7, 36, 37, 38):
        return out + [c.struct(2, "flock")]
    if cmd == 10:
        return out + [c.sig(2)]
    return out + [c.ld(2)]


@register_struct("termios")
def termios_text(c: C, b: bytes, i: int) -> str:
    iflag, oflag, cflag, lflag = struct.unpack_from("<IIII", b)
    line = b[16]
    if c.abbrev:
        # strace's short form: speed, then opost/isig/icanon/echo, "-" when off
        speed = c.fs("termios_baud").xval(cflag & 0o10017)
        f = lambda on, n: ("" if on else "-") + n  # noqa: E731
        return (f"{{{speed} {f(oflag & 1, 'opost')} {f(lflag & 1, 'isig')} "
                f"{f(lflag & 2, 'icanon')} {f(lflag & 0o10, 'echo')} ...}}")
    cc = ", ".join(f"{x:#04x}" for x in b[17:36])
    return (f"{{c_iflag={hexa(iflag)}, c_oflag={hexa(oflag)}, c_cflag={hexa(cflag)}, c_lflag={hexa(lflag)}, "
            f"c_line={line}, c_cc=[{cc}]}}")


@register_struct("winsize")
def winsize_text(c: C, b: bytes, i: int) -> str:
    r, col, x, y = struct.unpack_from("<HHHH", b)
    return f"{{ws_row={r}, ws_col={col}, ws_xpixel={x}, ws_ypixel={y}}}"


_IOC_DIR = {0: "_IOC_NONE", 1: "_IOC_WRITE", 2: "_IOC_READ", 3: "_IOC_READ|_IOC_WRITE"}


def ioctl_cmd(c: C, v: int) -> str:
    if c.style == "raw":
        return hexa(v)
    n = c.fs("ioctl_cmds").lookup(v)
    if n:
        return hexa(v) + comment(n) if c.style == "verbose" else n
    d, size, typ, nr = v >> 30, (v >> 16) & 0x3FFF, (v >> 8) & 0xFF, v & 0xFF
    return f"_IOC({_IOC_DIR[d]}, {typ:#x}, {nr:#x}, {size:#x})"


_IOCTL_OUT = {0x5401: "termios", 0x5413: "winsize"}
_IOCTL_IN = {0x5402: "termios", 0x5403: "termios", 0x5404: "termios", 0x5414: "winsize"}


@syscall("ioctl", entry=2)
def _ioctl(c: C):
    req = c.uint(1)
    out = [c.fd(0), ioctl_cmd(c, req)]
    if req in _IOCTL_OUT:
        return out + [c.outstruct(2, _IOCTL_OUT[req])]
    if req in _IOCTL_IN:
        return out + [c.struct(2, _IOCTL_IN[req], 0)]
    if req in (0x5451, 0x5450, 0x5422, 0x540C, 0x540D):  # FIOCLEX, FIONCLEX, TIOCNOTTY, TIOCEXCL, TIOCNXCL
        return out
    if req in (0x5410, 0x540F, 0x541B, 0x5421, 0x5429):  # pointers to an int
        v = c.m(2)
        if isinstance(v, (bytes, bytearray)) and len(v) >= 4 and (req not in (0x540F, 0x541B, 0x5429) or c.ok):
            return out + [f"[{struct.unpack_from('<i', v)[0]}]"]
        return out + [c.ptr(2)]
    return out + [c.hex(2)]


def _fdpair(c: C, i: int) -> str:
    v = c.m(i, 1)
    if not c.ok or not isinstance(v, (bytes, bytearray)) or len(v) < 8:
        return c.ptr(i)
    a, b = struct.unpack_from("<ii", v)
    return f"[{c.dec.fd_text(a, c.tid)}, {c.dec.fd_text(b, c.tid)}]"


@syscall("pipe", entry=0)
def _pipe(c: C):
    return [_fdpair(c, 0)]


@syscall("pipe2", entry=0)
def _pipe2(c: C):
    return [_fdpair(c, 0), c.flags(1, "pipe_flags")]


def _pollfds(c: C, i: int, n: int, out: bool) -> str:
    v = c.m(i, 1 if out else 0) if out else c.m(i, 0)
    if c.ulong(i) == 0:
        return "NULL"
    if not isinstance(v, (bytes, bytearray)) or len(v) < 8 * n:
        return c.ptr(i)
    items = []
    for k in range(n):
        fd, ev, rev = struct.unpack_from("<ihh", v, 8 * k)
        if out:
            if rev:
                items.append(f"{{fd={c.dec.fd_text(fd, c.tid)}, revents={c.fs('poll_events').flags(rev & 0xFFFF)}}}")
        else:
            items.append(f"{{fd={c.dec.fd_text(fd, c.tid)}, events={c.fs('poll_events').flags(ev & 0xFFFF)}}}")
    return "[" + ", ".join(items) + "]"


def _poll_ret(c: C) -> str:
    if c.ret == 0:
        return "0 (Timeout)"
    rev = _pollfds(c, 0, c.uint(1), True)
    return f"{c.ret} ({rev})" if rev.startswith("[") else str(c.ret)


@syscall("poll", entry=3, ret=_poll_ret)
def _poll(c: C):
    return [_pollfds(c, 0, c.uint(1), False), c.u(1), c.d(2)]


@syscall("ppoll", entry=4, ret=_poll_ret)
def _ppoll(c: C):
    return [_pollfds(c, 0, c.uint(1), False), c.u(1), c.struct(2, "timespec", 0), c.sigset(3, c.ulong(4)), c.lu(4)]


@register_struct("epoll_event")
def epoll_event_text(c: C, b: bytes, i: int) -> str:
    ev, data = struct.unpack_from("<IQ", b)
    return f"{{events={c.fs('epoll_events').flags(ev)}, data={{u32={data & 0xFFFFFFFF}, u64={data}}}}}"


@syscall("epoll_create")
def _epoll_create(c: C):
    return [c.d(0)]


@syscall("epoll_create1")
def _epoll_create1(c: C):
    return [c.flags(0, "epoll_flags")]


@syscall("epoll_ctl")
def _epoll_ctl(c: C):
    return [c.fd(0), c.xval(1, "epoll_ctl_ops"), c.fd(2), c.struct(3, "epoll_event", 0)]


@syscall("epoll_wait", "epoll_pwait", entry=1)
def _epoll_wait(c: C):
    v = c.m(1, 1)
    if c.ok and isinstance(v, (bytes, bytearray)) and len(v) >= 12 * c.rval:
        evs = "[" + ", ".join(epoll_event_text(c, bytes(v[12 * k : 12 * k + 12]), 1) for k in range(c.rval)) + "]"
    else:
        evs = c.ptr(1)
    out = [c.fd(0), evs, c.d(2), c.d(3)]
    if c.name == "epoll_pwait":
        out += [c.sigset(4, c.ulong(5)), c.lu(5)]
    return out


@syscall("eventfd2")
def _eventfd2(c: C):
    return [c.u(0), c.flags(1, "efd_flags")]


@syscall("sendfile", entry=2)
def _sendfile(c: C):
    off = c.m(2)
    o = f"[{struct.unpack_from('<q', off)[0]}]" if isinstance(off, (bytes, bytearray)) and len(off) >= 8 else c.ptr(2)
    return [c.fd(0), c.fd(1), o, c.lu(3)]


@syscall("splice")
def _splice(c: C):
    return [c.fd(0), c.ptr(1), c.fd(2), c.ptr(3), c.lu(4), c.flags(5, "splice_flags")]


@syscall("copy_file_range")
def _copy_file_range(c: C):
    return [c.fd(0), c.ptr(1), c.fd(2), c.ptr(3), c.lu(4), c.u(5)]


def _fdset(c: C, i: int, n: int, phase: int) -> str:
    if c.ulong(i) == 0:
        return "NULL"
    v = c.m(i, phase)
    if not isinstance(v, (bytes, bytearray)):
        return c.ptr(i)
    bits = int.from_bytes(bytes(v), "little")
    return "[" + " ".join(str(k) for k in range(min(n, len(v) * 8)) if bits >> k & 1) + "]"


def _select_ret(c: C) -> str:
    """`= 2 (in [3], out [4], left {tv_sec=0, tv_nsec=0})`, `= 0 (Timeout)`."""
    if c.ret == 0:
        return "0 (Timeout)"
    n = c.int(0)
    parts = []
    for i, label in ((1, "in"), (2, "out"), (3, "except")):
        v = c.m(i, 1)
        if c.ulong(i) and isinstance(v, (bytes, bytearray)):
            bits = int.from_bytes(bytes(v), "little")
            fds = [str(k) for k in range(min(n, len(v) * 8)) if bits >> k & 1]
            if fds:
                parts.append(f"{label} [{' '.join(fds)}]")
    t = c.m(4, 1)
    if c.ulong(4) and isinstance(t, (bytes, bytearray)) and len(t) >= 16:
        sec, frac = struct.unpack_from("<qq", t)
        unit = "tv_usec" if c.name == "select" else "tv_nsec"
        parts.append(f"left {{tv_sec={sec}, {unit}={frac}}}")
    return f"{c.ret} ({', '.join(parts)})" if parts else str(c.ret)


@syscall("select", "pselect6", entry=5, ret=_select_ret)
def _select(c: C):
    n = c.int(0)
    out = [c.d(0)] + [_fdset(c, k, n, 0) for k in (1, 2, 3)]
    if c.name == "select":
        return out + [c.struct(4, "timeval", 0)]
    return out + [c.struct(4, "timespec", 0), c.ptr(5)]

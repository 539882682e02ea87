"""Polling: poll/ppoll, select/pselect6 and their result sets, epoll, eventfd."""

from __future__ import annotations

import struct

from tracerd._wire import FD_SLOT

from ._core import C, sigset_text, syscall, struct as register_struct
from ._fmt import hexa


# the pollfd elements the plan reads at exit, at least (bpfgen's
# INOUT_ARRAY_EXIT_MIN): the returned events of an array longer than what
# was read are not seen
_EXIT_MIN = 64


def _pollfds(c: C, i: int, n: int) -> str:
    """The array at entry, as strace's print_array: each fd (named under
    -y), and its events when the fd is not negative."""
    named = c.mem.get((0, FD_SLOT + i)) if c.dec._anyfd else None
    if not isinstance(named, list):
        named = None
    fs = c.fs("poll_events")
    k = [0]

    def elem(c: C, b: bytes) -> str:
        fd, ev = struct.unpack_from("<ih", b)
        j = k[0]
        k[0] += 1
        text = c.dec.fd_named(fd, named[j]) if named is not None and j < len(named) else c.dec.fd_text(fd, c.tid)
        return f"{{fd={text}}}" if fd < 0 else f"{{fd={text}, events={fs.flags(ev & 0xFFFF, c.style)}}}"

    return c.array(i, n, 8, elem, phase=0)


def _revents(c: C, n: int) -> str:
    """What strace adds to the return: the elements with returned events
    (at most -s when abbreviating), the address of one that cannot be read."""
    addr = c.ulong(0)
    if not addr or not n or not c.verbose:
        return ""
    v = c.m(0, 1)
    b = bytes(v) if isinstance(v, (bytes, bytearray)) else b""
    read = 8 * max(c.opts.strsize + 1, _EXIT_MIN)  # what the plan asked for
    most = c.opts.strsize if c.abbrev else None
    items: list[str] = []
    for k in range(n):
        if 8 * k + 8 > len(b):
            if len(b) < min(8 * n, read):  # memory ended there
                items.append(hexa(addr + 8 * k))
            break
        fd, _, rev = struct.unpack_from("<ihh", b, 8 * k)
        if not rev:
            continue
        if most is not None and len(items) >= most:
            items.append("...")
            break
        items.append(f"{{fd={fd}, revents={c.fs('poll_events').flags(rev & 0xFFFF)}}}")
    return "[" + ", ".join(items) + "]" if items else ""


def _poll_ret(c: C) -> str:
    if c.ret == 0:
        return "0 (Timeout)"
    out = _revents(c, c.uint(1))
    if c.name.startswith("ppoll") and c.ulong(2) and c.verbose:
        left = c.struct(2, "timespec" if c.name == "ppoll" else "timespec64", 1)
        out += (", left " if out else "left ") + left
    return f"{c.ret} ({out})" if out else str(c.ret)


@syscall("poll", ret=_poll_ret)
def _poll(c: C):
    return [_pollfds(c, 0, c.uint(1)), c.u(1), c.d(2)]


@syscall("ppoll", "ppoll_time64", ret=_poll_ret)  # all five at entry, as strace
def _ppoll(c: C):
    ts = "timespec" if c.name == "ppoll" else "timespec64"
    return [_pollfds(c, 0, c.uint(1)), c.u(1), c.struct(2, ts, 0), c.sigset(3, c.ulong(4)), c.lu(4)]


@register_struct("epoll_event")
def epoll_event_text(c: C, b: bytes, i: int) -> str:
    ev, data = struct.unpack_from("<IQ", b)
    return f"{{events={c.fs('epoll_events').flags(ev)}, data={{u32={data & 0xFFFFFFFF}, u64={data}}}}}"


@syscall("epoll_wait", "epoll_pwait", "epoll_pwait2", head=lambda c: [c.fd(0)])
def _epoll_wait(c: C):
    """All but the fd print at exit, as strace's: a call that failed shows
    its timeout (epoll_pwait2's timespec) and signal mask as addresses."""
    v = c.m(1, 1)
    if c.ok and isinstance(v, (bytes, bytearray)) and len(v) >= 12 * c.rval:
        evs = "[" + ", ".join(epoll_event_text(c, bytes(v[12 * k : 12 * k + 12]), 1) for k in range(c.rval)) + "]"
    else:
        evs = c.ptr(1)
    if c.name == "epoll_pwait2":
        timeout = c.struct(3, "timespec", 0) if c.ok or not c.exiting else c.ptr(3)
    else:
        timeout = c.d(3)
    out = [evs, c.d(2), timeout]
    if c.name != "epoll_wait":
        out += [c.sigset(4, c.ulong(5)) if c.ok or not c.exiting else c.ptr(4), c.lu(5)]
    return out


# the bytes of a set the fetch plan reads (bpfgen's FETCH_SIZES["fd_set"])
_FETCHED = 1024


def _fdsize(c: C) -> int:
    """The bytes strace reads of each set: nfds bits (the kernel's int, a
    negative one as 0, at most 1M) rounded up to a long; more than the
    fetch reads, the fetched bytes when they all could be (the fds above
    8191 are not shown)."""
    n = min(max(c.int(0), 0), 1 << 20)
    w = 8 if c.pers == 0 else 4
    return min(((n + 7) // 8 + w - 1) & -w, _FETCHED)


def _fdset(c: C, i: int, n: int, phase: int) -> str:
    if c.ulong(i) == 0:
        return "NULL"
    size = _fdsize(c)
    v = c.m(i, phase)
    if not size or not isinstance(v, (bytes, bytearray)) or len(v) < size:
        return c.ptr(i)  # no set to read, or part of it unreadable: the address
    bits = int.from_bytes(bytes(v[:size]), "little")
    fds = [k for k in range(min(n, size * 8)) if bits >> k & 1]
    # at entry, the fds as the tracer named them at the stop (-y), in order
    named = c.mem.get((0, FD_SLOT + i)) if c.dec._anyfd and phase == 0 else None
    if isinstance(named, list):
        return "[" + " ".join(c.dec.fd_named(k, named[j]) if j < len(named) else c.dec.fd_text(k, c.tid)
                              for j, k in enumerate(fds)) + "]"
    return "[" + " ".join(str(k) for k in fds) + "]"


def _select_ret(c: C) -> str:
    """`= 2 (in [3], out [4], left {tv_sec=0, tv_nsec=0})`, `= 0 (Timeout)`;
    at most `ret` fds are listed, and a set that cannot be read whole is
    skipped (`= 1 ()` when none is left to show). As strace, a `]` closes
    every set looked at once something was printed."""
    if c.ret == 0:
        return "0 (Timeout)"
    n = min(max(c.int(0), 0), 1 << 20)
    size = _fdsize(c)
    ready = c.ret
    out = ""
    sep = ""
    for i, label in ((1, "in"), (2, "out"), (3, "except")):
        if ready <= 0:
            break
        v = c.m(i, 1)
        if not c.ulong(i) or not size or not isinstance(v, (bytes, bytearray)) or len(v) < size:
            continue
        bits = int.from_bytes(bytes(v[:size]), "little")
        first = True
        for k in range(min(n, size * 8)):
            if not bits >> k & 1:
                continue
            if first:
                out += f"{sep}{label} [{k}"
                first = False
                sep = ", "
            else:
                out += f" {k}"
            ready -= 1
            if ready == 0:
                break
        if out:
            out += "]"
    t = c.m(4, 1)
    if c.ulong(4) and isinstance(t, (bytes, bytearray)) and len(t) >= 16:
        sec, frac = struct.unpack_from("<qQ", t)
        unit = "tv_usec" if c.name == "select" else "tv_nsec"
        out += f"{sep}left {{tv_sec={sec}, {unit}={frac}}}"
    return f"{c.ret} ({out})"


@syscall("select", "pselect6", ret=_select_ret)  # all at entry, as strace
def _select(c: C):
    n = c.int(0)
    out = [c.d(0)] + [_fdset(c, k, n, 0) for k in (1, 2, 3)]
    if c.name == "select":
        return out + [c.struct(4, "timeval", 0)]
    return out + [c.struct(4, "timespec", 0), c.struct(5, "sigset_argpack", 0)]


@register_struct("sigset_argpack")
def sigset_argpack_text(c: C, b: bytes, i: int) -> str:
    """pselect6's sixth argument, io_pgetevents' usig: `{sigmask=[HUP],
    sigsetsize=8}`, the set read behind its pointer (a DEREF op: the table's
    [layouts] sigset_argpack); the address for a size strace reads no set
    of (below a word, above 8 bytes) or an unreadable set."""
    wide = c.pers == 0
    p, n = struct.unpack_from("<QQ" if wide else "<II", b)
    v = c.deref(i, 0, 0)
    if not p:
        mask = "NULL"
    elif (8 if wide else 4) <= n <= 8 and isinstance(v, (bytes, bytearray)) and len(v) >= n:
        mask = sigset_text(int.from_bytes(bytes(v)[:n].ljust(8, b"\0"), "little"), style=c.style)
    else:
        mask = hexa(p)
    return f"{{sigmask={mask}, sigsetsize={n}}}"


@syscall("io_pgetevents")
def _io_pgetevents(c: C):
    return [c.ptr(0), c.ld(1), c.ld(2), c.ptr(3), c.struct(4, "timespec", 0), c.struct(5, "sigset_argpack", 0)]


@syscall("epoll_ctl")
def _epoll_ctl(c: C):
    """EPOLL_CTL_DEL reads no event: its address."""
    ev = c.ptr(3) if c.uint(1) == 2 else c.struct(3, "epoll_event", 0)
    return [c.fd(0), c.xval(1, "epoll_ctl_ops"), c.fd(2), ev]

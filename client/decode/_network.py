"""Network family: socket domains/types/protocols, connect/bind/accept,
send/recv flags, sockopts, shutdown."""

from __future__ import annotations

import socket
import struct

from . import _netlink
from ._core import C, syscall
from ._fmt import hexa, quote
from ._msghdr import mmsghdr_text
from ._sockaddr import _sockaddr_in, _sockaddr_out


def sock_type(c: C, v: int) -> str:
    if c.style == "raw":
        return hexa(v)
    t = c.fs("sock_types").xval(v & 0xF)
    rest = v & ~0xF
    return t + ("|" + c.fs("sock_type_flags").flags(rest) if rest else "")


@syscall("socket", ret="fd")
def _socket(c: C):
    fam = c.uint(0)
    proto = c.int(2)
    if fam in (socket.AF_INET, socket.AF_INET6):
        p = c.fs("inet_protocols").xval(proto)
    elif fam == socket.AF_NETLINK:
        p = c.fs("netlink_protocols").xval(proto)
    else:
        p = str(proto)
    if fam == socket.AF_NETLINK and c.ok:
        _netlink.socket_created(c, c.rval, proto)
    return [c.xval(0, "addrfams"), sock_type(c, c.uint(1)), p]


def _dest_is_netlink(c: C) -> bool:
    v = c.m(4, 0) if c.name == "sendto" and c.ulong(4) else None
    return isinstance(v, (bytes, bytearray)) and len(v) >= 2 and struct.unpack_from("<H", v)[0] == socket.AF_NETLINK


def sockbuf(c: C, i: int, length: int, phase: int) -> str:
    """A socket call's data: netlink messages on a netlink socket (strace
    decodes them unless -e verbose= leaves the call out), else bytes."""
    if length > 0 and c.ulong(i):
        fam = _netlink.fd_family(c, c.int(0))
        if fam is None and c.name in ("sendto", "send") and _dest_is_netlink(c):
            fam = -1  # a netlink socket of a protocol not known: the headers all the same
        if fam is not None:
            v = c.m(i, phase)
            if isinstance(v, (bytes, bytearray)):
                return _netlink.decode(c, c.ulong(i), bytes(v), length, fam)
            return c.ptr(i)
    if c.ulong(i) == 0:
        return "NULL"  # strace: the address, whatever the length
    return c.buf(i, length, phase=phase)


@syscall("socketpair", entry=3)
def _socketpair(c: C):
    from ._desc import _fdpair

    return [c.xval(0, "addrfams"), sock_type(c, c.uint(1)), c.d(2), _fdpair(c, 3)]


@syscall("connect", "bind")
def _connect(c: C):
    return [c.fd(0), _sockaddr_in(c, 1, c.uint(2)), c.u(2)]


@syscall("accept", entry=1, ret="fd")
def _accept(c: C):
    a, ln = _sockaddr_out(c, 1, 2)
    return [c.fd(0), a, ln]


@syscall("accept4", entry=1, ret="fd")
def _accept4(c: C):
    a, ln = _sockaddr_out(c, 1, 2)
    return [c.fd(0), a, ln, c.flags(3, "sock_type_flags")]


@syscall("getsockname", "getpeername", entry=1)
def _getsockname(c: C):
    a, ln = _sockaddr_out(c, 1, 2)
    return [c.fd(0), a, ln]


@syscall("sendto")
def _sendto(c: C):
    return [c.fd(0), sockbuf(c, 1, c.ulong(2), 0), c.lu(2), c.flags(3, "msg_flags"),
            _sockaddr_in(c, 4, c.uint(5)), c.u(5)]


@syscall("recvfrom", entry=1)
def _recvfrom(c: C):
    a, ln = _sockaddr_out(c, 4, 5)
    buf = sockbuf(c, 1, min(c.rval, c.ulong(2)), 1) if c.ok else c.ptr(1)
    return [c.fd(0), buf, c.lu(2), c.flags(3, "msg_flags"), a, ln]


@syscall("recvmmsg", "recvmmsg_time64", entry=1)
def _recvmmsg(c: C):
    return [c.fd(0), mmsghdr_text(c, 1), c.u(2), c.flags(3, "msg_flags"), c.struct(4, "timespec" if c.name == "recvmmsg" else "timespec64", 0)]


def _optname(c: C, level: int, opt: int) -> str:
    sets = {1: "sol_socket_opts", 0: "sol_ip_opts", 6: "sol_tcp_opts", 41: "sol_ipv6_opts", 270: "sol_netlink_opts"}
    if level in sets:
        return c.fs(sets[level]).xval(opt, c.style)
    return str(opt)


def _optval(c: C, i: int, ln: int, phase: int) -> str:
    v = c.m(i, phase)
    if not isinstance(v, (bytes, bytearray)):
        return c.ptr(i)
    if ln >= 4 and len(v) >= 4:  # an int option (strace reads the int, whatever the length beyond it)
        return f"[{struct.unpack_from('<i', v)[0]}]"
    return quote(bytes(v)[:ln], force_hex=True)  # strace: printstr_ex(..., QUOTE_FORCE_HEX)


@syscall("setsockopt")
def _setsockopt(c: C):
    lvl = c.int(1)
    ln = c.int(4)  # an int: a negative length prints the value's address
    # an int option shorter than an int: strace prints where it is
    short_int = 0 <= ln < 4 and not (lvl == 1 and c.int(2) == 25)  # SO_BINDTODEVICE is a name
    val = _optval(c, 3, ln, 0) if ln >= 0 and not short_int else c.ptr(3)
    return [c.fd(0), c.xval(1, "sockopt_levels"), _optname(c, lvl, c.int(2)), val, str(ln)]


@syscall("getsockopt", entry=3)
def _getsockopt(c: C):
    lvl = c.int(1)
    lv = c.m(4, 1)
    n = struct.unpack_from("<I", lv)[0] if isinstance(lv, (bytes, bytearray)) and len(lv) >= 4 else None
    lv0 = c.m(4, 0)
    n0 = struct.unpack_from("<I", lv0)[0] if isinstance(lv0, (bytes, bytearray)) and len(lv0) >= 4 else None
    val = _optval(c, 3, n, 1) if c.ok and n is not None else c.ptr(3)
    if c.ok and n is not None:
        ln = f"[{n0} => {n}]" if n0 is not None and n0 != n else f"[{n}]"
    else:
        ln = f"[{n0}]" if n0 is not None else c.ptr(4)
    return [c.fd(0), c.xval(1, "sockopt_levels"), _optname(c, lvl, c.int(2)), val, ln]

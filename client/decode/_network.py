"""Network family: socket domains/types/protocols, connect/bind/accept,
send/recv flags, sockopts, shutdown."""

from __future__ import annotations

import errno
import socket
import struct

from . import _netlink, _sockopt
from ._fprog import fprog_text, insns_text
from ._core import C, styled, syscall
from ._fmt import hexa, quote, quote_buf
from ._msghdr import mmsghdr_text
from ._netlink_msgs import _ifindex
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


@syscall("socketpair")
def _socketpair(c: C):
    from ._desc import _fdpair

    return [c.xval(0, "addrfams"), sock_type(c, c.uint(1)), c.d(2), _fdpair(c, 3)]


@syscall("connect", "bind")
def _connect(c: C):
    return [c.fd(0), _sockaddr_in(c, 1, c.uint(2)), c.u(2)]


def _fd0(c: C) -> list:
    return [c.fd(0)]


@syscall("accept", ret="fd", head=_fd0)
def _accept(c: C):
    return list(_sockaddr_out(c, 1, 2))


@syscall("accept4", ret="fd", head=_fd0)
def _accept4(c: C):
    a, ln = _sockaddr_out(c, 1, 2)
    return [a, ln, c.flags(3, "sock_type_flags")]


@syscall("getsockname", "getpeername", head=_fd0)
def _getsockname(c: C):
    return list(_sockaddr_out(c, 1, 2))


@syscall("sendto")
def _sendto(c: C):
    return [c.fd(0), sockbuf(c, 1, c.ulong(2), 0), c.lu(2), c.flags(3, "msg_flags"),
            _sockaddr_in(c, 4, c.uint(5)), c.u(5)]


@syscall("recvfrom", head=_fd0)
def _recvfrom(c: C):
    a, ln = _sockaddr_out(c, 4, 5)
    buf = sockbuf(c, 1, min(c.rval, c.ulong(2)), 1) if c.ok else c.ptr(1)
    return [buf, c.lu(2), c.flags(3, "msg_flags"), a, ln]


def _recvmmsg_ret(c: C) -> str:
    """The time the kernel left of the timeout: `= 1 (left {tv_sec=0, tv_nsec=9})`
    (not under -e verbose=none, where the messages print as an address too)."""
    if not c.ulong(4) or not c.verbose:
        return str(c.ret)
    t = c.m(4, 1)
    if isinstance(t, (bytes, bytearray)) and len(t) >= 16:
        sec, nsec = struct.unpack_from("<qQ", t)
        return f"{c.ret} (left {{tv_sec={sec}, tv_nsec={nsec}}})"
    return f"{c.ret} (left {c.ptr(4)})"


@syscall("recvmmsg", "recvmmsg_time64", ret=_recvmmsg_ret)
def _recvmmsg(c: C):
    return [c.fd(0), mmsghdr_text(c, 1), c.u(2), c.flags(3, "msg_flags"), c.struct(4, "timespec" if c.name == "recvmmsg" else "timespec64", 0)]


# getsockopt/setsockopt option names by level (strace's sets; other levels print the number)
_OPT_SETS = {1: "sol_socket_opts", 0: "sol_ip_opts", 6: "sol_tcp_opts", 17: "sol_udp_opts", 41: "sol_ipv6_opts",
             132: "sol_sctp_opts", 255: "sol_raw_opts", 263: "sol_packet_opts", 270: "sol_netlink_opts"}


def _optname(c: C, level: int, opt: int) -> str:
    """The option (an unsigned int) named in its level's set; SOL_SOCKET's
    26 is SO_GET_FILTER to getsockopt, SO_ATTACH_FILTER to setsockopt."""
    opt &= 0xFFFFFFFF
    level &= 0xFFFFFFFF
    if level == 1 and opt == 26:
        name = "SO_GET_FILTER" if c.name == "getsockopt" else "SO_ATTACH_FILTER"
        return styled(hexa(opt), name, c.style)
    setname = _OPT_SETS.get(level)
    if setname is not None:
        return c.fs(setname).xval(opt, c.style)
    return str(opt)


@syscall("setsockopt")
def _setsockopt(c: C):
    lvl = c.uint(1)
    ln = c.int(4)  # an int: a negative length prints the value's address
    return [c.fd(0), c.xval(1, "sockopt_layers"), _optname(c, lvl, c.int(2)), _setopt_value(c, lvl, c.uint(2), ln), str(ln)]


def _icmp_filter(c: C, b: bytes, ln: int) -> str:
    """struct icmp_filter: the types it filters, `~[...]` for those it does
    not when more than half of the 32 bits are set (strace's rule)."""
    k = min(ln, 4)
    if ln <= 0 or len(b) < k:
        return c.ptr(3)
    data = int.from_bytes(b[:k].ljust(4, b"\xff"), "little")
    neg = bin(data).count("1") > 16
    if neg:
        data = ~data & 0xFFFFFFFF
    fs = c.fs("icmp_filter_types")
    return ("~" if neg else "") + "[" + " ".join(fs.xval(n, c.style) for n in range(32) if data >> n & 1) + "]"


def _setopt_value(c: C, lvl: int, opt: int, ln: int) -> str:
    """The value setsockopt is given, as strace's print_setsockopt: an int
    for the int-like options (shorter: the address), else an int when
    the length is an int's, else the bytes."""
    if not c.ulong(3):
        return "NULL"
    v = c.m(3, 0)
    b = bytes(v) if isinstance(v, (bytes, bytearray)) else b""
    if lvl == 1 and opt == 13:  # SO_LINGER: struct linger, when the length holds it
        return _linger(b, 8) if ln >= 8 and len(b) >= 8 else c.ptr(3)
    if lvl == 1 and opt == 74:  # SO_TXREHASH
        return _txrehash(c, b) if ln >= 4 and len(b) >= 4 else c.ptr(3)
    if (lvl == 1 and opt in _INT_SO) or lvl == 270:
        return f"[{struct.unpack_from('<i', b)[0]}]" if ln >= 4 and len(b) >= 4 else c.ptr(3)
    if lvl == 255 and opt == 1:  # ICMP_FILTER: the ICMP types as a bit set
        return _icmp_filter(c, b, ln)
    if lvl == 1 and opt in (26, 51):  # SO_ATTACH_FILTER, SO_ATTACH_REUSEPORT_CBPF: a sock_fprog
        t = fprog_text(c, 3, b, False) if ln >= (16 if c.pers == 0 else 8) else None
        return t or c.ptr(3)
    if (lvl == 0 and opt in (35, 36)) or (lvl == 41 and opt in (20, 21, 27, 28)):
        return _mreq(c, b, ln, lvl == 41)
    text = _sockopt.struct_value(c, lvl, opt, ln, b)
    if text is not None:
        return text
    if ln == 4:
        return f"[{struct.unpack_from('<i', b)[0]}]" if len(b) >= 4 else c.ptr(3)
    if ln < 0 or len(b) < min(ln, c.opts.strsize):
        return c.ptr(3)
    return quote_buf(b, ln, c.opts.strsize, c.opts.xflag)


def _mreq(c: C, b: bytes, ln: int, v6: bool) -> str:
    """ip_mreq (IP_ADD/DROP_MEMBERSHIP) or ipv6_mreq (IPV6_ADD/DROP_MEMBERSHIP,
    IPV6_JOIN/LEAVE_ANYCAST): a length below the struct's prints the address."""
    size = 20 if v6 else 8
    if ln < size or len(b) < size:
        return c.ptr(3)
    if v6:
        addr = socket.inet_ntop(socket.AF_INET6, b[:16])
        return (f'{{inet_pton(AF_INET6, "{addr}", &ipv6mr_multiaddr), '
                f'ipv6mr_interface={_ifindex(struct.unpack_from("<i", b, 16)[0], c.style)}}}')
    return (f'{{imr_multiaddr=inet_addr("{socket.inet_ntoa(b[:4])}"), '
            f'imr_interface=inet_addr("{socket.inet_ntoa(b[4:8])}")}}')


# SOL_SOCKET options strace prints as an int (shorter: the bytes in hex)
_INT_SO = frozenset({1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 18, 19, 27, 29, 30, 32, 33, 34, 35, 36, 37, 40, 41,
                     42, 43, 44, 45, 46, 49, 53, 56, 60, 63, 64, 65, 68, 69, 70, 73, 75})


def _len_fields(b: bytes, k: int, names: tuple, vals: tuple) -> list:
    """Fields of 4 bytes each that the length k covers (strace's
    MAYBE_PRINT_FIELD_LEN): whole ones by value, a cut one as its bytes."""
    out = []
    for j, (nm, val) in enumerate(zip(names, vals)):
        o = 4 * j
        if k <= o:
            break
        out.append(f"{nm}={val}" if k >= o + 4 else f"{nm}={quote(b[o:k], force_hex=True)}")
    return out


def _linger(b: bytes, k: int) -> str:
    on, secs = struct.unpack_from("<ii", b.ljust(8, b"\0"))
    return "{" + ", ".join(_len_fields(b, k, ("l_onoff", "l_linger"), (str(on), str(secs)))) + "}"


def _txrehash(c: C, b: bytes) -> str:
    v = struct.unpack_from("<i", b)[0]
    name = {0: "SOCK_TXREHASH_DISABLED", 1: "SOCK_TXREHASH_ENABLED", 255: "SOCK_TXREHASH_DEFAULT"}.get(v)
    if c.style == "raw":
        return f"[{v}]"
    if name is None:
        return f"[{v} /* SOCK_TXREHASH_??? */]"
    return f"[{v} /* {name} */]" if c.style == "verbose" else f"[{name}]"


def _getopt_value(c: C, lvl: int, opt: int, ulen: int, rlen: int) -> str:
    """What getsockopt wrote, by level and option, as strace's
    print_getsockopt: a struct, an int, an errno, or the bytes."""
    if ulen <= 0 or rlen <= 0 or not c.ulong(3):
        return c.ptr(3)
    v = c.m(3, 1)
    b = bytes(v) if isinstance(v, (bytes, bytearray)) else b""

    def need(k: int) -> bool:
        return len(b) >= k

    if lvl == 1 and opt == 26:  # SO_GET_FILTER: rlen instructions (the table's fetch rule reads them)
        if rlen > ulen or c.abbrev:
            return c.ptr(3)
        return insns_text(c, b, c.ulong(3), rlen, False)
    if lvl == 1 and opt == 17:  # SO_PEERCRED: struct ucred, the fields the length covers
        k = min(rlen, 12)
        if not need(k):
            return c.ptr(3)
        pid, uid, gid = struct.unpack_from("<iII", b.ljust(12, b"\0"))
        t = c.dec.pidns
        vals = (str(pid) + ("" if t is None else t.comment(c.tid, pid)),
                "-1" if uid == 0xFFFFFFFF else str(uid), "-1" if gid == 0xFFFFFFFF else str(gid))
        return "{" + ", ".join(_len_fields(b, k, ("pid", "uid", "gid"), vals)) + "}"
    if lvl == 1 and opt == 13:  # SO_LINGER
        k = min(rlen, 8)
        return _linger(b, k) if need(k) else c.ptr(3)
    if lvl == 1 and opt == 74:  # SO_TXREHASH
        if rlen < 4:
            return quote(b[:rlen], force_hex=True) if need(rlen) else c.ptr(3)
        return _txrehash(c, b) if need(4) else c.ptr(3)
    if lvl == 1 and opt == 4:  # SO_ERROR: an errno by name
        if rlen < 4:
            return quote(b[:rlen], force_hex=True) if need(rlen) else c.ptr(3)
        if not need(4):
            return c.ptr(3)
        err = struct.unpack_from("<I", b)[0]
        return f"[{errno.errorcode.get(err, err) if err else 0}]"
    if lvl == 1 and opt in _INT_SO:
        if rlen >= 4:
            return f"[{struct.unpack_from('<i', b)[0]}]" if need(4) else c.ptr(3)
        return quote(b[:rlen], force_hex=True) if need(rlen) else c.ptr(3)
    if lvl == 263 and opt == 6:  # PACKET_STATISTICS: struct tpacket_stats
        k = min(rlen, 12)
        if not need(k):
            return c.ptr(3)
        vals = tuple(str(x) for x in struct.unpack_from("<3I", b.ljust(12, b"\0")))
        return "{" + ", ".join(_len_fields(b, k, ("tp_packets", "tp_drops", "tp_freeze_q_cnt"), vals)) + "}"
    if lvl == 270 and opt != 9:  # SOL_NETLINK: an int (NETLINK_LIST_MEMBERSHIPS: an array, below)
        return f"[{struct.unpack_from('<i', b)[0]}]" if need(4) else c.ptr(3)
    if rlen == 4:
        return f"[{struct.unpack_from('<i', b)[0]}]" if need(4) else c.ptr(3)
    k = min(rlen, c.opts.strsize)
    return quote_buf(b, rlen, c.opts.strsize, c.opts.xflag) if need(k) else c.ptr(3)


@syscall("getsockopt")
def _getsockopt(c: C):
    lvl = c.int(1)
    lv = c.m(4, 1)
    n = struct.unpack_from("<I", lv)[0] if isinstance(lv, (bytes, bytearray)) and len(lv) >= 4 else None
    lv0 = c.m(4, 0)
    n0 = struct.unpack_from("<I", lv0)[0] if isinstance(lv0, (bytes, bytearray)) and len(lv0) >= 4 else None
    if n is not None:
        n = n - (1 << 32) if n >> 31 else n  # socklen_t as strace prints it: an int
    if n0 is not None:
        n0 = n0 - (1 << 32) if n0 >> 31 else n0
    val = _getopt_value(c, lvl & 0xFFFFFFFF, c.uint(2), n0 if n0 is not None else 0, n) if c.ok and n is not None else c.ptr(3)
    if c.ok and n is not None:
        ln = f"[{n0} => {n}]" if n0 is not None and n0 != n else f"[{n}]"
    else:
        ln = f"[{n0}]" if n0 is not None else c.ptr(4)
    return [c.fd(0), c.xval(1, "sockopt_layers"), _optname(c, lvl, c.int(2)), val, ln]

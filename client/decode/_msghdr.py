"""struct msghdr (sendmsg, recvmsg) as strace prints it: the name, the iovec
array and the control messages (SCM_RIGHTS, SCM_CREDENTIALS, IP_TTL, ...),
from the MSGHDR fetch op's [hdr, name, iov, control] (base/_wire.py)."""

from __future__ import annotations

import functools
import socket
import struct

from tracerd._wire import FD_SLOT, Pers

from . import _table
from ._core import C, kind
from ._fmt import hexa, quote
from ._netlink_msgs import _ifindex
from ._sockaddr import sockaddr_text

# struct msghdr: (name, namelen, iov, iovlen, control, controllen, flags),
# native and compat (i386, x32) layouts; their sizes with tail padding (and
# an mmsghdr's, with msg_len) are the syscall table's [structs]
_HDR64 = struct.Struct("<QI4xQQQQi")
_HDR32 = struct.Struct("<IIIIIIi")


@functools.cache
def _sizes() -> tuple[dict, dict]:
    """({msghdr size: layout}, {mmsghdr size: its msghdr's size}) from the table."""
    t = _table.table()
    if t is None:  # no table, no layouts: the structs print as addresses
        return {}, {}
    hdr = {t.struct_size("msghdr", Pers.X86_64): _HDR64, t.struct_size("msghdr", Pers.I386): _HDR32}
    mmsg = {t.struct_size("mmsghdr", p): t.struct_size("msghdr", p) for p in (Pers.X86_64, Pers.I386)}
    return hdr, mmsg
# struct cmsghdr: (len, level, type), data aligned to the word size
_CMSG64 = struct.Struct("<Qii")
_CMSG32 = struct.Struct("<Iii")

SOL_IP, SOL_SOCKET = 0, 1
SCM_RIGHTS, SCM_CREDENTIALS = 1, 2
# cmsg types per level, as strace 6.1's scmvals and ip_cmsg_types: name, how
# the data prints, and the least data it prints at all (less: no cmsg_data)
_CMSG_TYPES = {
    SOL_SOCKET: ("SCM_???", {SCM_RIGHTS: ("SCM_RIGHTS", "fds", 4), SCM_CREDENTIALS: ("SCM_CREDENTIALS", "ucred", 12),
                             3: ("SCM_SECURITY", "str", 1), 41: ("SO_WIFI_STATUS", None, 0),
                             61: ("SO_TXTIME", None, 0), 29: ("SO_TIMESTAMP_OLD", "timeval", 1),
                             35: ("SO_TIMESTAMPNS_OLD", "timespec", 1), 37: ("SO_TIMESTAMPING_OLD", "timespec3", 1),
                             63: ("SO_TIMESTAMP_NEW", "timeval", 1), 64: ("SO_TIMESTAMPNS_NEW", "timespec", 1),
                             65: ("SO_TIMESTAMPING_NEW", "timespec3", 1), 0x36: ("SCM_TIMESTAMPING_OPT_STATS", None, 0),
                             0x3a: ("SCM_TIMESTAMPING_PKTINFO", None, 0)}),
    # include/uapi/linux/in.h
    SOL_IP: ("IP_???", {1: ("IP_TOS", "xint8", 1), 2: ("IP_TTL", "uint", 4), 6: ("IP_RECVOPTS", "xint8", 1),
                        7: ("IP_RETOPTS", "xint8", 1), 8: ("IP_PKTINFO", "pktinfo", 12), 11: ("IP_RECVERR", "sock_ee", 32),
                        20: ("IP_ORIGDSTADDR", "sockaddr", 16), 23: ("IP_CHECKSUM", "uint", 4),
                        3: ("SCM_SECURITY", "str", 1)}),
}


def _local_array(c: C, items: list[str]) -> str:
    """strace's print_local_array: at most -s elements, then `...`; all
    of them when the call is printed unabbreviated (-v)."""
    n = c.opts.strsize
    if len(items) > n and c.abbrev:
        return "[" + ", ".join(items[:n] + ["..."]) + "]"
    return "[" + ", ".join(items) + "]"


def _cmsg_data(c: C, how: str | None, data: bytes, names: list | None = None) -> str | None:
    if how == "fds":
        fds = [v for (v,) in struct.iter_unpack("<i", data[: len(data) // 4 * 4])]
        if c.abbrev:
            fds = fds[:c.opts.strsize + 1]
        if names is not None:  # named by the tracer at the stop, in the order the walk meets them
            out = [c.dec.fd_named(v, names.pop(0)) if names else c.dec.fd_text(v, c.tid) for v in fds]
            return _local_array(c, out)
        fd = c.dec.fd_text if c.dec._paths else (lambda v, tid, dirfd: str(v))
        return _local_array(c, [fd(v, c.tid, False) for v in fds])
    if how == "ucred":
        pid, uid, gid = struct.unpack_from("<iII", data)
        ids = ["-1" if v == 0xFFFFFFFF else str(v) for v in (uid, gid)]
        return f"{{pid={pid}, uid={ids[0]}, gid={ids[1]}}}"
    if how == "uint":
        return _local_array(c, [str(v) for (v,) in struct.iter_unpack("<I", data[: len(data) // 4 * 4])])
    if how == "xint8":
        return _local_array(c, [hexa(v) for v in data])
    if how == "str":
        return quote(data)
    if how in ("timeval", "timespec", "timespec3"):  # (64-bit seconds and fraction) x 1 or 3, else ???
        n = 3 if how == "timespec3" else 1
        if len(data) != 16 * n:
            return "???"
        frac = "tv_usec" if how == "timeval" else "tv_nsec"
        ts = [f"{{tv_sec={sec}, {frac}={fr}}}" for sec, fr in struct.iter_unpack("<qq", data)]
        return ts[0] if n == 1 else "[" + ", ".join(ts) + "]"
    if how == "sock_ee":  # struct sock_extended_err and the offender's address
        errno_, origin, typ, code, info, edata = struct.unpack_from("<IBBBxII", data)
        return (f"{{ee_errno={errno_}, ee_origin={origin}, ee_type={typ}, ee_code={code}, ee_info={info}, "
                f"ee_data={edata}, offender={sockaddr_text(c, data[16:32], 16)}}}")
    if how == "pktinfo":
        idx = struct.unpack_from("<i", data)[0]
        spec, addr = socket.inet_ntoa(data[4:8]), socket.inet_ntoa(data[8:12])
        return (f'{{ipi_ifindex={_ifindex(idx, c.style)}, ipi_spec_dst=inet_addr("{spec}"), '
                f'ipi_addr=inet_addr("{addr}")}}')
    if how == "sockaddr":
        return sockaddr_text(c, data[:128], min(len(data), 128))
    return None


# what the C loop reads of msg_control at most (native/tracer.h's
# TR_MSG_CONTROL_MAX), unless the call is printed unabbreviated (-v): then as
# far as the kernel takes it (net.core.optmem_max), which the data's length tells
_CONTROL_MAX = 1024


def control_text(c: C, data: bytes, controllen: int, compat: bool, addr: int = 0) -> str | None:
    """The control messages as strace's decode_msg_control walks them, or
    None (strace prints the address) when the control cannot be read whole
    (as far as the fetch reads it) or holds not even one header. A header
    whose length is below a header's ends the walk (`... /* ADDR */` when
    bytes are left), one that reaches the end of what was read ends it too
    (`...` when the control is longer than that)."""
    hdr = _CMSG32 if compat else _CMSG64
    align = 4 if compat else 8
    control_len = min(controllen, max(_CONTROL_MAX, len(data)))
    if control_len < hdr.size or len(data) < control_len:
        return None
    out = []
    off = 0
    left = control_len
    # sendmsg's/recvmsg's SCM_RIGHTS fds as the tracer named them (an FD op on the msghdr)
    names = c.mem.get((1 if c.name == "recvmsg" else 0, FD_SLOT + 1)) if c.dec._anyfd and c.name in ("sendmsg", "recvmsg") else None
    names = list(names) if isinstance(names, list) else None
    while left >= hdr.size:
        ln, level, typ = hdr.unpack_from(data, off)
        p = [f"cmsg_len={ln}", f"cmsg_level={c.fs('sockopt_levels').xval(level & 0xFFFFFFFF)}"]
        dflt, types = _CMSG_TYPES.get(level, (None, {}))
        name, how, least = types.get(typ, (None, None, 0))
        if name:
            p.append(f"cmsg_type={name}")
        elif dflt:
            p.append(f"cmsg_type={hexa(typ & 0xFFFFFFFF)} /* {dflt} */")
        else:
            p.append(f"cmsg_type={hexa(typ & 0xFFFFFFFF)}")
        n = min(ln, left)
        body = data[off + hdr.size: off + n] if n > hdr.size else b""
        d = _cmsg_data(c, how, body, names if level == 1 else None) if how and len(body) >= least else None
        if d is not None:
            p.append(f"cmsg_data={d}")
        out.append("{" + ", ".join(p) + "}")
        if n < hdr.size:
            left -= hdr.size
            break
        step = (ln + align - 1) // align * align
        if step >= left:
            left = 0
            break
        off += step
        left -= step
    if left:
        out.append(f"... /* {hexa(addr + control_len - left)} */")
    elif control_len < controllen:
        out.append("...")
    return "[" + ", ".join(out) + "]"


def msghdr_text(c: C, i: int, out: bool) -> str:
    """sendmsg's msghdr (out=False: read at entry) or recvmsg's (out=True:
    read at exit, with the header read at entry for `msg_namelen=A => B`)."""
    v = c.m(i, 1) if out else c.m(i, 0)
    text = _value_text(c, v, c.m(i, 0) if out else None, c.rval if out else None)
    return c.ptr(i) if text is None else text


def mmsghdr_text(c: C, i: int) -> str:
    """sendmmsg/recvmmsg at exit: the first `ret` messages, each
    `{msg_hdr={...}, msg_len=N}` (msg_len bounds its iovec data)."""
    v = c.m(i, 1)
    if not c.ok or not isinstance(v, list):
        return c.ptr(i)
    out = []
    for e in v:
        hsz = _sizes()[1].get(len(e[0])) if isinstance(e, list) and len(e) == 4 and isinstance(e[0], (bytes, bytearray)) else None
        if hsz is None:  # the msghdr, then msg_len
            return c.ptr(i)
        (mlen,) = struct.unpack_from("<I", e[0], hsz)
        text = _value_text(c, [bytes(e[0][:hsz]), *e[1:]], None, mlen)
        if text is None:
            return c.ptr(i)
        out.append(f"{{msg_hdr={text}, msg_len={mlen}}}")
    if len(out) < c.rval:
        out.append("...")
    return "[" + ", ".join(out) + "]"


def _value_text(c: C, v, before, total: int | None) -> str | None:
    """A MSGHDR value [hdr, name, iov, control] as strace prints the struct;
    None when it cannot be read (the caller prints the address). `before`:
    the header at entry (recvmsg); `total`: the bytes the call moved, which
    bound the iovec data shown."""
    if not isinstance(v, list) or len(v) != 4 or not isinstance(v[0], (bytes, bytearray)):
        return None
    hdr, name_v, iov_v, ctl_v = v
    layout = _sizes()[0].get(len(hdr))
    if layout is None:
        return None
    compat = layout is _HDR32
    name, namelen, iov, iovlen, ctl, ctllen, flags = layout.unpack_from(hdr)
    nl = str(namelen)
    if isinstance(before, (bytes, bytearray)) and len(before) == len(hdr):
        n0 = struct.unpack_from("<I", before, 4 if compat else 8)[0]
        if n0 != namelen:
            nl = f"{n0} => {namelen}"
    if not name:
        nm = "NULL"
    elif isinstance(name_v, (bytes, bytearray)) and namelen:
        # recvmsg: the address in the shorter of the lengths given and returned
        n = min(namelen, n0) if isinstance(before, (bytes, bytearray)) and len(before) == len(hdr) else namelen
        nm = sockaddr_text(c, bytes(name_v)[:n], n) if n >= 2 else hexa(name)  # shorter than a family: the address
    else:
        nm = hexa(name)
    if not iov:
        iv = "NULL"
    elif isinstance(iov_v, list) and _is_netlink(name_v, namelen):
        iv = _netlink_iovec(c, iov_v, iovlen, total)
    elif isinstance(iov_v, list):
        iv = c.iovec_list(iov_v, iovlen, total, iov)
    else:
        iv = hexa(iov)
    p = [f"msg_name={nm}", f"msg_namelen={nl}", f"msg_iov={iv}", f"msg_iovlen={iovlen}"]
    if ctllen:
        ct = control_text(c, bytes(ctl_v), ctllen, compat, ctl) if ctl and isinstance(ctl_v, (bytes, bytearray)) else None
        p.append(f"msg_control={ct if ct is not None else (hexa(ctl) if ctl else 'NULL')}")
    p += [f"msg_controllen={ctllen}", f"msg_flags={c.fs('msg_flags').flags(flags & 0xFFFFFFFF)}"]
    return "{" + ", ".join(p) + "}"


def _is_netlink(name_v, namelen: int) -> bool:
    """strace's rule: the iovec data of a message whose msg_name is an
    AF_NETLINK address are netlink messages."""
    return isinstance(name_v, (bytes, bytearray)) and namelen >= 2 and len(name_v) >= 2 and struct.unpack_from("<H", name_v)[0] == 16


def _netlink_iovec(c: C, v: list, count: int, total: int | None) -> str:
    """An iovec array whose elements hold netlink messages: each decoded when
    its data was read whole (the fetch reads at most -s bytes of each), else
    as bytes."""
    from . import _netlink
    from ._fmt import ptr, quote_buf

    fam = _netlink.fd_family(c, c.int(0))
    out = []
    left = total
    for n, e in enumerate(v[: max(count, 0)]):
        if not (isinstance(e, list) and len(e) == 3):
            return c.iovec_list(v, count, total)
        base, ln, data = e
        if c.abbrev and n >= c.opts.strsize:
            out.append("...")
            break
        shown = ln if left is None else min(ln, max(left, 0))
        if isinstance(data, (bytes, bytearray)) and len(data) >= shown:
            b = _netlink.decode(c, base, bytes(data), shown, fam if fam is not None else -1)
        elif isinstance(data, (bytes, bytearray)):
            b = quote_buf(bytes(data), shown, c.opts.strsize, c.opts.xflag)
        else:
            b = ptr(base)
        if left is not None:
            left -= shown
        out.append(f"{{iov_base={b}, iov_len={ln}}}")
    if len(v) < count and not (out and out[-1] == "..."):
        out.append("...")
    return "[" + ", ".join(out) + "]"


@kind("msghdr")
def _msghdr_arg(c: C, i: int, a) -> str:
    """msghdr[in] (sendmsg: read at entry) or msghdr[inout] (recvmsg: at exit)."""
    if a.dir == "in":
        return msghdr_text(c, i, False)
    if c.ok:
        return msghdr_text(c, i, True)
    before = c.m(i, 0)
    if c.exiting and c.ulong(i) and isinstance(before, (bytes, bytearray)) and len(before) in _sizes()[0]:
        # a failed recvmsg: strace shows the name length it read at entry
        off = 4 if _sizes()[0][len(before)] is _HDR32 else 8
        return f"{{msg_namelen={struct.unpack_from('<i', before, off)[0]}}}"
    return c.ptr(i)


@kind("mmsghdr")
def _mmsghdr_arg(c: C, i: int, a) -> str:
    return mmsghdr_text(c, i)

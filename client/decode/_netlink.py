"""Netlink messages as strace prints them: a sequence of `[{nlmsg_len=...,
nlmsg_type=..., nlmsg_flags=..., nlmsg_seq=..., nlmsg_pid=...}, payload]`,
the type and flag names taken from the socket's netlink family
(client/decode/netlink.toml, generated from the uapi headers), the payload
by the family's message table (_netlink_msgs.py) or in hex.

Which family: the fd's socket inode (/proc/TID/fd/N) looked up in
/proc/TID/net/netlink, as strace does, remembered per (tgid, fd); a
socket(AF_NETLINK, ..., PROTO) call seen in the trace fills the same memory,
so a descriptor whose process is gone by the time its call is decoded is
still known when its creation was traced."""

from __future__ import annotations

import errno as _errno
import os
import socket
import struct

from ._core import C, proc_pid
from ._fmt import comment, hexa, quote_buf

NLMSG_HDRLEN = 16
NLMSG_MIN_TYPE = 0x10
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_CAPPED = 0x100

NETLINK_ROUTE, NETLINK_SOCK_DIAG, NETLINK_NETFILTER = 0, 4, 12
NETLINK_KOBJECT_UEVENT, NETLINK_GENERIC, NETLINK_CRYPTO = 15, 16, 21

# family -> (type set, its default); the family's flag set by type below
_TYPES = {9: "nl_audit_types", NETLINK_CRYPTO: "nl_crypto_types", NETLINK_ROUTE: "nl_route_types",
          7: "nl_selinux_types", NETLINK_SOCK_DIAG: "nl_sock_diag_types", 6: "nl_xfrm_types"}

# xfrm and crypto: which types take the NEW/DELETE/GET flag meanings
_XFRM_FLAGS = {0x10: "new", 0x13: "new", 0x1E: "new", 0x22: "new", 0x24: "new",
               0x11: "delete", 0x14: "delete",
               0x12: "get", 0x15: "get", 0x1F: "get", 0x23: "get", 0x25: "get"}
_CRYPTO_FLAGS = {0x10: "new", 0x11: "delete", 0x14: "delete", 0x13: "get"}


# --- which netlink family an fd is -------------------------------------------------

class _Families:
    """(tgid, fd) -> (inode, protocol) for the netlink sockets seen."""

    def __init__(self):
        self.by_fd: dict = {}

    def lookup(self, c: C, fd: int) -> int | None:
        tgid = getattr(c.dec, "_tgid", 0) or c.tid
        link = None
        try:
            link = os.readlink(f"/proc/{proc_pid(c.tid)}/fd/{fd}")
        except OSError:
            pass
        if link is None:
            known = self.by_fd.get((tgid, fd))
            return known[1] if known else None
        if not link.startswith("socket:["):
            self.by_fd.pop((tgid, fd), None)
            return None
        ino = int(link[8:-1])
        known = self.by_fd.get((tgid, fd))
        if known and known[0] in (ino, None):
            return known[1]
        proto = _proc_netlink(c.tid, ino)
        if proto is not None:
            self.by_fd[(tgid, fd)] = (ino, proto)
        return proto

    def created(self, c: C, fd: int, proto: int) -> None:
        tgid = getattr(c.dec, "_tgid", 0) or c.tid
        ino = None
        try:
            link = os.readlink(f"/proc/{proc_pid(c.tid)}/fd/{fd}")
            if link.startswith("socket:["):
                ino = int(link[8:-1])
        except OSError:
            pass
        self.by_fd[(tgid, fd)] = (ino, proto)


def _proc_netlink(tid: int, ino: int) -> int | None:
    """The protocol (Eth column) of netlink socket `ino`, from the task's
    network namespace's /proc/net/netlink."""
    for path in (f"/proc/{proc_pid(tid)}/net/netlink", "/proc/net/netlink"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    p = line.split()
                    if len(p) >= 10 and p[9] == str(ino):
                        return int(p[1])
        except OSError:
            continue
    return None


def _families(c: C) -> _Families:
    dec = c.dec
    fam = getattr(dec, "_nl_families", None)
    if fam is None:
        fam = _Families()
        try:
            dec._nl_families = fam
        except AttributeError:  # a decoder without a __dict__: per call
            pass
    return fam


# An fd named at the stop (the FD op of the fd-naming plan, when the record
# carries one): its mem entry is (0, FD_SLOT + argument), its value the link
# or [link, detail, deleted], detail strace's -yy text (`NETLINK:[ROUTE:123]`)
_FD_SLOT = 16
_NL_NAMES = {"ROUTE": 0, "UNUSED": 1, "USERSOCK": 2, "FIREWALL": 3, "SOCK_DIAG": 4, "NFLOG": 5, "XFRM": 6,
             "SELINUX": 7, "ISCSI": 8, "AUDIT": 9, "FIB_LOOKUP": 10, "CONNECTOR": 11, "NETFILTER": 12,
             "IP6_FW": 13, "DNRTMSG": 14, "KOBJECT_UEVENT": 15, "GENERIC": 16, "SCSITRANSPORT": 18,
             "ECRYPTFS": 19, "RDMA": 20, "CRYPTO": 21, "SMC": 22}


def _stop_family(c: C, i: int) -> int | None:
    v = c.mem.get((0, _FD_SLOT + i)) if c.mem else None
    if not isinstance(v, list) or len(v) < 2 or not isinstance(v[1], (bytes, bytearray)):
        return None
    d = bytes(v[1]).decode(errors="replace")
    if not d.startswith("NETLINK:["):
        return None
    name = d[9:].split(":", 1)[0].rstrip("]")
    if name in _NL_NAMES:
        return _NL_NAMES[name]
    return int(name) if name.isdigit() and ":" in d[9:] else -1


def fd_family(c: C, fd: int, arg: int = 0) -> int | None:
    """The netlink protocol of `fd` (argument `arg`) in the calling process,
    None when it is not (known to be) a netlink socket, -1 when it is one
    of a protocol not known (strace decodes its headers all the same)."""
    fam = _stop_family(c, arg)
    if fam is not None:
        return fam
    return _families(c).lookup(c, fd)


def socket_created(c: C, fd: int, proto: int) -> None:
    """socket(AF_NETLINK, ..., proto) returned fd: remembered."""
    _families(c).created(c, fd, proto)


# --- generic netlink family names (nlctrl, ...) ------------------------------------

_GENL: dict[int, str] | None = None


def genl_families() -> dict[int, str]:
    """Generic netlink family id -> name, asked of the kernel once (strace's
    CTRL_CMD_GETFAMILY dump)."""
    global _GENL
    if _GENL is not None:
        return _GENL
    out: dict[int, str] = {}
    try:
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    except OSError:
        _GENL = out
        return out
    try:
        s.settimeout(1.0)
        # GENL_ID_CTRL, NLM_F_REQUEST|NLM_F_DUMP, CTRL_CMD_GETFAMILY version 1
        s.send(struct.pack("<IHHII", 20, 0x10, 0x301, 1, 0) + struct.pack("<BBH", 3, 1, 0))
        for _ in range(64):  # bounded: a dump is a few datagrams
            data = s.recv(65536)
            off, done = 0, False
            while off + NLMSG_HDRLEN <= len(data):
                ln, typ = struct.unpack_from("<IH", data, off)
                if ln < NLMSG_HDRLEN or typ in (NLMSG_DONE, NLMSG_ERROR):
                    done = True
                    break
                fid, name = None, None
                a = off + NLMSG_HDRLEN + 4
                end = off + ln
                while a + 4 <= end:
                    alen, atype = struct.unpack_from("<HH", data, a)
                    if alen < 4:
                        break
                    if atype == 1:  # CTRL_ATTR_FAMILY_ID
                        fid = struct.unpack_from("<H", data, a + 4)[0]
                    elif atype == 2:  # CTRL_ATTR_FAMILY_NAME
                        name = data[a + 4 : a + alen].split(b"\0", 1)[0].decode(errors="replace")
                    a += (alen + 3) & ~3
                if fid is not None and name:
                    out[fid] = name
                off += (ln + 3) & ~3
            if done:
                break
    except OSError:
        pass
    finally:
        s.close()
    _GENL = out
    return out


# --- the tracee's buffer --------------------------------------------------------------

class Mem:
    """`length` bytes at `addr` of which `data` (from the start) could be read."""

    __slots__ = ("addr", "data", "length")

    def __init__(self, addr: int, data: bytes, length: int):
        self.addr = addr
        self.data = data
        self.length = length

    def get(self, off: int, n: int) -> bytes | None:
        if off < 0 or n < 0 or off + n > len(self.data):
            return None
        return self.data[off : off + n]

    def at(self, off: int) -> str:
        return hexa(self.addr + off)


class NL:
    """What the printers of one buffer share: the call, the memory, the family."""

    __slots__ = ("c", "mem", "family")

    def __init__(self, c: C, mem: Mem, family: int | None):
        self.c = c
        self.mem = mem
        self.family = family

    @property
    def strsize(self) -> int:
        return self.c.opts.strsize

    def hexstr(self, off: int, n: int) -> str:
        """strace's printstr_ex(..., QUOTE_FORCE_HEX): at most -s bytes, the
        address when they cannot be read."""
        if n <= 0:
            return '""'
        take = min(n, self.strsize)
        b = self.mem.get(off, take)
        if b is None:
            return self.mem.at(off)
        return quote_buf(bytes(b), n, self.strsize, self.c.opts.xflag, True)

    def style(self) -> str:
        return self.c.opts.xstyle


# --- the header --------------------------------------------------------------------------

def _flags_set(family: int | None, typ: int) -> str | None:
    if typ < NLMSG_MIN_TYPE:
        return "nl_ack_flags" if typ == NLMSG_ERROR else None
    if family == NETLINK_ROUTE:
        if typ == 0x31:  # RTM_DELACTION takes the GET meanings (NLM_F_ROOT)
            return "nl_get_flags"
        return ("nl_new_flags", "nl_delete_flags", "nl_get_flags", None)[typ & 3]
    if family == NETLINK_SOCK_DIAG:
        return "nl_get_flags"
    if family == 6:
        k = _XFRM_FLAGS.get(typ)
        return f"nl_{k}_flags" if k else None
    if family == NETLINK_CRYPTO:
        k = _CRYPTO_FLAGS.get(typ)
        return f"nl_{k}_flags" if k else None
    if family == NETLINK_NETFILTER:
        return _nf_flags(typ)
    return None


def _nf_flags(typ: int) -> str | None:
    sub, t = typ >> 8, typ & 0xFF
    new, get, dele = "nl_new_flags", "nl_get_flags", "nl_delete_flags"
    table = {
        1: {0: new, 1: get, 2: dele, 3: get, 4: get, 5: get, 6: get, 7: get},  # ctnetlink
        2: {0: new, 1: get, 2: dele, 3: get},  # ctnetlink_exp
        7: {0: new, 1: get, 2: get, 3: dele},  # acct
        8: {0: new, 1: get, 2: dele},  # cttimeout
        9: {0: new, 1: get, 2: dele},  # cthelper
        10: {0: new, 3: new, 6: new, 9: new, 12: new, 15: new, 18: new, 22: new,
             1: get, 4: get, 7: get, 10: get, 13: get, 16: get, 19: get, 21: get, 23: get,
             2: dele, 5: dele, 8: dele, 11: dele, 14: dele, 20: dele, 24: dele},  # nftables
        11: {0: get},  # nft_compat
        12: {0: get},  # hook
    }
    return table.get(sub, {}).get(t)


def _type_text(nl: NL, typ: int) -> str:
    c, fam = nl.c, nl.family
    style = nl.style()
    if typ < NLMSG_MIN_TYPE or fam is None:
        return c.fs("nl_types").xval(typ, style)
    if fam == NETLINK_GENERIC:
        name = genl_families().get(typ)
        raw = hexa(typ)
        if style == "raw":
            return raw
        if name:
            return raw + comment(name) if style == "verbose" else name
        return raw + comment("GENERIC_FAMILY_???")
    if fam == NETLINK_NETFILTER:
        t = c.fs("nl_netfilter_types").lookup(typ)
        if t:
            return c.fs("nl_netfilter_types").xval(typ, style)
        sub = typ >> 8
        return f"{c.fs('nl_netfilter_subsys').xval(sub, style)}<<8|{_nf_type(c, sub, typ & 0xFF, style)}"
    setname = _TYPES.get(fam)
    if setname:
        return c.fs(setname).xval(typ, style)
    return c.fs("nl_types").xval(typ, style)


# netfilter subsystem -> the set of its message types (netlink.toml)
_NF_TYPES = {1: "nf_ctnetlink_types", 2: "nf_ctnetlink_exp_types", 3: "nf_queue_types", 4: "nf_ulog_types",
             5: "nf_osf_types", 6: "nf_ipset_types", 7: "nf_acct_types", 8: "nf_cttimeout_types",
             9: "nf_cthelper_types", 10: "nf_nftables_types", 11: "nf_nft_compat_types", 12: "nf_hook_types"}


def _nf_type(c: C, sub: int, t: int, style: str) -> str:
    setname = _NF_TYPES.get(sub)
    return c.fs(setname).xval(t, style) if setname else hexa(t)


def header_text(nl: NL, h: tuple) -> str:
    ln, typ, flags, seq, pid = h
    c = nl.c
    style = nl.style()
    fs = c.fs("nl_flags")
    extra = _flags_set(nl.family, typ)
    ftext = _flags2(c, flags, fs, c.fs(extra) if extra else None, style)
    t = c.dec.pidns  # a process id: with --pidns-translation, ours beside it
    pid_s = f"{pid}{t.comment(c.tid, pid)}" if t is not None else str(pid)
    return (f"{{nlmsg_len={ln}, nlmsg_type={_type_text(nl, typ)}, nlmsg_flags={ftext}, "
            f"nlmsg_seq={seq}, nlmsg_pid={pid_s}}}")


def _flags2(c: C, v: int, a, b, style: str) -> str:
    """strace's printflags_ex with two tables: the first's bits, then the second's."""
    if style == "raw":
        return hexa(v)
    if v == 0:
        return "0"
    parts, left = [], v
    for fs in (a, b):
        if fs is None:
            continue
        for n, bit in fs.items:
            if bit and left & bit == bit:
                parts.append(n)
                left &= ~bit
    if not parts:
        text = hexa(v) + comment("NLM_F_???")
        return text if style != "verbose" else text
    if left:
        parts.append(hexa(left))
    text = "|".join(parts)
    return hexa(v) + comment(text) if style == "verbose" else text


# --- messages ----------------------------------------------------------------------------

def _hdr(nl: NL, off: int) -> tuple | None:
    b = nl.mem.get(off, NLMSG_HDRLEN)
    return struct.unpack("<IHHIi", b) if b is not None else None


def decode(c: C, addr: int, data: bytes, length: int, family: int | None) -> str:
    """The netlink messages in `length` bytes at `addr` (`data`: what was read)."""
    nl = NL(c, Mem(addr, data, length), family)
    if family == NETLINK_KOBJECT_UEVENT:
        return _uevent(nl, length)
    return messages(nl, 0, length)


def messages(nl: NL, off: int, length: int) -> str:
    out: list[str] = []
    is_array = False
    elt = 0
    while True:
        # fetch_nlmsghdr
        if length < NLMSG_HDRLEN:
            out.append(nl.hexstr(off, length))
            break
        h = _hdr(nl, off)
        if h is None:
            out.append(f"... /* {nl.mem.at(off)} */" if is_array else nl.mem.at(off))
            break
        if nl.c.abbrev and elt == nl.strsize:
            out.append("...")
            break
        mlen = (h[0] + 3) & ~3
        next_len = 0
        if h[0] >= NLMSG_HDRLEN:
            next_len = length - mlen if length >= mlen else 0
        if not is_array and next_len:
            is_array = True
        out.append(_with_payload(nl, h, off, length))
        if not next_len:
            break
        off += mlen
        length = next_len
        elt += 1
    text = ", ".join(out)
    return f"[{text}]" if is_array else text


def _with_payload(nl: NL, h: tuple, off: int, length: int) -> str:
    n = min(h[0], length)
    head = header_text(nl, h)
    if n <= NLMSG_HDRLEN:
        return head
    return f"[{head}, {_payload(nl, h, off + NLMSG_HDRLEN, n - NLMSG_HDRLEN)}]"


def _payload(nl: NL, h: tuple, off: int, n: int) -> str:
    typ = h[1]
    if typ == NLMSG_ERROR:
        return _nlmsgerr(nl, off, n, bool(h[2] & NLM_F_CAPPED))
    if typ >= NLMSG_MIN_TYPE or typ == NLMSG_DONE:
        from . import _netlink_msgs

        text = _netlink_msgs.payload(nl, h, off, n)
        if text is not None:
            return text
    if typ == NLMSG_DONE and n == 4:
        b = nl.mem.get(off, 4)
        return str(struct.unpack("<i", b)[0]) if b is not None else nl.mem.at(off)
    return nl.hexstr(off, n)


def _nlmsgerr(nl: NL, off: int, n: int, capped: bool) -> str:
    if n < 20:
        return nl.hexstr(off, n)
    b = nl.mem.get(off, 20)
    if b is None:
        return nl.mem.at(off)
    err = struct.unpack_from("<i", b)[0]
    inner = struct.unpack_from("<IHHIi", b, 4)
    off += 4
    n -= 4
    mlen = max(NLMSG_HDRLEN, inner[0])
    payload = min(n, NLMSG_HDRLEN if capped else mlen)
    etext = f"-{_errno.errorcode[-err]}" if err < 0 and -err in _errno.errorcode else str(err)
    msg = _with_payload(nl, inner, off, payload)
    text = f"{{error={etext}, msg={msg}}}"
    if n > payload:
        from . import _netlink_msgs

        return f"[{text}, {_netlink_msgs.attrs(nl, off + payload, n - payload, 'nlmsgerr_attrs', _netlink_msgs.NLMSGERR_ATTRS)}]"
    return text


# --- kobject uevent ----------------------------------------------------------------------

def _uevent(nl: NL, length: int) -> str:
    size = 40  # struct udev_monitor_netlink_header
    b = nl.mem.get(0, size) if length >= size else None
    if b is not None and b[:8] == b"libudev\0" and struct.unpack_from(">I", b, 8)[0] == 0xFEEDCAFE:
        (magic, hsize, poff, plen, sh, dh, bh, bl) = struct.unpack_from(">IIIIIIII", b, 8)
        hsize, poff, plen = struct.unpack_from("<III", b, 12)
        text = (f'{{prefix="libudev", magic=htonl({magic:#x}), header_size={hsize}, properties_off={poff}, '
                f"properties_len={plen}, filter_subsystem_hash=htonl({sh:#x}), filter_devtype_hash=htonl({dh:#x}), "
                f"filter_tag_bloom_hi=htonl({bh:#x}), filter_tag_bloom_lo=htonl({bl:#x})}}")
        if length > size:
            rest = nl.mem.get(size, min(length - size, nl.strsize))
            more = quote_buf(bytes(rest), length - size, nl.strsize, nl.c.opts.xflag) if rest is not None else nl.mem.at(size)
            return f"[{text}, {more}]"
        return text
    take = nl.mem.get(0, min(length, nl.strsize))
    if take is None:
        return nl.mem.at(0)
    return quote_buf(bytes(take), length, nl.strsize, nl.c.opts.xflag)

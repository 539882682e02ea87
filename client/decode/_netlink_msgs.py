"""Netlink payloads by family: attribute lists (struct nlattr) and the
fixed headers the families put first (rtgenmsg, ifinfomsg, ...), as strace
prints them. The attribute printers are data: {attribute type: printer}."""

from __future__ import annotations

import struct

from ._fmt import hexa, quote_buf

NLA_HDRLEN = 4
NLA_F_NESTED, NLA_F_NET_BYTEORDER = 0x8000, 0x4000


def _int(fmt: str, size: int):
    def pr(nl, off: int, n: int) -> str | None:
        if n != size:
            return None
        b = nl.mem.get(off, size)
        if b is None:
            return nl.mem.at(off)
        return str(struct.unpack("<" + fmt, b)[0])

    return pr


def _x(fmt: str, size: int):
    def pr(nl, off: int, n: int) -> str | None:
        if n != size:
            return None
        b = nl.mem.get(off, size)
        if b is None:
            return nl.mem.at(off)
        return hexa(struct.unpack("<" + fmt, b)[0])

    return pr


u8, u16, u32, u64 = _int("B", 1), _int("H", 2), _int("I", 4), _int("Q", 8)
s8, s16, s32, s64 = _int("b", 1), _int("h", 2), _int("i", 4), _int("q", 8)
x32 = _x("I", 4)


def nla_str(nl, off: int, n: int) -> str:
    """A NUL-terminated string attribute (the NUL not shown)."""
    take = min(n, nl.strsize + 1)
    b = nl.mem.get(off, take)
    if b is None:
        return nl.mem.at(off)
    b = bytes(b)
    if b"\0" in b:
        s = b.split(b"\0", 1)[0]
        return quote_buf(s, len(s), nl.strsize, nl.c.opts.xflag)
    return quote_buf(b, n, nl.strsize, nl.c.opts.xflag) if n > nl.strsize else quote_buf(b, n, nl.strsize, nl.c.opts.xflag) + "..."


NLMSGERR_ATTRS = {1: nla_str, 2: u32}


def _attr_head(nl, ln: int, typ: int, setname: str | None) -> str:
    parts = []
    if typ & NLA_F_NESTED:
        parts.append("NLA_F_NESTED")
    if typ & NLA_F_NET_BYTEORDER:
        parts.append("NLA_F_NET_BYTEORDER")
    t = typ & ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER)
    parts.append(nl.c.fs(setname).xval(t, nl.style()) if setname else hexa(t))
    return f"{{nla_len={ln}, nla_type={'|'.join(parts)}}}"


def attrs(nl, off: int, n: int, setname: str | None, printers: dict | None) -> str:
    """A sequence of netlink attributes in n bytes at off."""
    out: list[str] = []
    is_array = False
    elt = 0
    while True:
        if n < NLA_HDRLEN:
            out.append(nl.hexstr(off, n))
            break
        b = nl.mem.get(off, NLA_HDRLEN)
        if b is None:
            out.append(f"... /* {nl.mem.at(off)} */" if is_array else nl.mem.at(off))
            break
        if nl.c.abbrev and elt == nl.strsize:
            out.append("...")
            break
        ln, typ = struct.unpack("<HH", b)
        alen = (ln + 3) & ~3
        next_n = 0
        if ln >= NLA_HDRLEN:
            next_n = n - alen if n >= alen else 0
        if not is_array and next_n:
            is_array = True
        dl = min(ln, n)
        head = _attr_head(nl, ln, typ, setname)
        if dl > NLA_HDRLEN:
            pr = (printers or {}).get(typ & ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER))
            text = pr(nl, off + NLA_HDRLEN, dl - NLA_HDRLEN) if pr else None
            if text is None:
                text = nl.hexstr(off + NLA_HDRLEN, dl - NLA_HDRLEN)
            out.append(f"[{head}, {text}]")
        else:
            out.append(head)
        if not next_n:
            break
        off += alen
        n = next_n
        elt += 1
    text = ", ".join(out)
    return f"[{text}]" if is_array else text


def payload(nl, h: tuple, off: int, n: int) -> str | None:
    """The family's decoding of a message's payload, None: printed in hex."""
    fn = FAMILIES.get(nl.family)
    return fn(nl, h, off, n) if fn else None


def _selinux(nl, h, off, n):
    typ = h[1]
    if typ in (0x10, 0x11) and n >= 4:  # SELNL_MSG_SETENFORCE {val}, SELNL_MSG_POLICYLOAD {seqno}
        b = nl.mem.get(off, 4)
        if b is None:
            return nl.mem.at(off)
        v = struct.unpack("<i" if typ == 0x10 else "<I", b)[0]
        return f"{{{'val' if typ == 0x10 else 'seqno'}={v}}}"
    return None


FAMILIES = {7: _selinux}

"""Socket addresses by family, as strace's print_sockaddr prints them, under
each -X style: inet and inet6 (ports, addresses and flow labels in network
byte order: their bytes under -X raw, both under -X verbose), netlink,
packet (sockaddr_ll), IPX, X.25 and AX.25. The newer families are in
`_sockaddr_more`.

Each printer takes (c, b, n): b is the address zero-padded past its length
n (as strace reads it), and returns the fields after sa_family.
"""

from __future__ import annotations

import socket
import struct

from ._core import C
from ._fmt import quote
from ._netlink_msgs import _ifindex


def val0x(v: int, width: int) -> str:
    """C's `%#0*x` with width twice the field's size: 0 prints as zeros."""
    return "0" * width if v == 0 else f"{v:#0{width}x}"


def cstr_field(b: bytes) -> str:
    """A char array printed up to its NUL; `...` when the last byte is not one."""
    if not b:
        return '""'
    k = b[:-1].find(b"\0")
    if k >= 0:
        return quote(b[:k])
    return quote(b[:-1]) + ("" if b[-1] == 0 else "...")


def _wrapped(c: C, raw: bytes, text: str) -> str:
    """A network-order value: its bytes (-X raw), `text` (abbrev) or both."""
    if c.style == "raw":
        return quote(raw, force_hex=True)
    if c.style == "verbose":
        return quote(raw, force_hex=True) + f" /* {text} */"
    return text


def port(c: C, name: str, b: bytes, off: int) -> str:
    return f"{name}=" + _wrapped(c, b[off:off + 2], f"htons({struct.unpack_from('>H', b, off)[0]})")


def inet(c: C, b: bytes, n: int) -> str:
    a = b[4:8]
    addr = f'inet_addr("{socket.inet_ntop(socket.AF_INET, a)}")'
    return port(c, "sin_port", b, 2) + ", sin_addr=" + _wrapped(c, a, addr)


def inet6(c: C, b: bytes, n: int) -> str:
    a = b[8:24]
    text = socket.inet_ntop(socket.AF_INET6, a)
    flow = "sin6_flowinfo=" + _wrapped(c, b[4:8], f"htonl({struct.unpack_from('>I', b, 4)[0]})")
    if c.style == "abbrev":
        addr = f'inet_pton(AF_INET6, "{text}", &sin6_addr)'
    else:
        addr = "sin6_addr=" + _wrapped(c, a, f'inet_pton(AF_INET6, "{text}")')
    out = f"{port(c, 'sin6_port', b, 2)}, {flow}, {addr}"
    if n <= 24:
        return out
    scope = struct.unpack_from("<I", b, 24)[0]
    if (a[0] == 0xFE and a[1] & 0xC0 == 0x80) or (a[0] == 0xFF and a[1] & 0x0F == 2):  # link-local
        return out + f", sin6_scope_id={_ifindex(scope, c.style)}"
    return out + f", sin6_scope_id={scope}"


def netlink(c: C, b: bytes, n: int) -> str:
    pad, pid, groups = struct.unpack_from("<HiI", b, 2)
    t = c.dec.pidns
    pidtext = str(pid) + ("" if t is None else t.comment(c.tid, pid))
    return (f"nl_pad={pad:#x}, " if pad else "") + f"nl_pid={pidtext}, nl_groups={val0x(groups, 8)}"


def packet(c: C, b: bytes, n: int) -> str:
    proto = struct.unpack_from(">H", b, 2)[0]
    ifindex, hatype, pkttype, halen = struct.unpack_from("<IHBB", b, 4)
    out = ["sll_protocol=" + _wrapped(c, b[2:4], f"htons({c.fs('ethernet_protocols').xval(proto)})"),
           f"sll_ifindex={_ifindex(ifindex, c.style)}",
           f"sll_hatype={c.fs('arp_hardware_types').xval(hatype, c.style)}",
           f"sll_pkttype={c.fs('af_packet_types').xval(pkttype, c.style)}", f"sll_halen={halen}"]
    if halen:
        room = n - 12
        items = []
        for i in range(halen):
            if i >= room:
                items.append("...")
                break
            items.append(val0x(b[12 + i], 2))
        out.append("sll_addr=[" + ", ".join(items) + "]")
    return ", ".join(out)


def ipx(c: C, b: bytes, n: int) -> str:
    net = struct.unpack_from(">I", b, 4)[0]
    node = ", ".join(val0x(x, 2) for x in b[8:14])
    return (f"{port(c, 'sipx_port', b, 2)}, sipx_network=htonl({net:#x}), sipx_node=[{node}], "
            f"sipx_type={val0x(b[14], 2)}" + (f", sipx_zero={b[15]:#x}" if b[15] else ""))


def x25(c: C, b: bytes, n: int) -> str:
    return "sx25_addr={x25_addr=" + cstr_field(b[2:18]) + "}"


def _ax25_style(a: bytes, style: str) -> str:
    """How much of an AX.25 call sign prints: its bytes alone when it holds
    unprintable characters, both when it is not a sane call, else -X's."""
    out = ""
    space = char = False
    for x in a[:6]:
        if x & 1:
            out = "verbose"
        ch = x >> 1
        if ch == 0x20:
            space = True
        else:
            char = True
        if not (0x30 <= ch <= 0x39 or 0x41 <= ch <= 0x5A or ch == 0x20) or (ch != 0x20 and space):
            out = "verbose"
        if ch < 0x20 or ch > 0x7E or ch in (0x2A, 0x2F):
            return "raw"
    if a[6] & ~0x1E or (not char and a[6]):
        out = "verbose"
    return out or style


def _ax25_name(a: bytes) -> str:
    end = 6
    while end and (a[end - 1] >> 1) == 0x20:
        end -= 1
    text = "".join(chr(x >> 1) for x in a[:end]) + f"-{(a[6] >> 1) & 0xF}"
    return "*" if text.startswith("-0") else text


def ax25_addr(a: bytes, style: str) -> str:
    s = _ax25_style(a, style)
    raw = "{ax25_call=" + quote(a, force_hex=True) + "}"
    if s == "raw":
        return raw
    return raw + f" /* {_ax25_name(a)} */" if s == "verbose" else _ax25_name(a)


def ax25(c: C, b: bytes, n: int) -> str:
    ndigis = struct.unpack_from("<i", b, 12)[0]
    head = f"sax25_call={ax25_addr(b[2:9], c.style)}, sax25_ndigis={ndigis}"
    if not ndigis and n <= 16:
        return head
    out = ["fsa_ax25={" + head + "}"]
    has = min(max(n - 16, 0) // 7, 8)
    want = min(max(ndigis, 0), 8)
    if want:
        items = [ax25_addr(b[16 + 7 * i:23 + 7 * i], c.style) for i in range(min(has, want))]
        if want > has:
            items.append("...")
        out.append("fsa_digipeater=[" + ", ".join(items) + "]")
    if n > has * 7 + 16:
        out.append("...")
    return ", ".join(out)

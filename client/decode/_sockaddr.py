"""Socket addresses (in, in6, un, nl) as strace prints them."""

from __future__ import annotations

import socket
import struct

from ._core import C
from ._fmt import hexa, quote


def sockaddr_text(c: C, b: bytes, ln: int | None = None) -> str:
    if len(b) < 2:
        return "{sa_family=" + ("AF_UNSPEC" if not b else hexa(b[0])) + "}"
    fam = struct.unpack_from("<H", b)[0]
    fname = c.fs("addrfams").xval(fam)
    if fam == socket.AF_INET and len(b) >= 16:  # sizeof(struct sockaddr_in), or sa_data
        port = struct.unpack_from(">H", b, 2)[0]
        addr = socket.inet_ntop(socket.AF_INET, b[4:8])
        return f'{{sa_family=AF_INET, sin_port=htons({port}), sin_addr=inet_addr("{addr}")}}'
    if fam == socket.AF_INET6 and len(b) >= 24:
        port, flow = struct.unpack_from(">HI", b, 2)
        addr = socket.inet_ntop(socket.AF_INET6, b[8:24])
        text = (f'{{sa_family=AF_INET6, sin6_port=htons({port}), sin6_flowinfo=htonl({flow}), '
                f'inet_pton(AF_INET6, "{addr}", &sin6_addr)')
        if len(b) < 28:  # an RFC 2133 sockaddr_in6, without the scope
            return text + "}"
        scope = struct.unpack_from("<I", b, 24)[0]
        a = b[8:24]
        if scope and ((a[0] == 0xFE and a[1] & 0xC0 == 0x80) or (a[0] == 0xFF and a[1] & 0x0F == 2)):
            try:  # link-local: the interface, as strace names it
                return text + f', sin6_scope_id=if_nametoindex("{socket.if_indextoname(scope)}")}}'
            except OSError:
                pass
        return text + f", sin6_scope_id={scope}}}"
    if fam == socket.AF_UNIX:
        path = b[2:]
        if not path:
            return "{sa_family=AF_UNIX}"
        if path[0] == 0:
            return f"{{sa_family=AF_UNIX, sun_path=@{quote(path[1:108])}}}"
        path = path[:108]  # sizeof(sun_path)
        name = path.split(b"\0", 1)[0]
        more = "..." if ln is not None and len(b) < min(ln, 110) and b"\0" not in path else ""  # fetched short of addrlen
        return f"{{sa_family=AF_UNIX, sun_path={quote(name)}{more}}}"
    if fam == socket.AF_NETLINK and len(b) >= 12:
        pid, groups = struct.unpack_from("<iI", b, 4)
        return f"{{sa_family=AF_NETLINK, nl_pid={pid}, nl_groups={groups:08x}}}"
    return f"{{sa_family={fname}, sa_data={quote(b[2:])}}}"


def _sockaddr_in(c: C, i: int, ln: int) -> str:
    if c.ulong(i) == 0:
        return "NULL"
    v = c.m(i, 0)
    if not isinstance(v, (bytes, bytearray)) or len(v) < min(ln, 128):
        return c.ptr(i)  # strace reads the address whole, or prints where it is
    return sockaddr_text(c, bytes(v)[:ln], ln)


def _socklen(v) -> int | None:
    return struct.unpack_from("<i", v)[0] if isinstance(v, (bytes, bytearray)) and len(v) >= 4 else None


def _sockaddr_out(c: C, i: int, li: int) -> tuple[str, str]:
    """(address, [len]) of accept/getsockname/recvfrom: filled at exit.
    strace's rule: the length is read at entry (`[110]`, its address when
    unreadable, NULL); a failed call shows the address and that length; a
    successful one the address decoded in the shorter of the two lengths
    and `[in => out]` when they differ."""
    if c.ulong(li) == 0:
        return c.ptr(i), "NULL"
    n0 = _socklen(c.m(li, 0))
    if n0 is None:
        return c.ptr(i), c.ptr(li)
    if not c.ok:
        return c.ptr(i), f"[{n0}]"
    n = _socklen(c.m(li, 1))
    if n is None:
        return c.ptr(i), f"[{n0}]"
    lentext = f"[{n0} => {n}]" if n0 != n else f"[{n}]"
    if c.ulong(i) == 0:
        return "NULL", lentext
    v = c.m(i, 1)
    want = max(min(n0, n), 0)
    if not isinstance(v, (bytes, bytearray)) or len(v) < min(want, 128):
        return c.ptr(i), lentext  # unreadable (strace reads the shorter length)
    return sockaddr_text(c, bytes(v)[:want]), lentext

"""Socket addresses as strace prints them: the family, then its fields by
family (AF_UNIX here, the others in _sockaddr_fam and _sockaddr_more) or
sa_data when the length is shorter than the family's struct."""

from __future__ import annotations

import socket
import struct

from ._core import C
from ._fmt import hexa, quote


def _printers() -> dict:
    from . import _sockaddr_fam as f, _sockaddr_more as m

    # family -> (printer, the least length it prints from; shorter: sa_data)
    return {socket.AF_INET: (f.inet, 16), 3: (f.ax25, 16), 4: (f.ipx, 16), 9: (f.x25, 18),
            socket.AF_INET6: (f.inet6, 24), socket.AF_NETLINK: (f.netlink, 12), 17: (f.packet, 20),
            33: (m.rxrpc, 36), 36: (m.ieee802154, 20), 38: (m.alg, 25), 39: (m.nfc, 16), 40: (m.vsock, 16),
            42: (m.qrtr, 12), 44: (m.xdp, 16), 45: (m.mctp, 12)}


_PRINTERS: dict = {}


def sockaddr_text(c: C, b: bytes, ln: int | None = None) -> str:
    """An address of len(b) bytes (`ln`: the length the call was given, when
    more than was read), as strace's print_sockaddr."""
    if len(b) < 2:
        return "{sa_family=" + ("AF_UNSPEC" if not b else hexa(b[0])) + "}"
    fam = struct.unpack_from("<H", b)[0]
    fname = c.fs("addrfams").xval(fam, c.style)
    if fam == socket.AF_UNIX:
        path = b[2:]
        if not path:
            return f"{{sa_family={fname}}}"
        if path[0] == 0:
            return f"{{sa_family={fname}, sun_path=@{quote(path[1:108])}}}"
        path = path[:108]  # sizeof(sun_path)
        name = path.split(b"\0", 1)[0]
        more = "..." if ln is not None and len(b) < min(ln, 110) and b"\0" not in path else ""  # fetched short of addrlen
        return f"{{sa_family={fname}, sun_path={quote(name)}{more}}}"
    n = len(b)
    if n == 2:
        return f"{{sa_family={fname}}}"
    if not _PRINTERS:
        _PRINTERS.update(_printers())
    pr = _PRINTERS.get(fam)
    if pr is not None and n >= pr[1]:
        body = pr[0](c, b.ljust(130, b"\0"), n)
        return f"{{sa_family={fname}, {body}}}"
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

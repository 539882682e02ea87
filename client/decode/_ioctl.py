"""ioctl: request names (tty, socket, fs), _IOC() for unknown ones, termios
and winsize for the tty requests."""

from __future__ import annotations

import struct

from ._core import C, syscall, struct as register_struct
from ._fmt import comment, hexa


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
    if req == 0x40049409:  # FICLONE: the source fd
        return out + [c.fd(2)]
    if req in (0x5410, 0x540F, 0x541B, 0x5421, 0x5429):  # pointers to an int
        v = c.m(2)
        if isinstance(v, (bytes, bytearray)) and len(v) >= 4 and (req not in (0x540F, 0x541B, 0x5429) or c.ok):
            return out + [f"[{struct.unpack_from('<i', v)[0]}]"]
        return out + [c.ptr(2)]
    return out + [c.hex(2)]

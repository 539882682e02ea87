"""ioctl: request names (tty, socket, fs), _IOC() for unknown ones, termios
and winsize for the tty requests."""

from __future__ import annotations

import struct

from ._core import C, syscall, struct as register_struct
from ._fmt import comment, hexa, quote_buf


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


def _name(c: C, v: int) -> str | None:
    """The request's name: the hand-kept set first (strace's choice where
    two names share a value), then every uapi _IO* define (ioctls.toml)."""
    return c.fs("ioctl_cmds").lookup(v) or c.fs("ioctl_names").lookup(v)


def ioctl_cmd(c: C, v: int) -> str:
    if c.style == "raw":
        return hexa(v)
    n = _name(c, v)
    if n:
        return hexa(v) + comment(n) if c.style == "verbose" else n
    d, size, typ, nr = v >> 30, (v >> 16) & 0x3FFF, (v >> 8) & 0xFF, v & 0xFF
    text = f"_IOC({_IOC_DIR[d]}, {hexa(typ)}, {hexa(nr)}, {hexa(size)})"
    return hexa(v) + comment(text) if c.style == "verbose" else text


# How the third argument of a request is printed, by request name: data, as
# strace's per-family ioctl decoders print them. A kind is
#   none       no third argument at all
#   uval       the value itself, unsigned decimal
#   in:FMT     a pointer to one FMT read at entry:  [5]
#   out:FMT    a pointer the call fills, read at exit (its address when the
#              call failed):  [4096]
#   in:FMT*2   a pointer to two of them:  [0, 4096]
# FMT is a struct module code: i int, I unsigned, H unsigned short, q/Q
# (signed/unsigned) 64 bits, l/L long. A request absent from this table is
# printed as strace prints what it does not decode: the argument in hex.
IOCTL_ARGS = {
    # block devices (linux/fs.h)
    "BLKRASET": "uval", "BLKFRASET": "uval",
    "BLKSECTGET": "out:H", "BLKROTATIONAL": "out:H",
    "BLKROGET": "out:i", "BLKBSZGET": "out:i", "BLKSSZGET": "out:i", "BLKALIGNOFF": "out:i",
    "BLKROSET": "in:i", "BLKBSZSET": "in:i",
    "BLKPBSZGET": "out:I", "BLKIOMIN": "out:I", "BLKIOOPT": "out:I", "BLKDISCARDZEROES": "out:I",
    "BLKGETZONESZ": "out:I", "BLKGETNRZONES": "out:I",
    "BLKRAGET": "out:l", "BLKFRAGET": "out:l", "BLKGETSIZE": "out:L",
    "BLKGETSIZE64": "out:Q", "BLKGETDISKSEQ": "out:Q",
    "BLKDISCARD": "in:Q*2", "BLKSECDISCARD": "in:Q*2", "BLKZEROOUT": "in:Q*2",
    "BLKRRPART": "none", "BLKFLSBUF": "none", "BLKTRACESTART": "none", "BLKTRACESTOP": "none",
    "BLKTRACETEARDOWN": "none",
    # terminals and files (asm-generic/ioctls.h)
    "TIOCGPTN": "out:I", "TIOCSPTLCK": "in:i", "TIOCGPTLCK": "out:i", "TIOCGPKT": "out:i",
    "TIOCGEXCL": "out:i", "TIOCGDEV": "out:I",
    "FIOCLEX": "none", "FIONCLEX": "none", "TIOCNOTTY": "none", "TIOCEXCL": "none", "TIOCNXCL": "none",
    "TIOCSPGRP": "in:i", "TIOCGPGRP": "out:i", "FIONREAD": "out:i", "FIONBIO": "in:i", "TIOCGSID": "out:i",
    "FIOASYNC": "in:i", "FIOQSIZE": "out:q",
    # filesystems (linux/fs.h)
    "FIFREEZE": "none", "FITHAW": "none", "FS_IOC_GETFLAGS": "out:l", "FS_IOC_SETFLAGS": "in:l",
    "FS_IOC32_GETFLAGS": "out:i", "FS_IOC32_SETFLAGS": "in:i",
    # watchdogs (linux/watchdog.h)
    "WDIOC_GETSTATUS": "out:i", "WDIOC_GETBOOTSTATUS": "out:i", "WDIOC_GETTEMP": "out:i",
    "WDIOC_GETTIMEOUT": "out:i", "WDIOC_GETPRETIMEOUT": "out:i", "WDIOC_GETTIMELEFT": "out:i",
    "WDIOC_SETTIMEOUT": "in:i", "WDIOC_SETPRETIMEOUT": "in:i", "WDIOC_KEEPALIVE": "none",
    # the random device (linux/random.h)
    "RNDGETENTCNT": "out:i", "RNDADDTOENTCNT": "in:i", "RNDZAPENTCNT": "none", "RNDCLEARPOOL": "none",
    "RNDRESEEDCRNG": "none", "RNDADDENTROPY": "rand_pool_info",
    # namespaces (linux/nsfs.h)
    "NS_GET_USERNS": "none", "NS_GET_PARENT": "none", "NS_GET_NSTYPE": "none", "NS_GET_OWNER_UID": "out:I",
    # inotify (linux/inotify.h): the next watch descriptor, a value
    "INOTIFY_IOC_SETNEXTWD": "ival",
    # real-time clocks (linux/rtc.h)
    "RTC_AIE_ON": "none", "RTC_AIE_OFF": "none", "RTC_UIE_ON": "none", "RTC_UIE_OFF": "none",
    "RTC_PIE_ON": "none", "RTC_PIE_OFF": "none", "RTC_WIE_ON": "none", "RTC_WIE_OFF": "none",
    "RTC_IRQP_READ": "out:L", "RTC_IRQP_SET": "uval", "RTC_EPOCH_READ": "out:L", "RTC_EPOCH_SET": "uval",
}

_SIZES = {"i": 4, "I": 4, "H": 2, "q": 8, "Q": 8, "l": 8, "L": 8}


def _num(c: C, kind: str, phase: int) -> str:
    fmt = kind.split(":", 1)[1]
    count = 1
    if "*" in fmt:
        fmt, n = fmt.split("*")
        count = int(n)
    size = _SIZES[fmt] * count
    if c.ulong(2) == 0:
        return "NULL"
    if phase == 1 and not c.ok:
        return c.ptr(2)
    v = c.m(2, phase)
    if not isinstance(v, (bytes, bytearray)) or len(v) < size:
        return c.ptr(2)
    vals = struct.unpack_from("<" + fmt * count, v)
    return "[" + ", ".join(str(x) for x in vals) + "]"


def _rand_pool_info(c: C) -> str:
    """struct rand_pool_info {int entropy_count; int buf_size; u32 buf[]}."""
    if c.ulong(2) == 0:
        return "NULL"
    v = c.m(2, 0)
    if not isinstance(v, (bytes, bytearray)) or len(v) < 8:
        return c.ptr(2)
    count, size = struct.unpack_from("<ii", v)
    data = bytes(v[8 : 8 + max(size, 0)])
    if size < 0 or len(data) < min(size, c.opts.strsize):
        buf = hexa(c.ulong(2) + 8)
    else:
        buf = quote_buf(data, size, c.opts.strsize, c.opts.xflag)
    return f"{{entropy_count={count}, buf_size={size}, buf={buf}}}"


@syscall("ioctl", entry=2)
def _ioctl(c: C):
    req = c.uint(1)
    out = [c.fd(0), ioctl_cmd(c, req)]
    name = _name(c, req)  # -Xraw prints the request as a number, its argument decoded all the same
    kind = None
    for n in (name or "").split(" or "):
        kind = IOCTL_ARGS.get(n)
        if kind is not None:
            break
    if kind is not None:
        if kind == "none":
            return out
        if kind == "uval":
            return out + [c.lu(2)]
        if kind == "ival":
            return out + [c.d(2)]
        if kind == "rand_pool_info":
            return out + [_rand_pool_info(c)]
        if kind.startswith("in:"):
            return out + [_num(c, kind, 0)]
        if not c.exiting:
            return out  # filled at exit: printed then (strace's `<unfinished ...>` shows the first two)
        return out + [_num(c, kind, 1)]
    if req == 0x5413:  # TIOCGWINSZ
        return out + [c.outstruct(2, "winsize")]
    if req == 0x5414:  # TIOCSWINSZ
        return out + [c.struct(2, "winsize", 0)]
    if req == 0x40049409:  # FICLONE: the source fd
        return out + [c.fd(2)]
    # termios requests: strace prints every c_*flag by name; not decoded here (the address)
    return out + [c.hex(2)]

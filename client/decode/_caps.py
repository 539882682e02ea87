"""capget(2)/capset(2) as strace prints them: the header's version by name
and pid; the data in the header's version's size (two words of each set for
versions 2 and 3, one for version 1) as `1<<CAP_X|...`, the high word's
capabilities after the low word's. The header is read only under -e
verbose; capget's data only when the call succeeded (its header read again
at exit: the kernel may write the version it knows back)."""

from __future__ import annotations

import struct
from functools import lru_cache

from ._core import C, syscall
from ._fmt import FlagSet

VERSIONS = {0x19980330: "_LINUX_CAPABILITY_VERSION_1", 0x20071026: "_LINUX_CAPABILITY_VERSION_2",
            0x20080522: "_LINUX_CAPABILITY_VERSION_3"}


@lru_cache(maxsize=None)
def _masks(c_fs) -> tuple[FlagSet, FlagSet]:
    caps = [(n, v) for n, v in c_fs.items]
    lo = FlagSet("cap_mask0", [(f"1<<{n}", 1 << v) for n, v in caps if v < 32], "CAP_???")
    hi = FlagSet("cap_mask1", [(f"1<<{n}", 1 << (v - 32)) for n, v in caps if v >= 32], "CAP_???")
    return lo, hi


def _bits(c: C, lo: int, hi: int) -> str:
    m0, m1 = _masks(c.fs("capabilities"))
    out = m0.flags(lo, c.style) if lo or not hi else ""
    if hi:
        out += ("|" if lo else "") + m1.flags(hi, c.style)
    return out


def _header(c: C, phase: int) -> tuple[int, int] | None:
    v = c.m(0, phase)
    if not c.ulong(0) or not c.verbose or not isinstance(v, (bytes, bytearray)) or len(v) < 8:
        return None
    return struct.unpack_from("<Ii", v)


def _header_text(c: C, h) -> str:
    if h is None:
        return c.ptr(0)
    version, pid = h
    name = VERSIONS.get(version)
    raw = f"{version:#x}" if version else "0"
    if c.style == "raw":
        vt = raw
    elif name:
        vt = f"{raw} /* {name} */" if c.style == "verbose" else name
    else:
        vt = f"{raw} /* _LINUX_CAPABILITY_VERSION_??? */"
    t = c.dec.pidns
    return f"{{version={vt}, pid={pid}{'' if t is None else t.comment(c.tid, pid)}}}"


def _data_text(c: C, h, phase: int) -> str:
    if not c.ulong(1) or h is None:
        return c.ptr(1)
    n = 2 if h[0] in (0x20071026, 0x20080522) else 1
    v = c.m(1, phase)
    if not isinstance(v, (bytes, bytearray)) or len(v) < 12 * n:
        return c.ptr(1)
    d = struct.unpack_from(f"<{3 * n}I", v)
    hi = d[3:] if n == 2 else (0, 0, 0)
    names = ("effective", "permitted", "inheritable")
    return "{" + ", ".join(f"{nm}={_bits(c, d[k], hi[k])}" for k, nm in enumerate(names)) + "}"


@syscall("capget")
def _capget(c: C):
    hdr = _header_text(c, _header(c, 0))
    if not c.exiting:
        return [hdr, c.ptr(1)]
    return [hdr, _data_text(c, _header(c, 1) if c.ok else None, 1)]


@syscall("capset")
def _capset(c: C):
    h = _header(c, 0)
    return [_header_text(c, h), _data_text(c, h, 0)]

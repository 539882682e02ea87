"""Per-process state: ids and groups, rlimits, priorities, prctl,
arch_prctl, thread setup (tid address, robust list, rseq)."""

from __future__ import annotations

import struct

from ._core import C, struct as register_struct, styled, syscall


@syscall("rseq")
def _rseq(c: C):
    return [c.ptr(0), c.hex(1), c.flags(2, "rseq_flags"), c.hex(3)]


def _rlim(v: int, style: str) -> str:
    if v == 0xFFFFFFFFFFFFFFFF:
        text = "RLIM64_INFINITY"
    elif v > 1024 and v % 1024 == 0:
        text = f"{v // 1024}*1024"
    else:
        return str(v)
    return styled(str(v), text, style)


@register_struct("rlimit", "rlimit64")
def rlimit_text(c: C, b: bytes, i: int) -> str:
    cur, mx = struct.unpack_from("<QQ", b)
    return f"{{rlim_cur={_rlim(cur, c.style)}, rlim_max={_rlim(mx, c.style)}}}"


@syscall("getresuid", "getresgid", entry=0)
def _getres(c: C):
    out = []
    for k in range(3):
        v = c.m(k, 1)
        out.append(f"[{struct.unpack_from('<I', v)[0]}]" if c.ok and isinstance(v, (bytes, bytearray)) and len(v) >= 4 else c.ptr(k))
    return out


@syscall("getgroups", entry=1)
def _getgroups(c: C):
    n = c.int(0)
    v = c.m(1, 1)
    if n == 0 and c.ok and c.ulong(1):
        g = "[]"  # the kernel only counts when size is 0
    elif n and c.ok and c.rval == 0 and c.ulong(1):
        g = "[]"
    elif n and c.ok and isinstance(v, (bytes, bytearray)) and len(v) >= 4 * c.rval:
        g = "[" + ", ".join(str(x) for x in struct.unpack_from(f"<{c.rval}I", v)) + "]"
    else:
        g = "NULL" if c.ulong(1) == 0 else c.ptr(1)
    return [c.d(0), g]



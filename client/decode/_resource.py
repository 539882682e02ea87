"""Per-process state: ids and groups, rlimits, priorities, prctl,
arch_prctl, thread setup (tid address, robust list, rseq)."""

from __future__ import annotations

import struct

from ._core import C, struct as register_struct, styled, syscall
from ._structs import field_kind


@syscall("rseq")
def _rseq(c: C):
    return [c.ptr(0), c.hex(1), c.flags(2, "rseq_flags"), c.hex(3)]


@field_kind("rlim", 8)
def _rlim_text(c: C, v: int) -> str:
    return _rlim(v, c.style)


def _rlim(v: int, style: str) -> str:
    if v == 0xFFFFFFFFFFFFFFFF:
        text = "RLIM64_INFINITY"
    elif v > 1024 and v % 1024 == 0:
        text = f"{v // 1024}*1024"
    else:
        return str(v)
    return styled(str(v), text, style)


@syscall("getresuid", "getresgid")
def _getres(c: C):
    out = []
    for k in range(3):
        v = c.m(k, 1)
        out.append(f"[{struct.unpack_from('<I', v)[0]}]" if c.ok and isinstance(v, (bytes, bytearray)) and len(v) >= 4 else c.ptr(k))
    return out


@syscall("getgroups", "getgroups32")
def _getgroups(c: C):
    n = c.int(0)
    v = c.m(1, 1)
    if n == 0 and c.ok and c.ulong(1):
        g = "[]"  # the kernel only counts when size is 0
    elif n and c.ok and c.rval == 0 and c.ulong(1):
        g = "[]"
    elif n and c.ok and c.ulong(1) and isinstance(v, (bytes, bytearray)):
        shown = c.rval if not c.abbrev else min(c.rval, c.opts.strsize)
        got = min(shown, len(v) // 4)
        items = ["-1" if x == 0xFFFFFFFF else str(x) for x in struct.unpack_from(f"<{got}I", v)]
        if got < c.rval:
            items.append("...")
        g = "[" + ", ".join(items) + "]"
    else:
        g = "NULL" if c.ulong(1) == 0 else c.ptr(1)
    return [c.d(0), g]


_NGROUPS_MAX = 65536


@syscall("setgroups", "setgroups32")
def _setgroups(c: C):
    """strace's print_array of gids: at most -s of them, `... /* ADDR */`
    where the memory ends, the address when even the first cannot be read
    or the count exceeds NGROUPS_MAX."""
    n = c.int(0)
    if c.ulong(1) == 0:
        return [c.d(0), "NULL"]
    if n < 0 or n > _NGROUPS_MAX:
        return [c.d(0), c.ptr(1)]
    if n == 0:
        return [c.d(0), "[]"]
    v = c.m(1, 0)
    got = len(v) // 4 if isinstance(v, (bytes, bytearray)) else 0
    if got == 0:
        return [c.d(0), c.ptr(1)]
    items = []
    for k in range(n):
        if k >= got:
            items.append(f"... /* {c.ulong(1) + 4 * k:#x} */")
            break
        if c.abbrev and k >= c.opts.strsize:
            items.append("...")
            break
        g = struct.unpack_from("<I", v, 4 * k)[0]
        items.append("-1" if g == 0xFFFFFFFF else str(g))
    return [c.d(0), "[" + ", ".join(items) + "]"]


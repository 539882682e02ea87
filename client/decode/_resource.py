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


@syscall("getgroups", "getgroups32", entry=1)
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


@register_struct("int", "sched_param")
def _int_text(c: C, b: bytes, i: int) -> str:
    """An int the call wrote (getcpu's cpu and node, name_to_handle_at's
    mount id); sched_param is its one int, sched_priority, as strace shows it."""
    return f"[{struct.unpack_from('<i', b)[0]}]"


@register_struct("uint")
def _uint_text(c: C, b: bytes, i: int) -> str:
    return f"[{struct.unpack_from('<I', b)[0]}]"


def _c_hex08(v: int) -> str:
    """C's %#08x: no 0x for zero, the width counting the 0x."""
    return "00000000" if v == 0 else "0x" + format(v, "x").rjust(6, "0")


def user_desc_text(b: bytes) -> str:
    """struct user_desc (asm/ldt.h): three words, then the flag bits; an
    entry_number of -1 (ask the kernel for a free slot) as -1."""
    entry, base, limit, bits = struct.unpack_from("<IIII", b)
    names = ("seg_32bit", 1), ("contents", 2), ("read_exec_only", 1), ("limit_in_pages", 1), \
        ("seg_not_present", 1), ("useable", 1), ("lm", 1)
    parts = [f"entry_number={-1 if entry == 0xFFFFFFFF else entry}", f"base_addr={_c_hex08(base)}",
             f"limit={_c_hex08(limit)}"]
    shift = 0
    for name, width in names:
        parts.append(f"{name}={(bits >> shift) & ((1 << width) - 1)}")
        shift += width
    return "{" + ", ".join(parts) + "}"


def _modify_ldt_ret(c: C) -> str:
    """The kernel returns modify_ldt's int as an unsigned 32-bit word, so an
    error comes back as 4294967258, not -38: strace prints the word and,
    when it looks like a negated errno, that errno's name and text."""
    r = c.ret & 0xFFFFFFFFFFFFFFFF
    if 0xFFFFF001 <= r <= 0xFFFFFFFF:
        from ._fmt import error_text

        return f"{r} {error_text(0x100000000 - r).split(' ', 1)[1]}"
    return str(c.ret)


@syscall("modify_ldt", ret=_modify_ldt_ret)
def _modify_ldt(c: C):
    """The struct only when bytecount is its size (16), else its address."""
    v = c.m(1, 0)
    if c.ulong(2) == 16 and c.ulong(1) and isinstance(v, (bytes, bytearray)) and len(v) >= 16:
        desc = user_desc_text(bytes(v))
    else:
        desc = c.ptr(1)
    return [c.d(0), desc, c.lu(2)]

"""Memory family: mmap prot and flags (map type + flags), brk, mremap, madvise."""

from __future__ import annotations

import errno
import struct

from ._core import C, array, syscall
from ._fmt import comment, hexa


_MMAP_FLAGS: dict = {}  # (value, style) -> text: pure, and the same few values recur


def mmap_flags(c: C, v: int) -> str:
    style = c.opts.xstyle
    text = _MMAP_FLAGS.get((v, style))
    if text is None:
        text = _mmap_flags(c, v)
        if len(_MMAP_FLAGS) >= 1024:
            _MMAP_FLAGS.clear()
        _MMAP_FLAGS[(v, style)] = text
    return text


def _mmap_flags(c: C, v: int) -> str:
    """The map type by name, then the flag bits (no comment for unknown
    ones), then the huge page size: `MAP_PRIVATE|MAP_HUGETLB|21<<MAP_HUGE_SHIFT`.
    -X verbose wraps the whole in one comment (`0 /* MAP_FILE */`)."""
    if c.style == "raw":
        return hexa(v)
    typ = v & 0xF
    t = c.fs("mmap_type").lookup(typ) or (hexa(typ) + comment("MAP_???"))
    huge = (v >> 26) & 0x3F
    rest = v & ~0xF & 0x3FFFFFF  # the kernel's int; the huge size bits apart
    if rest:
        r = c.fs("mmap_flags").flags(rest)
        t += "|" + (r.split(" ")[0] if " /* " in r else r)
    if huge:
        t += f"|{huge}<<MAP_HUGE_SHIFT"
    return hexa(v) + comment(t) if c.style == "verbose" else t


@syscall("mmap", "mmap2", ret="hex")
def _mmap(c: C):
    # the commonest call of a process start: C.ptr/lu/ulong/uint inlined
    a = c.args
    m = 0xFFFFFFFFFFFFFFFF if c.pers == 0 else 0xFFFFFFFF
    addr, off = a[0] & m, a[5] & m
    if c.name != "mmap":
        off *= 4096
    return [f"{addr:#x}" if addr else "NULL", str(a[1] & m), c.flags(2, "mmap_prot"), mmap_flags(c, a[3] & m),
            c.fd(4), f"{off:#x}" if off else "0"]


@syscall("mincore")
def _mincore(c: C):
    """The vector at exit: a byte a page of the length (its low bit: the
    page is resident), as many as the pages, at most -s of them."""
    n = c.ulong(1)
    pages = n // 4096 + (1 if n & 4095 else 0)
    vec = c.array(2, pages, 1, lambda c, b: str(b[0] & 1), phase=1) if c.ok else c.ptr(2)
    return [c.ptr(0), c.lu(1), vec]


@syscall("remap_file_pages")
def _remap_file_pages(c: C):
    """The flags as mmap's (the map type, then the bits), 64-bit words as strace."""
    return [c.ptr(0), c.lu(1), c.flags(2, "mmap_prot", 64), c.lu(3), mmap_flags(c, c.ulong(4))]


@syscall("mremap", ret="hex")
def _mremap(c: C):
    out = [c.ptr(0), c.lu(1), c.lu(2), c.flags(3, "mremap_flags")]
    return out + ([c.ptr(4)] if c.uint(3) & 2 else [])




def mpol_mode(c: C, v: int) -> str:
    """A memory policy: its mode by name, then its mode flags
    (`MPOL_BIND|MPOL_F_STATIC_NODES`); an unknown mode with flags prints as
    one flag word."""
    flags = v & 0xE000
    mode = v & ~0xE000
    if not flags:
        return c.fs("mempolicy_modes").xval(mode, c.style)
    name = c.fs("mempolicy_modes").lookup(mode)
    if name is None:
        return c.fs("mpol_mode_flags").flags(v, c.style)
    if c.style == "raw":
        return hexa(v)
    text = name + "|" + c.fs("mpol_mode_flags").flags(flags)
    return hexa(v) + comment(text) if c.style == "verbose" else text


def _node_word(c: C, b: bytes) -> str:
    """One word of a node mask, as C's `%#0*lx` of the word's width:
    `0000000000000000`, `0x00000000000005`."""
    w = len(b)
    v = int.from_bytes(b, "little")
    return "0" * (2 * w) if not v else "0x" + format(v, "x").rjust(2 * w - 2, "0")


def nodemask(c: C, i: int, maxnode: int, phase: int = 0) -> str:
    """A node mask of `maxnode` bits as strace prints it: its words as an
    array (the last bit is not counted: (maxnode + 62) / 64 words)."""
    bits = 64 if c.pers == 0 else 32
    n = (maxnode + bits - 2) // bits
    if (maxnode and not n) or c.pers == 1:
        return c.ptr(i)
    return c.array(i, n, bits // 8, _node_word, phase)


@syscall("mbind")
def _mbind(c: C):
    return [c.ptr(0), c.lu(1), mpol_mode(c, c.ulong(2)), nodemask(c, 3, c.ulong(4)), c.lu(4), c.flags(5, "mbind_flags")]


@syscall("set_mempolicy")
def _set_mempolicy(c: C):
    return [mpol_mode(c, c.uint(0)), nodemask(c, 1, c.ulong(2)), c.lu(2)]


@syscall("migrate_pages")
def _migrate_pages(c: C):
    n = c.ulong(1)
    return [c.pid(0), str(n), nodemask(c, 2, n), nodemask(c, 3, n)]


@syscall("get_mempolicy")
def _get_mempolicy(c: C):
    """The policy the call wrote, by name (a node number with MPOL_F_NODE)."""
    import struct

    v = c.m(0, 1)
    if c.ok and c.ulong(0) and isinstance(v, (bytes, bytearray)) and len(v) >= 4:
        m = struct.unpack_from("<i", v)[0]
        mode = f"[{m}]" if c.uint(4) & 1 else f"[{c.fs('mempolicy_modes').xval(m & 0xFFFFFFFF, c.style)}]"
    else:
        mode = c.ptr(0)
    nodes = nodemask(c, 1, c.ulong(2), 1) if c.ok else c.ptr(1)
    return [mode, nodes, c.lu(2), c.ptr(3), c.flags(4, "get_mempolicy_flags")]


# move_pages' arrays (the generic array printer: -s elements, `... /* ADDR */`
# where memory ends): page addresses, target nodes, and each page's status
# the call wrote (a node, or -errno by name)
@array("page_ptr", 8)
def _page_ptr(c: C, b: bytes) -> str:
    v = struct.unpack_from("<Q", b)[0]
    return hexa(v) if v else "NULL"


@array("node_id", 4)
def _node_id(c: C, b: bytes) -> str:
    return str(struct.unpack_from("<i", b)[0])


@array("page_status", 4)
def _page_status(c: C, b: bytes) -> str:
    v = struct.unpack_from("<i", b)[0]
    name = errno.errorcode.get(-v) if v < 0 else None
    if not name or c.style == "raw":
        return str(v)
    return f"{v} /* -{name} */" if c.style == "verbose" else f"-{name}"

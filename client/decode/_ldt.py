"""modify_ldt(2), set_thread_area(2) and get_thread_area(2) as strace prints
them. modify_ldt: the user_desc when the byte count is its size (else the
address), and the return the kernel clips to an int: a value in the errno
range of an unsigned int prints with its errno (`= 4294967258 ENOSYS
(Function not implemented)`). set_thread_area: the whole user_desc at entry,
the entry number it got on success (`= 0 (entry_number=12)`).
get_thread_area: the entry number it reads, then what it filled
(`{entry_number=12, ...}` when it failed). user_desc is read as far as it
can be (bpfgen's PARTIAL_STRUCTS): get_thread_area reads only its first word."""

from __future__ import annotations

import os
import struct

from ._core import C, syscall
from ._fmt import errno_name

USER_DESC_SIZE = 16
_BITS = (("seg_32bit", 0, 1), ("contents", 1, 3), ("read_exec_only", 3, 1), ("limit_in_pages", 4, 1),
         ("seg_not_present", 5, 1), ("useable", 6, 1), ("lm", 7, 1))


def _0x8(v: int) -> str:
    return "00000000" if v == 0 else f"{v:#08x}"  # C's %#08x


def _entry(v: int) -> str:
    return "-1" if v == 0xFFFFFFFF else str(v)


def _rest(b: bytes, lm: bool = True) -> list:
    base, limit, bits = struct.unpack_from("<III", b, 4)
    return [f"base_addr={_0x8(base)}", f"limit={_0x8(limit)}"] + \
        [f"{n}={bits >> sh & mask}" for n, sh, mask in _BITS if lm or n != "lm"]


def user_desc_text(b: bytes, lm: bool = True) -> str:
    """The whole struct (lm only for a 64-bit kernel's tracee)."""
    return "{" + ", ".join([f"entry_number={_entry(struct.unpack_from('<I', b)[0])}"] + _rest(b, lm)) + "}"


def _mem(c: C, phase: int) -> bytes:
    v = c.m(0, phase)
    return bytes(v) if isinstance(v, (bytes, bytearray)) else b""


def _set_ret(c: C) -> str:
    b = _mem(c, 1)
    if c.ok and c.verbose and len(b) >= USER_DESC_SIZE:
        return f"{c.ret} (entry_number={struct.unpack_from('<I', b)[0]})"
    return str(c.ret)


@syscall("set_thread_area", ret=_set_ret)
def _set_thread_area(c: C):
    b = _mem(c, 0)
    return [user_desc_text(b, c.pers == 0) if c.ulong(0) and len(b) >= USER_DESC_SIZE else c.ptr(0)]


@syscall("get_thread_area")
def _get_thread_area(c: C):
    b = _mem(c, 0)
    if not c.ulong(0) or len(b) < 4:
        return [c.ptr(0)]
    entry = struct.unpack_from("<I", b)[0]
    head = f"{{entry_number={_entry(entry)}"
    if not c.verbose:
        return [head]  # strace leaves it so
    x = _mem(c, 1)
    if not c.ok or len(x) < USER_DESC_SIZE:
        return [head + ", ...}"]
    new = struct.unpack_from("<I", x)[0]
    if new != entry:
        head += f" => {_entry(new)}"
    return [head + ", " + ", ".join(_rest(x, c.pers == 0)) + "}"]


def _ret(c: C) -> str:
    v = c.ret & 0xFFFFFFFFFFFFFFFF
    if c.is_error or v < 0xFFFFF000:
        return str(c.ret)
    e = -v & 0xFFFFFFFF
    return f"{v} {errno_name(e)} ({os.strerror(e)})"


@syscall("modify_ldt", ret=_ret)
def _modify_ldt(c: C):
    if c.ulong(2) != USER_DESC_SIZE:
        desc = c.ptr(1)
    else:
        v = c.m(1, 0)
        desc = user_desc_text(bytes(v)) if isinstance(v, (bytes, bytearray)) and len(v) >= USER_DESC_SIZE else c.ptr(1)
    return [c.d(0), desc, c.lu(2)]

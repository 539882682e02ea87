"""modify_ldt(2) as strace prints it: the user_desc when the byte count is
its size (else the address), and the return the kernel clips to an int:
a value in the errno range of an unsigned int prints with its errno
(`= 4294967258 ENOSYS (Function not implemented)`)."""

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


def user_desc_text(b: bytes) -> str:
    entry, base, limit, bits = struct.unpack_from("<IIII", b)
    p = [f"entry_number={-1 if entry == 0xFFFFFFFF else entry}", f"base_addr={_0x8(base)}", f"limit={_0x8(limit)}"]
    p += [f"{n}={bits >> sh & mask}" for n, sh, mask in _BITS]
    return "{" + ", ".join(p) + "}"


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

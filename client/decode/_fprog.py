"""A classic BPF program, struct sock_fprog {len, filter}, as strace prints
it: seccomp's SECCOMP_SET_MODE_FILTER, prctl's PR_SET_SECCOMP and
setsockopt's SO_ATTACH_FILTER. Its instructions are behind the pointer
inside the struct: the fetch reads them (a DEREF op, the table's [layouts]
sock_fprog) only when the call is printed unabbreviated (-v); abbreviated,
strace prints the pointer."""

from __future__ import annotations

import struct

from ._core import C
from ._fmt import hexa
from ._netlink_msgs import _bpf_code, _bpf_insn

BPF_MAXINSNS = 4096  # strace prints at most this many instructions, then `...`


def _seccomp_insn(c: C, code: int, jt: int, jf: int, k: int) -> str:
    """seccomp's filters: a RET|K's value is an action and its data
    (`SECCOMP_RET_ERRNO|0x10`), a load's offset plain hex."""
    st = c.style
    if jt or jf or code & 7 != 6 or code & 0x18:
        if code & 7 == 0 and code & 0xE0 == 0x20 and not (jt or jf):
            return f"BPF_STMT({_bpf_code(st, code)}, {hexa(k)})"
        return _bpf_insn(st, code, jt, jf, k)
    action, data = k & 0xFFFF0000, k & 0xFFFF
    text = c.fs("seccomp_ret_action").xval(action, st)
    return f"BPF_STMT({_bpf_code(st, code)}, {text}{'|' + hexa(data) if data else ''})"


def insns_text(c: C, v, addr: int, n: int, seccomp: bool) -> str:
    """n instructions at addr, of which the fetch read `v` (bytes, as far as
    readable): `[...]`, `... /* ADDR */` where memory ends, the address when
    the first cannot be read."""
    if not addr:
        return "NULL"
    if not n:
        return "[]"
    if not isinstance(v, (bytes, bytearray)) or len(v) < 8:
        return hexa(addr)
    shown = min(n, BPF_MAXINSNS)
    got = min(len(v) // 8, shown)
    items = []
    for k in range(got):
        code, jt, jf, kk = struct.unpack_from("<HBBI", v, 8 * k)
        items.append(_seccomp_insn(c, code, jt, jf, kk) if seccomp else _bpf_insn(c.style, code, jt, jf, kk))
    if got < shown:
        items.append(f"... /* {hexa(addr + 8 * got)} */")
    elif n > shown:
        items.append("...")
    return "[" + ", ".join(items) + "]"


def fprog_text(c: C, i: int, b: bytes, seccomp: bool) -> str | None:
    """`{len=N, filter=...}` from the struct's bytes `b` (argument i's
    memory), or None when they are too short."""
    wide = c.pers == 0
    if len(b) < (16 if wide else 8):
        return None
    n = struct.unpack_from("<H", b)[0]
    addr = struct.unpack_from("<Q", b, 8)[0] if wide else struct.unpack_from("<I", b, 4)[0]
    if c.abbrev:
        filt = hexa(addr) if addr else "NULL"
    else:
        filt = insns_text(c, c.deref(i, 8 if wide else 4, 0), addr, n, seccomp)
    return f"{{len={n}, filter={filt}}}"

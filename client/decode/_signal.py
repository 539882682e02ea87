"""Signal family: sigaction, sigprocmask, sigsets, signalfd, sigaltstack."""

from __future__ import annotations

import struct

from ._core import C, sigset_text, struct as register_struct, styled, syscall
from ._fmt import hexa


def _handler(v: int, style: str = "abbrev") -> str:
    return styled(hexa(v), {0: "SIG_DFL", 1: "SIG_IGN", 0xFFFFFFFFFFFFFFFF: "SIG_ERR"}.get(v), style)


@register_struct("sigaction")
def sigaction_text(c: C, b: bytes, i: int) -> str:
    handler, flags, restorer, mask = struct.unpack_from("<QQQQ", b)
    p = [f"sa_handler={_handler(handler, c.style)}", f"sa_mask={sigset_text(mask, style=c.style)}",
         f"sa_flags={c.fs('sa_flags').flags(flags, c.style)}"]
    if flags & 0x04000000:
        p.append(f"sa_restorer={hexa(restorer)}")
    return "{" + ", ".join(p) + "}"


_MASKS: dict = {}  # (first 8 bytes of a sigset, style) -> text: the same few masks recur


def _mask_text(v, style: str) -> str:
    key = (bytes(v[:8]), style)
    text = _MASKS.get(key)
    if text is None:
        text = sigset_text(int.from_bytes(key[0].ljust(8, b"\0"), "little"), style=style)
        if len(_MASKS) >= 1024:
            _MASKS.clear()
        _MASKS[key] = text
    return text


def _sigprocmask_sizes_ok(c: C) -> bool:
    # strace reads no set of another size: the addresses
    return (4 if c.pers else 8) <= c.ulong(3) <= 8


def _sigprocmask_head(c: C):
    """how and the new set, as passed (entry-time memory); unfetched: the address."""
    if not _sigprocmask_sizes_ok(c):
        return [c.xval(0, "sigprocmask_how"), c.ptr(1)]
    if c.ulong(1):
        v = c.m(1, 0)
        cur = _mask_text(v, c.style) if isinstance(v, (bytes, bytearray)) and len(v) >= c.ulong(3) else c.ptr(1)
    else:
        cur = "NULL"
    return [c.xval(0, "sigprocmask_how"), cur]


@syscall("rt_sigprocmask", head=_sigprocmask_head)
def _rt_sigprocmask(c: C):
    """The old set only when the call succeeded (exit-time memory)."""
    n = c.ulong(3)
    if not _sigprocmask_sizes_ok(c):
        return [c.ptr(2), c.lu(3)]
    if c.ok:
        if c.ulong(2):
            v = c.m(2, 1)
            old = _mask_text(v, c.style) if isinstance(v, (bytes, bytearray)) and len(v) >= n else c.ptr(2)
        else:
            old = "NULL"
    else:
        old = "NULL" if c.ulong(2) == 0 else c.ptr(2)
    return [old, c.lu(3)]


# the saved mask read from the signal frame: the plan's STACK op (its word
# offset, 296 / 8, is the mem entry's arg; bpfgen/syscalls.toml)
_SIGFRAME_MASK = 296 // 8


@syscall("rt_sigpending")
def _rt_sigpending(c: C):
    size = c.ulong(1)  # strace reads 1..8 bytes of a set, else prints where it is
    return [c.sigset(0, size, min_len=1) if c.ok and 1 <= size <= 8 else c.ptr(0), c.lu(1)]


def _sig_ret(c: C) -> str:
    from ._core import sigtext

    return f"{c.ret} ({sigtext(c.ret)})" if c.ret else "0"


@syscall("rt_sigreturn")
def _rt_sigreturn(c: C):
    v = c.m(_SIGFRAME_MASK, 0)
    if c.pers != 0 or not isinstance(v, (bytes, bytearray)) or len(v) != 8:
        return []  # not fetched (i386, x32) or unreadable: strace too prints ()
    return ["{mask=" + _mask_text(v, c.style) + "}"]


@syscall("rt_sigtimedwait", ret=_sig_ret)  # `rt_sigtimedwait([USR1],  <unfinished ...>` (strace; all four when info is NULL)
def _rt_sigtimedwait(c: C):
    return [c.sigset(0, c.ulong(3)), c.outstruct(1, "siginfo"), c.struct(2, "timespec", 0), c.lu(3)]


@register_struct("stack_t")
def stack_text(c: C, b: bytes, i: int) -> str:
    sp, flags, size = struct.unpack_from("<Qi4xQ", b)
    fl = {0: "0", 1: "SS_ONSTACK", 2: "SS_DISABLE"}.get(flags, hexa(flags))
    return f"{{ss_sp={'NULL' if sp == 0 else hexa(sp)}, ss_flags={fl}, ss_size={size}}}"


@syscall("sigaltstack", head=lambda c: [c.struct(0, "stack_t", 0)])
def _sigaltstack(c: C):
    return [c.outstruct(1, "stack_t")]

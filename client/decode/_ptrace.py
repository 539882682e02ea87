"""ptrace(2) by request, as strace prints it.

Each request says how many arguments print (PTRACE_TRACEME none after the
request, PTRACE_ATTACH/INTERRUPT/KILL/LISTEN only the pid), how addr reads
(a size for the sigmask, seccomp and syscall-info requests) and what data
is: a signal for the resuming requests, PTRACE_O_* options, a siginfo read
at entry (SETSIGINFO) or at exit (GETSIGINFO), a word the call stores
(PEEK*, GETEVENTMSG: `[N]`) and PTRACE_GET_SYSCALL_INFO's struct as far
as the call filled it. The table's data is `struct[ptrace_data, inout]`:
read at both stops, 128 bytes as far as they can be.

Not decoded (their address prints): register sets, PTRACE_GETREGS,
PEEKSIGINFO's arguments and array, seccomp filters and metadata, the
user-area offsets of PEEKUSER/POKEUSER.
"""

from __future__ import annotations

import struct

from ._core import C, sigset_text, sigtext, styled, syscall
from ._fmt import hexa
from ._ioctl import _AUDIT_ARCHES
from ._signals import siginfo_body

TRACEME, PEEKTEXT, PEEKDATA, PEEKUSER = 0, 1, 2, 3
CONT, KILL, SINGLESTEP, ATTACH, DETACH = 7, 8, 9, 0x10, 0x11
SYSCALL, SETOPTIONS, GETEVENTMSG, GETSIGINFO, SETSIGINFO = 0x18, 0x4200, 0x4201, 0x4202, 0x4203
SEIZE, INTERRUPT, LISTEN = 0x4206, 0x4207, 0x4208
GETSIGMASK, SETSIGMASK, SECCOMP_GET_FILTER, SECCOMP_GET_METADATA = 0x420a, 0x420b, 0x420c, 0x420d
GET_SYSCALL_INFO = 0x420e
SYSEMU, SYSEMU_SINGLESTEP, SINGLEBLOCK = 31, 32, 33

_PID_ONLY = frozenset({ATTACH, INTERRUPT, KILL, LISTEN})
_ADDR_SIZE = frozenset({GETSIGMASK, SETSIGMASK, SECCOMP_GET_FILTER, SECCOMP_GET_METADATA, GET_SYSCALL_INFO})
_DATA_SIG = frozenset({CONT, DETACH, SYSCALL, SINGLESTEP, SINGLEBLOCK, SYSEMU, SYSEMU_SINGLESTEP})
_PERS_OF_ARCH = {0xC000003E: 0, 0x40000003: 1}  # AUDIT_ARCH_X86_64, AUDIT_ARCH_I386
_SECCOMP_SIZE, _EXIT_SIZE = 84, 33  # offsetofend of seccomp.ret_data and exit.is_error


def _mem(c: C, phase: int) -> bytes:
    v = c.m(3, phase)
    return bytes(v) if isinstance(v, (bytes, bytearray)) else b""


def _nr(c: C, nr: int, arch: int) -> str:
    """The call's number by name for an architecture we know (`__NR_chdir`)."""
    pers = _PERS_OF_ARCH.get(arch)
    name = c.dec.name(pers, nr) if pers is not None else None
    if not name or name.startswith("syscall_"):
        return str(nr)
    return styled(str(nr), f"__NR_{name}", c.style)


def _args(b: bytes, off: int, size: int) -> str | None:
    n = max(0, min(6, (size - off) // 8))
    if not n:
        return None
    return "args=[" + ", ".join(hexa(x) for x in struct.unpack_from(f"<{n}Q", b, off)) + "]"


def syscall_info(c: C) -> str:
    """struct ptrace_syscall_info: the fields the smaller of addr and the
    returned size reaches (strace's print_ptrace_syscall_info)."""
    size = min(c.ulong(2), c.rval if c.ok else 0, _SECCOMP_SIZE)
    b = _mem(c, 1)
    if not size or len(b) < size:
        return c.ptr(3)
    b = b[:size].ljust(88, b"\0")
    op, arch, ip, sp = struct.unpack_from("<BxxxIQQ", b)
    p = [f"op={c.fs('ptrace_syscall_info_op').xval(op, c.style)}"]
    if size >= 8:
        p.append(f"arch={_AUDIT_ARCHES.xval(arch, c.style)}")
    if size >= 16:
        p.append(f"instruction_pointer={hexa(ip)}")
    if size >= 24:
        p.append(f"stack_pointer={hexa(sp)}")
    if size >= 32 and op in (1, 3):  # ENTRY, SECCOMP: the call and its arguments
        q = [f"nr={_nr(c, struct.unpack_from('<Q', b, 24)[0], arch)}"]
        a = _args(b, 32, size)
        if a:
            q.append(a)
        if op == 3 and size >= _SECCOMP_SIZE:
            q.append(f"ret_data={struct.unpack_from('<I', b, 80)[0]}")
        p.append(("entry" if op == 1 else "seccomp") + "={" + ", ".join(q) + "}")
    elif size >= 32 and op == 2:  # EXIT
        rval, is_error = struct.unpack_from("<qB", b, 24)
        if size >= _EXIT_SIZE and is_error:
            from ._fmt import errno_name
            name = errno_name(-rval)
            rtext = str(rval) if name.startswith("errno ") else styled(str(rval), f"-{name}", c.style)
        else:
            rtext = str(rval)
        q = [f"rval={rtext}"] + ([f"is_error={is_error}"] if size >= _EXIT_SIZE else [])
        p.append("exit={" + ", ".join(q) + "}")
    return "{" + ", ".join(p) + "}"


def _siginfo(c: C, phase: int) -> str:
    b = _mem(c, phase)
    if not c.ulong(3) or len(b) < 128 or (phase == 1 and not c.ok):
        return c.ptr(3)
    return siginfo_body(struct.unpack_from("<i", b)[0], b, c.style)


def _sigmask(c: C, phase: int) -> str:
    """GETSIGMASK/SETSIGMASK's set, addr bytes long (strace reads none of another size)."""
    b = _mem(c, phase)
    if not c.ulong(3) or c.ulong(2) != 8 or len(b) < 8 or (phase == 1 and not c.ok):
        return c.ptr(3)
    return sigset_text(int.from_bytes(b[:8], "little"), style=c.style)


def _word(c: C, fmt) -> str:
    b = _mem(c, 1)
    if not c.ok or not c.ulong(3) or len(b) < 8:
        return c.ptr(3)
    return f"[{fmt(struct.unpack_from('<Q', b)[0])}]"


@syscall("ptrace", ret="int")
def _ptrace(c: C):
    req = c.ulong(0)
    out = [c.fs("ptrace_cmds").xval(req, c.style)]
    if req == TRACEME:
        return out
    out.append(c.pid(1))
    if req in _PID_ONLY:
        return out
    out.append(str(c.ulong(2)) if req in _ADDR_SIZE else c.ptr(2))
    if req in _DATA_SIG:
        d = c.ulong(3)
        out.append(sigtext(d, c.style) if d and d <= 64 else str(d))
    elif req in (SEIZE, SETOPTIONS):
        out.append(c.flags(3, "ptrace_setoptions_flags", 64))
    elif req == SETSIGINFO:
        out.append(_siginfo(c, 0))
    elif req == SETSIGMASK:
        out.append(_sigmask(c, 0))
    elif not c.exiting:
        out.append(c.ptr(3))  # what the call fills is printed at exit
    elif req == GETSIGINFO:
        out.append(_siginfo(c, 1))
    elif req == GETSIGMASK:
        out.append(_sigmask(c, 1))
    elif req in (PEEKTEXT, PEEKDATA, PEEKUSER):
        out.append(_word(c, hexa))
    elif req == GETEVENTMSG:
        out.append(_word(c, str))
    elif req == GET_SYSCALL_INFO:
        out.append(syscall_info(c))
    else:
        out.append(c.ptr(3))
    return out

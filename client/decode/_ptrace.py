"""ptrace(2) by request, as strace prints it.

Each request says how many arguments print (PTRACE_TRACEME none after the
request, PTRACE_ATTACH/INTERRUPT/KILL/LISTEN only the pid), how addr reads
(a size for the sigmask, seccomp and syscall-info requests) and what data
is: a signal for the resuming requests, PTRACE_O_* options, a siginfo read
at entry (SETSIGINFO) or at exit (GETSIGINFO), a word the call stores
(PEEK*, GETEVENTMSG: `[N]`) and PTRACE_GET_SYSCALL_INFO's struct as far
as the call filled it. The table's data is `struct[ptrace_data, inout]`:
read at both stops, 128 bytes as far as they can be.

PTRACE_SECCOMP_GET_METADATA's filter_off (and the flags it filled),
PTRACE_PEEKSIGINFO's arguments (the table's fetch rule reads addr) and
the siginfos it copied (an array of the return value's count).

Not decoded (their address prints): register sets, PTRACE_GETREGS,
seccomp filters, the user-area offsets of PEEKUSER/POKEUSER.
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
SEIZE, INTERRUPT, LISTEN, PEEKSIGINFO = 0x4206, 0x4207, 0x4208, 0x4209
GETSIGMASK, SETSIGMASK, SECCOMP_GET_FILTER, SECCOMP_GET_METADATA = 0x420a, 0x420b, 0x420c, 0x420d
GET_SYSCALL_INFO = 0x420e
SYSEMU, SYSEMU_SINGLESTEP, SINGLEBLOCK = 31, 32, 33
GETREGS, SETREGS, GETFPREGS, SETFPREGS, GETREGSET, SETREGSET = 12, 13, 14, 15, 0x4204, 0x4205
NT_PRSTATUS, NT_FPREGSET = 1, 2
_REGS = ("r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi",
         "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs")
# struct user_fpregs_struct (x86_64): scalar fields (name, offset, size), then the arrays of u32
_FP_SCALARS = (("cwd", 0, 2), ("swd", 2, 2), ("ftw", 4, 2), ("fop", 6, 2), ("rip", 8, 8), ("rdp", 16, 8),
               ("mxcsr", 24, 4), ("mxcr_mask", 28, 4))
_FP_ARRAYS = (("st_space", 32, 32), ("xmm_space", 160, 64), ("padding", 416, 24))

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
    fd_text = (lambda fd: c.fd_in(3, 24, fd)) if phase == 0 else str  # SETSIGINFO's si_fd: named at the stop (-y)
    return siginfo_body(struct.unpack_from("<i", b)[0], b, c.style, fd_text)


def _sigmask(c: C, phase: int) -> str:
    """GETSIGMASK/SETSIGMASK's set, addr bytes long (strace reads none of another size)."""
    b = _mem(c, phase)
    if not c.ulong(3) or c.ulong(2) != 8 or len(b) < 8 or (phase == 1 and not c.ok):
        return c.ptr(3)
    return sigset_text(int.from_bytes(b[:8], "little"), style=c.style)


def _metadata(c: C) -> str:
    """struct seccomp_metadata: filter_off as the caller set it (when addr
    holds it whole), the flags the call filled."""
    b = _mem(c, 0)
    if not c.ulong(3) or c.ulong(2) < 8 or len(b) < 8:
        return c.ptr(3)
    text = f"{{filter_off={struct.unpack_from('<Q', b)[0]}"
    x = _mem(c, 1)
    if c.ok and len(x) >= 16:
        text += f", flags={c.fs('seccomp_filter_flags').flags(struct.unpack_from('<Q', x, 8)[0], c.style)}"
    return text + "}"


def _peeksiginfo_args(c: C) -> str:
    """struct ptrace_peeksiginfo_args: which queued signals to read."""
    b = c.m(2, 0)
    if not c.ulong(2) or not isinstance(b, (bytes, bytearray)) or len(b) < 16:
        return c.ptr(2)
    off, fl, nr = struct.unpack_from("<QIi", b)
    return f"{{off={off}, flags={c.fs('ptrace_peeksiginfo_flags').flags(fl, c.style)}, nr={nr}}}"


def _siginfos(c: C) -> str:
    """The siginfos PEEKSIGINFO copied (the return value: how many)."""
    b = c.m(3, 1)
    n = c.rval
    if not c.ok or not c.ulong(3) or not isinstance(b, (bytes, bytearray)) or len(b) < 128 * min(n, c.opts.strsize):
        return c.ptr(3)
    out = [siginfo_body(struct.unpack_from("<i", b, 128 * k)[0], bytes(b[128 * k:128 * k + 128]), c.style)
           for k in range(min(n, c.opts.strsize))]
    return "[" + ", ".join(out) + (", ..." if n > c.opts.strsize else "") + "]"


def _regs(b: bytes) -> str:
    """struct user_regs_struct, the registers the bytes hold whole."""
    n = min(len(b) // 8, len(_REGS))
    return "{" + ", ".join(f"{_REGS[k]}={hexa(v)}" for k, v in enumerate(struct.unpack_from(f"<{n}Q", b))) + "}"


def _fpregs(b: bytes) -> str:
    """struct user_fpregs_struct, the fields the bytes hold (arrays: their whole elements)."""
    out = []
    for name, off, size in _FP_SCALARS:
        if len(b) < off + size:
            break
        out.append(f"{name}={hexa(int.from_bytes(b[off:off + size], 'little'))}")
    for name, off, n in _FP_ARRAYS:
        k = min(n, max(0, (len(b) - off) // 4))
        if not k:
            break
        out.append(f"{name}=[" + ", ".join(hexa(v) for v in struct.unpack_from(f"<{k}I", b, off)) + "]")
    return "{" + ", ".join(out) + "}"


def _regstruct(c: C, fp: bool, phase: int) -> str:
    """GETREGS/GETFPREGS' struct as the call filled it, SETREGS/SETFPREGS' as given."""
    b = _mem(c, phase)
    size = 512 if fp else 216
    if not c.ulong(3) or len(b) < size or (phase == 1 and not c.ok):
        return c.ptr(3)
    return _fpregs(b[:size]) if fp else _regs(b[:size])


def _regset(c: C, phase: int) -> str:
    """GETREGSET/SETREGSET's iovec, and the register set behind it when its
    length is a whole number of words (GET: once filled, as long as the
    call made it; SET: as given, `...` past the set's size); the length
    the call changed as `A => B`."""
    b0, b1 = _mem(c, 0), (_mem(c, 1) if c.ok else b"")
    b = b1 if phase == 1 and len(b1) >= 16 else b0
    if not c.ulong(3) or len(b) < 16:
        return c.ptr(3)
    base, ln = struct.unpack_from("<QQ", b)
    lens = str(ln)
    if len(b0) >= 16 and len(b1) >= 16:
        l0, l1 = struct.unpack_from("<Q", b0, 8)[0], struct.unpack_from("<Q", b1, 8)[0]
        if l0 != l1:
            lens = f"{l0} => {l1}"
    nt = c.ulong(2)
    size = {NT_PRSTATUS: 216, NT_FPREGSET: 512}.get(nt)
    regs = c.deref(3, 0, phase)
    n = min(ln, size or 0)
    if (size and ln and ln % 8 == 0 and isinstance(regs, (bytes, bytearray)) and len(regs) >= n
            and (phase == 0 or c.ok)):
        text = _fpregs(bytes(regs[:n])) if nt == NT_FPREGSET else _regs(bytes(regs[:n]))
        if ln > size:
            text = text[:-1] + ", ...}"
    else:
        text = hexa(base) if base else "NULL"
    return f"{{iov_base={text}, iov_len={lens}}}"


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
    if req in (GETREGS, SETREGS, GETFPREGS, SETFPREGS):  # no addr
        out.append(_regstruct(c, req in (GETFPREGS, SETFPREGS), 0 if req in (SETREGS, SETFPREGS) else 1)
                   if c.exiting or req in (SETREGS, SETFPREGS) else c.ptr(3))
        return out
    if req in (GETREGSET, SETREGSET):
        out.append(c.fs("nt_descriptor_types").xval(c.ulong(2), c.style))
        out.append(_regset(c, 0 if req == SETREGSET else 1) if c.exiting or req == SETREGSET else c.ptr(3))
        return out
    out.append(str(c.ulong(2)) if req in _ADDR_SIZE else _peeksiginfo_args(c) if req == PEEKSIGINFO else c.ptr(2))
    if req in _DATA_SIG:
        d = c.ulong(3)
        out.append(sigtext(d, c.style) if d and d <= 64 else str(d))
    elif req in (SEIZE, SETOPTIONS):
        out.append(c.flags(3, "ptrace_setoptions_flags", 64))
    elif req == SETSIGINFO:
        out.append(_siginfo(c, 0))
    elif req == SETSIGMASK:
        out.append(_sigmask(c, 0))
    elif req == SECCOMP_GET_METADATA:
        out.append(_metadata(c))
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
    elif req == PEEKSIGINFO:
        out.append(_siginfos(c))
    else:
        out.append(c.ptr(3))
    return out

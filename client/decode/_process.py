"""Process family: execve argv and env count, clone flags, wait status,
exit, kill, arch_prctl, prctl, rlimits, ids."""

from __future__ import annotations

import struct

from ._core import C, sigtext, struct as register_struct, styled, syscall
from ._fmt import comment, hexa


def _env(c: C, i: int) -> str:
    if c.ulong(i) == 0:
        return "NULL"
    v = c.m(i, 0)
    if c.abbrev and isinstance(v, list) and v:
        return f"{c.ptr(i)} /* {v[0]} var{'s' if v[0] != 1 else ''} */"
    return c.strarr(i) if isinstance(v, list) else c.ptr(i)


@syscall("execve")
def _execve(c: C):
    return [c.path(0), c.strarr(1), _env(c, 2)]


@syscall("execveat")
def _execveat(c: C):
    return [c.dirfd(0), c.path(1), c.strarr(2), _env(c, 3), c.flags(4, "at_flags")]


@syscall("fork", "vfork", "getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid",
         "getpgrp", "setsid", "sched_yield", "sync", "pause", "munlockall", "inotify_init", "vhangup",
         "restart_syscall")
def _noargs(c: C):
    return []


def clone_flags(c: C, v: int) -> str:
    sig = v & 0xFF
    rest = v & ~0xFF
    parts = []
    if rest:
        parts.append(c.fs("clone_flags").flags(rest, c.style))
    if sig:
        parts.append(sigtext(sig, c.style))
    return "|".join(parts) if parts else "0"


def _tidptr(c: C, i: int, exit_phase: bool = True) -> str:
    v = c.m(i)
    if isinstance(v, (bytes, bytearray)) and len(v) >= 4:
        return f"{c.ptr(i)}"
    return c.ptr(i)


@syscall("clone", ret="int")
def _clone(c: C):
    # x86_64 order: flags, stack, parent_tid, child_tid, tls
    fl = c.ulong(0)
    out = [f"child_stack={c.ptr(1)}", f"flags={clone_flags(c, fl)}"]
    if fl & 0x100000:
        out.append(f"parent_tid={c.ptr(2)}")
    if fl & (0x1000000 | 0x200000):
        out.append(f"child_tidptr={c.ptr(3)}")
    if fl & 0x80000:
        out.append(f"tls={c.ptr(4)}")
    return out


@register_struct("clone_args")
def clone_args_text(c: C, b: bytes, i: int) -> str:
    fl, pidfd, ctid, ptid, sig, stack, ssize, tls = struct.unpack_from("<8Q", b)
    p = [f"flags={c.fs('clone_flags').flags(fl & 0xFFFFFFFF, 'abbrev') if fl else '0'}"]
    if pidfd:
        p.append(f"pidfd={hexa(pidfd)}")
    if ctid:
        p.append(f"child_tid={hexa(ctid)}")
    if ptid:
        p.append(f"parent_tid={hexa(ptid)}")
    p.append(f"exit_signal={sigtext(sig) if sig else 0}")
    p.append(f"stack={hexa(stack)}")
    p.append(f"stack_size={hexa(ssize)}")
    if tls:
        p.append(f"tls={hexa(tls)}")
    return "{" + ", ".join(p) + "}"


@syscall("clone3")
def _clone3(c: C):
    return [c.struct(0, "clone_args", 0), c.lu(1)]


def wait_status(st: int) -> str:
    if st & 0x7F == 0:
        return f"[{{WIFEXITED(s) && WEXITSTATUS(s) == {(st >> 8) & 0xFF}}}]"
    if st & 0xFF == 0x7F:
        return f"[{{WIFSTOPPED(s) && WSTOPSIG(s) == {sigtext((st >> 8) & 0xFF)}}}]"
    if st == 0xFFFF:
        return "[{WIFCONTINUED(s)}]"
    core = " && WCOREDUMP(s)" if st & 0x80 else ""
    return f"[{{WIFSIGNALED(s) && WTERMSIG(s) == {sigtext(st & 0x7F)}{core}}}]"


@syscall("wait4", entry=1)
def _wait4(c: C):
    v = c.m(1, 1)
    if c.ulong(1) == 0:
        st = "NULL"
    elif c.ok and c.rval > 0 and isinstance(v, (bytes, bytearray)) and len(v) >= 4:
        st = wait_status(struct.unpack_from("<i", v)[0])
    else:
        st = c.ptr(1)
    return [c.d(0), st, c.flags(2, "wait4_options"), c.ptr(3) if c.ulong(3) else "NULL"]


@syscall("waitid", entry=2)
def _waitid(c: C):
    return [c.xval(0, "waitid_which"), c.d(1), c.ptr(2), c.flags(3, "wait4_options"), c.ptr(4)]


@syscall("exit", "exit_group")
def _exit(c: C):
    return [c.d(0)]


@syscall("kill")
def _kill(c: C):
    return [c.d(0), c.sig(1)]


@syscall("tkill")
def _tkill(c: C):
    return [c.d(0), c.sig(1)]


@syscall("tgkill")
def _tgkill(c: C):
    return [c.d(0), c.d(1), c.sig(2)]


@syscall("arch_prctl")
def _arch_prctl(c: C):
    code = c.uint(0)
    out = [c.xval(0, "arch_prctl_codes")]
    if code in (0x1003, 0x1004):  # ARCH_GET_FS/GS: a pointer filled in
        return out + [c.ptr(1)]
    return out + [c.hex(1)]


@syscall("set_tid_address")
def _set_tid_address(c: C):
    return [c.ptr(0)]


@syscall("set_robust_list")
def _set_robust_list(c: C):
    return [c.ptr(0), c.lu(1)]


@syscall("get_robust_list", entry=1)
def _get_robust_list(c: C):
    return [c.d(0), c.ptr(1), c.ptr(2)]


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


@syscall("prlimit64", entry=3)
def _prlimit64(c: C):
    return [c.d(0), c.xval(1, "rlimit_resources"), c.struct(2, "rlimit64", 0), c.outstruct(3, "rlimit64")]


@syscall("getrlimit", entry=1)
def _getrlimit(c: C):
    return [c.xval(0, "rlimit_resources"), c.outstruct(1, "rlimit")]


@syscall("setrlimit")
def _setrlimit(c: C):
    return [c.xval(0, "rlimit_resources"), c.struct(1, "rlimit", 0)]


@syscall("prctl")
def _prctl(c: C):
    op = c.int(0)
    out = [c.xval(0, "prctl_options", signed=True)]
    if op in (3, 7, 21, 39, 42, 37, 2, 16, 27, 30):  # getters
        if op == 16:
            return out + [c.outbuf(1) if c.m(1, 1) is not None else c.ptr(1)]
        return out
    if op == 15:  # PR_SET_NAME
        return out + [c.cstr(1)]
    if op == 1:
        return out + [c.sig(1)]
    if op == 0x59616D61:  # PR_SET_PTRACER
        return out + ["PR_SET_PTRACER_ANY" if c.ulong(1) == 0xFFFFFFFFFFFFFFFF else c.d(1)]
    if op in (23, 24):  # PR_CAPBSET_READ, PR_CAPBSET_DROP
        return out + [c.xval(1, "capabilities")]
    if op in (4, 8, 38, 36, 41):
        return out + [c.lu(1)]
    return out + [c.hex(k) for k in (1, 2, 3, 4)]


@syscall("setuid", "setgid", "setfsuid", "setfsgid")
def _id1(c: C):
    return [c.d(0)]


@syscall("setreuid", "setregid")
def _id2(c: C):
    return [c.d(0), c.d(1)]


@syscall("setresuid", "setresgid")
def _id3(c: C):
    return [c.d(0), c.d(1), c.d(2)]


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
    elif n and c.ok and isinstance(v, (bytes, bytearray)) and len(v) >= 4 * c.rval:
        g = "[" + ", ".join(str(x) for x in struct.unpack_from(f"<{c.rval}I", v)) + "]"
    else:
        g = "NULL" if c.ulong(1) == 0 else c.ptr(1)
    return [c.d(0), g]


@syscall("setpgid")
def _setpgid(c: C):
    return [c.d(0), c.d(1)]


@syscall("getpgid", "getsid")
def _getpgid(c: C):
    return [c.d(0)]


@syscall("pidfd_open", ret="fd")
def _pidfd_open(c: C):
    return [c.d(0), c.flags(1, "pidfd_flags")]


@syscall("pidfd_send_signal")
def _pidfd_send_signal(c: C):
    return [c.fd(0), c.sig(1), c.ptr(2), c.u(3)]


@syscall("getpriority")
def _getpriority(c: C):
    return [c.xval(0, "priorities"), c.d(1)]


@syscall("setpriority")
def _setpriority(c: C):
    return [c.xval(0, "priorities"), c.d(1), c.d(2)]


@syscall("unshare")
def _unshare(c: C):
    return [c.flags(0, "clone_flags")]

"""Process family: execve argv and env count, clone flags, wait status,
exit, kill, pidfds."""

from __future__ import annotations

import struct

from tracerd._wire import FD_RET, FD_SLOT

from ._core import C, Changed, sigtext, struct as register_struct, syscall
from ._fmt import hexa, ptr, quote


@syscall("restart_syscall")
def _restart_syscall(c: C):
    # the call before it on this thread, when we saw it (strace's wording
    # for one it did not see otherwise)
    prev = c.dec.prev_call(c.tid)
    return [f"<... resuming interrupted {prev or 'call'} ...>"]


def clone_flags(c: C, v: int) -> str:
    sig = v & 0xFF
    rest = v & ~0xFF
    parts = []
    if rest:
        parts.append(c.fs("clone_flags").flags(rest, c.style))
    if sig:
        parts.append(sigtext(sig, c.style))
    return "|".join(parts) if parts else "0"



def _written_int(c: C, i: int) -> str:
    """An int the call wrote at argument i's address (clone's parent tid
    or pidfd): `[N]` when it succeeded and the word was read, else the address."""
    v = c.m(i, 1)
    if not c.ok or not isinstance(v, (bytes, bytearray)) or len(v) < 4:
        return c.ptr(i)
    return f"[{struct.unpack_from('<i', v)[0]}]"


@syscall("clone", ret="pid")
def _clone(c: C):
    # x86_64 order: flags, stack, parent_tid, child_tid, tls
    fl = c.ulong(0)
    out = [f"child_stack={c.ptr(1)}", f"flags={clone_flags(c, fl)}"]
    if fl & 0x100000:  # CLONE_PARENT_SETTID
        out.append(f"parent_tid={_written_int(c, 2)}")
    elif fl & 0x1000:  # CLONE_PIDFD: the pidfd goes there, named under -y
        v = _written_int(c, 2)
        if v.startswith("[") and c.dec._anyfd:
            fd = int(v[1:-1])
            named = c.mem.get((1, FD_SLOT + 2)) if c.mem else None  # the tracer named it at the exit stop
            if isinstance(named, list) and named:
                v = f"[{c.dec.fd_named(fd, named[0])}]"
            else:
                v = f"[{c.dec.fd_text(fd, c.tid)}]"
        out.append(f"parent_tid={v}")
    if fl & 0x80000:
        out.append(f"tls={c.ptr(4)}")
    if fl & (0x1000000 | 0x200000):
        out.append(f"child_tidptr={c.ptr(3)}")
    return out


def _pid0(c: C) -> list:
    return [c.pid(0)]


@syscall("get_robust_list", head=_pid0)
def _get_robust_list(c: C):
    """The head pointer and length the call wrote: `[0x7f...]`, `[24]`."""
    out = []
    wide = c.pers == 0
    for i in (1, 2):
        v = c.m(i, 1)
        if not c.ulong(i):
            out.append("NULL")
        elif not c.ok or not isinstance(v, (bytes, bytearray)) or len(v) < (8 if wide else 4):
            out.append(c.ptr(i))
        else:
            w = struct.unpack_from("<Q" if wide else "<I", v)[0]
            out.append(f"[{(hexa(w) if w else 'NULL') if i == 1 else w}]")
    return out


# struct clone_args: the fields through tls (CLONE_ARGS_SIZE_VER0), set_tid
# and set_tid_size (VER1), cgroup (VER2: the size strace 6.1 knows)
_CLONE_ARGS_MIN, _CLONE_ARGS_SIZE, _CLONE_CGROUP_OFF = 64, 88, 80
_CLONE_PIDFD, _CLONE_PARENT_SETTID, _CLONE_SETTLS = 0x1000, 0x100000, 0x80000
_CLONE_TID_FLAGS, _CLONE_INTO_CGROUP = 0x1000000 | 0x200000, 0x200000000


def nonzero_tail(c: C, b: bytes, known: int, size: int) -> str | None:
    """The bytes of a versioned struct past the `known` size strace
    knows, up to the size given (at most a page), as its
    print_nonzero_bytes: None when all are zero, `???` when they cannot
    be read, else in hex with their offsets (clone_args, mount_attr)."""
    if size <= known:
        return None
    end = min(size, 4096)
    tail = b[known:end]
    if len(b) < min(end, 256):  # (the fetch reads 256 bytes at most: bpfgen's BUF_BOUNDS)
        return "???"
    if not any(tail):
        return None
    shown = tail[:c.opts.strsize]
    return (f"/* bytes {known}..{end - 1} */ " + quote(shown, c.opts.xflag, force_hex=True)
            + ("..." if len(shown) < end - known else ""))


def _clone_tail(c: C, b: bytes, size: int) -> str | None:
    return nonzero_tail(c, b, _CLONE_ARGS_SIZE, size)


def _tid_at(c: C, off: int, phase: int, addr: int) -> str:
    """The int behind clone_args' pointer at `off` (a DEREF op): `[N]`,
    else the address (NULL, unreadable, not fetched)."""
    v = c.deref(0, off, phase)
    if addr and isinstance(v, (bytes, bytearray)) and len(v) >= 4:
        return f"[{struct.unpack_from('<i', v)[0]}]"
    return ptr(addr)


def _clone3_fields(c: C, b: bytes) -> tuple[list, int] | None:
    size = c.ulong(1)
    fetch = min(size, _CLONE_ARGS_SIZE)
    if fetch < _CLONE_ARGS_MIN or len(b) < fetch:
        return None
    fl, pidfd, ctid, ptid, sig, stack, ssize, tls, set_tid, nset, cgroup = struct.unpack_from(
        "<11Q", b[:fetch].ljust(_CLONE_ARGS_SIZE, b"\0"))
    p = [f"flags={c.fs('clone_args_flags').flags(fl, c.style)}"]
    if fl & _CLONE_PIDFD:
        p.append(f"pidfd={ptr(pidfd)}")
    if fl & _CLONE_TID_FLAGS:
        p.append(f"child_tid={ptr(ctid)}")
    if fl & _CLONE_PARENT_SETTID:
        p.append(f"parent_tid={ptr(ptid)}")
    p.append(f"exit_signal={sigtext(sig, c.style) if sig < 0x7FFFFFFF else sig}")
    p.append(f"stack={ptr(stack)}")
    p.append(f"stack_size={hexa(ssize)}")
    if fl & _CLONE_SETTLS:
        p.append(f"tls={ptr(tls)}")
    if fetch >= 80 and (set_tid or nset):
        # the tids behind their pointer (a DEREF op: [layouts] clone_args),
        # printed when there are 1..32 of them (the kernel's most) and all
        # could be read, else the address
        v = c.deref(0, 64, 0)
        if set_tid and 0 < nset <= 32 and isinstance(v, (bytes, bytearray)) and len(v) >= 4 * nset:
            p.append("set_tid=[" + ", ".join(str(t) for t in struct.unpack_from(f"<{nset}i", v)) + "]")
        else:
            p.append(f"set_tid={ptr(set_tid)}")
        p.append(f"set_tid_size={nset}")
    if fetch > _CLONE_CGROUP_OFF and (cgroup or fl & _CLONE_INTO_CGROUP):
        p.append(f"cgroup={cgroup}")
    return p, fl


@register_struct("clone_args")
def clone_args_text(c: C, b: bytes, i: int) -> str:
    got = _clone3_fields(c, b)
    if got is None:
        return c.ptr(i)
    p, _ = got
    tail = _clone_tail(c, b, c.ulong(1))
    return "{" + ", ".join(p + ([tail] if tail else [])) + "}"


@syscall("clone3")
def _clone3(c: C):
    """The arguments as given, then on success what the call wrote
    (` => {pidfd=..., parent_tid=..., bytes past the struct}`)."""
    text = c.struct(0, "clone_args", 0)
    v = c.m(0, 0)
    if c.ok and text.startswith("{") and isinstance(v, (bytes, bytearray)):
        b = bytes(v)
        fl = struct.unpack_from("<Q", b)[0]
        after = []
        # the pidfd and parent tid the call wrote, read at the exit behind
        # their pointers (DEREF ops); their addresses when unreadable
        if fl & _CLONE_PIDFD:
            t = _tid_at(c, 8, 1, struct.unpack_from('<Q', b, 8)[0])
            if t.startswith("["):  # strace's printnum_fd: the fd named under -y (at the stop: FD_AT)
                t = f"[{c.fd_in(0, 8, int(t[1:-1]))}]"
            after.append(f"pidfd={t}")
        if fl & _CLONE_PARENT_SETTID:
            after.append(f"parent_tid={_tid_at(c, 24, 1, struct.unpack_from('<Q', b, 24)[0])}")
        tail = _clone_tail(c, b, c.ulong(1))
        if tail:
            after.append(tail)
        if after:
            return [Changed(text, " => {" + ", ".join(after) + "}"), c.lu(1)]
    return [Changed(text), c.lu(1)]


def wait_status(st: int) -> str:
    if st & 0x7F == 0:
        return f"[{{WIFEXITED(s) && WEXITSTATUS(s) == {(st >> 8) & 0xFF}}}]"
    if st & 0xFF == 0x7F:
        return f"[{{WIFSTOPPED(s) && WSTOPSIG(s) == {sigtext((st >> 8) & 0xFF)}}}]"
    if st == 0xFFFF:
        return "[{WIFCONTINUED(s)}]"
    core = " && WCOREDUMP(s)" if st & 0x80 else ""
    return f"[{{WIFSIGNALED(s) && WTERMSIG(s) == {sigtext(st & 0x7F)}{core}}}]"


@syscall("wait4", head=_pid0)
def _wait4(c: C):
    v = c.m(1, 1)
    if c.ulong(1) == 0:
        st = "NULL"
    elif c.ok and c.rval > 0 and isinstance(v, (bytes, bytearray)) and len(v) >= 4:
        st = wait_status(struct.unpack_from("<i", v)[0])
    else:
        st = c.ptr(1)
    # the usage only when a child was reaped (WNOHANG's 0 leaves it unwritten)
    ru = c.outstruct(3, "rusage") if c.ok and c.rval > 0 else c.ptr(3)
    return [st, c.flags(2, "wait4_options"), ru]


@syscall("pidfd_send_signal")
def _pidfd_send_signal(c: C):
    return [c.fd(0), c.sig(1), c.struct(2, "siginfo", 0), c.x(3)]


def _pidfd_pid(c: C) -> int | None:
    """The process a pidfd argument refers to: what the tracer named it with
    at the stop (`pid:N`, under -yy), else its fdinfo in /proc now."""
    v = c.named(0)
    if isinstance(v, list) and len(v) == 3 and isinstance(v[1], (bytes, bytearray)) and bytes(v[1]).startswith(b"pid:"):
        return int(bytes(v[1])[4:])
    try:
        with open(f"/proc/{c.dec._tgid or c.tid}/fdinfo/{c.int(0)}") as f:
            for line in f:
                if line.startswith("Pid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


@syscall("pidfd_getfd", ret="fd")
def _pidfd_getfd(c: C):
    """The target fd is one of the pidfd's process, named as strace does.
    The fd returned refers to the same file and the tracer named it at the
    stop: a call that succeeded is named from that (the process may be gone
    by the time the line is decoded); a failed one from /proc now."""
    got = c.named(FD_RET) if c.ok and c.dec._anyfd and c.int(1) >= 0 else None
    if got is not None:
        return [c.fd(0), c.dec.fd_named(c.int(1), got), c.x(2)]
    pid = _pidfd_pid(c) if c.dec._paths and c.int(0) >= 0 else None
    target = c.dec.fd_of(c.int(1), pid) if pid and pid > 0 else c.d(1)
    return [c.fd(0), target, c.x(2)]




def _sched_policy_ret(c: C) -> str:
    """sched_getscheduler's return annotated with its policy: `0 (SCHED_OTHER)`."""
    name = c.fs("sched_policies").lookup(c.ret)
    return f"{c.ret} ({name})" if name else str(c.ret)


@syscall("sched_getscheduler", ret=_sched_policy_ret)
def _sched_getscheduler(c: C):
    return [c.pid(0)]


@syscall("unshare")
def _unshare(c: C):
    return [c.flags(0, "unshare_flags", 64)]  # an unsigned long


def _persona(c: C, v: int) -> str:
    """An execution domain and its flags: `PER_LINUX|ADDR_NO_RANDOMIZE`."""
    text = c.fs("personality_types").xval(v & 0xFF, c.style)
    rest = v & ~0xFF
    if rest:
        text += "|" + c.fs("personality_flags").flags(rest, c.style)
    return text


def _personality_ret(c: C) -> str:
    return f"{hexa(c.ret)} ({_persona(c, c.ret & 0xFFFFFFFF)})"


@syscall("personality", ret=_personality_ret)
def _personality(c: C):
    v = c.uint(0)
    return [hexa(v) if v == 0xFFFFFFFF else _persona(c, v)]


# struct sched_attr: its sizes (SCHED_ATTR_SIZE_VER0, VER1) and the flag that
# leaves the policy, or the parameters, as they are
_SCHED_ATTR_VER0, _SCHED_ATTR_VER1 = 48, 56
_SCHED_KEEP_POLICY, _SCHED_KEEP_PARAMS = 0x08, 0x10


def _sched_attr(c: C, i: int, b, usize: int, is_set: bool) -> str:
    """A struct sched_attr as strace prints it: its size, then the fields the
    size holds; sched_setattr's KEEP_* flags leave out the policy or the
    parameters; `...` when the caller's size is larger than what is shown.
    `usize`: sched_getattr's size argument (0 for sched_setattr)."""
    if not isinstance(b, (bytes, bytearray)):
        return c.ptr(i)
    b = bytes(b)
    if is_set:
        if len(b) < 4:
            return c.ptr(i)
        usize = struct.unpack_from("<I", b)[0] or _SCHED_ATTR_VER0
        size = min(usize, _SCHED_ATTR_VER1)
        if size >= _SCHED_ATTR_VER0 and len(b) < size:
            return c.ptr(i)
    else:
        size = min(usize, _SCHED_ATTR_VER1)
        if len(b) < size:
            return c.ptr(i)
    b = b[:size].ljust(_SCHED_ATTR_VER1, b"\0")
    asize, policy, flags, nice, prio, runtime, deadline, period, umin, umax = struct.unpack_from("<IIQiIQQQII", b)
    if not is_set:
        size = asize
    out = [f"size={asize}"]
    if size >= _SCHED_ATTR_VER0:
        if not is_set or policy >> 31 or not flags & (_SCHED_KEEP_POLICY | _SCHED_KEEP_PARAMS):
            out.append("sched_policy=" + c.fs("sched_policies").xval(policy, c.style))
        out.append("sched_flags=" + c.fs("sched_attr_flags").flags(flags, c.style))
        if not is_set or not flags & _SCHED_KEEP_PARAMS:
            out += [f"sched_nice={nice}", f"sched_priority={prio}", f"sched_runtime={runtime}",
                    f"sched_deadline={deadline}", f"sched_period={period}"]
        if size >= _SCHED_ATTR_VER1:
            out += [f"sched_util_min={umin}", f"sched_util_max={umax}"]
    if (usize if is_set else asize) > size:
        out.append("...")
    return "{" + ", ".join(out) + "}"


@syscall("sched_setattr")
def _sched_setattr(c: C):
    """The attributes at entry; on E2BIG the size the kernel wrote back
    (`{size=1} => {size=56}`)."""
    text = "NULL" if not c.ulong(1) else _sched_attr(c, 1, c.m(1, 0), 0, True)
    if c.exiting and c.is_error and c.ret == -7 and c.ulong(1):  # E2BIG
        v = c.m(1, 1)
        if isinstance(v, (bytes, bytearray)) and len(v) >= 4:
            text += f" => {{size={struct.unpack_from('<I', bytes(v))[0]}}}"
    return [c.pid(0), text, c.u(2)]


@syscall("sched_getattr", head=_pid0)
def _sched_getattr(c: C):
    size = c.uint(2)
    if not c.ulong(1):
        attr = "NULL"
    elif not size or not c.ok:
        attr = c.ptr(1)
    else:
        attr = _sched_attr(c, 1, c.m(1, 1), size, False)
    return [attr, str(size), c.u(3)]

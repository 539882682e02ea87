"""System calls: uname, sysinfo, getrandom, futex, rusage, CPU affinity,
seccomp, mount, membarrier."""

from __future__ import annotations

import struct

from ._fprog import fprog_text
from . import _quota_xfs
from ._core import C, array, struct as register_struct, styled, syscall
from ._fmt import hexa, quote


@syscall("getrandom")  # strace prints the buffer at exit: `getrandom( <unfinished ...>`
def _getrandom(c: C):
    return [c.outbuf(0, force_hex=True), c.lu(1), c.flags(2, "getrandom_flags")]


def futex_op(c: C, v: int) -> str:
    """One of strace's futex operations, each a whole value: the command,
    _PRIVATE, and FUTEX_CLOCK_REALTIME only with the waits that take it;
    anything else is `0x101 /* FUTEX_??? */`."""
    if c.style == "raw":
        return hexa(v)
    base = c.fs("futex_ops").lookup(v & 0x7F)
    if base is None or v & ~0x1FF or (v & 256 and v & 0x7F not in (0, 9, 11)):
        return hexa(v) + " /* FUTEX_??? */"
    if v & 128:
        name = base + ("|FUTEX_PRIVATE_FLAG" if base == "FUTEX_FD" else "_PRIVATE")
    else:
        name = base
    if v & 256:
        name += "|FUTEX_CLOCK_REALTIME"
    return hexa(v) + f" /* {name} */" if c.style == "verbose" else name


def _wake_op(c: C, v: int) -> str:
    """FUTEX_WAKE_OP's encoded operation: `FUTEX_OP_SET<<28|0<<12|FUTEX_OP_CMP_EQ<<24|0`."""
    out = "FUTEX_OP_OPARG_SHIFT<<28|" if (v >> 28) & 8 else ""
    op, cmp = (v >> 28) & 7, (v >> 24) & 0xF
    opn = c.fs("futex_wake_ops").xval(op, c.style)
    out += opn + "<<28" + ("" if c.fs("futex_wake_ops").lookup(op) else " /* FUTEX_OP_??? */")
    out += f"|{hexa((v >> 12) & 0xFFF)}<<12|"
    cmpn = c.fs("futex_wake_cmps").xval(cmp, c.style)
    out += cmpn + "<<24" + ("" if c.fs("futex_wake_cmps").lookup(cmp) else " /* FUTEX_OP_CMP_??? */")
    return out + f"|{hexa(v & 0xFFF)}"


def _bitset(v: int) -> str:
    return "FUTEX_BITSET_MATCH_ANY" if v == 0xFFFFFFFF else hexa(v)


@syscall("futex")
def _futex(c: C):
    """The arguments each operation takes (strace 6.1's futex decoder)."""
    op = c.uint(1)
    cmd = op & 0x7F
    out = [c.ptr(0), futex_op(c, op)]
    ts = lambda: c.struct(3, "timespec", 0)  # noqa: E731
    if cmd == 0:  # WAIT
        return out + [c.u(2), ts()]
    if cmd in (6, 13):  # LOCK_PI, LOCK_PI2
        return out + [ts()]
    if cmd == 9:  # WAIT_BITSET
        return out + [c.u(2), ts(), _bitset(c.uint(5))]
    if cmd == 10:  # WAKE_BITSET
        return out + [c.u(2), _bitset(c.uint(5))]
    if cmd == 3:  # REQUEUE
        return out + [c.u(2), c.u(3), c.ptr(4)]
    if cmd in (4, 12):  # CMP_REQUEUE, CMP_REQUEUE_PI
        return out + [c.u(2), c.u(3), c.ptr(4), c.u(5)]
    if cmd == 5:  # WAKE_OP
        return out + [c.u(2), c.u(3), c.ptr(4), _wake_op(c, c.uint(5))]
    if cmd == 11:  # WAIT_REQUEUE_PI
        return out + [c.u(2), ts(), c.ptr(4)]
    if cmd in (1, 2):  # WAKE, FD
        return out + [c.u(2)]
    if cmd in (7, 8):  # UNLOCK_PI, TRYLOCK_PI
        return out
    return out + [c.u(2), c.ptr(3), c.ptr(4), hexa(c.uint(5))]


@syscall("getrusage", head=lambda c: [c.xval(0, "rusage_who", signed=True)])
def _getrusage(c: C):
    return [c.outstruct(1, "rusage")]


def _cpuset(c: C, i: int, n: int) -> str:
    v = c.m(i, 1)
    if not isinstance(v, (bytes, bytearray)):
        return c.ptr(i)
    bits = int.from_bytes(bytes(v)[:n], "little")
    return "[" + " ".join(str(k) for k in range(len(v) * 8) if bits >> k & 1) + "]"


@syscall("sched_getaffinity", head=lambda c: [c.pid(0), c.lu(1)])
def _sched_getaffinity(c: C):
    return [_cpuset(c, 2, c.rval) if c.ok else c.ptr(2)]


@syscall("sched_setaffinity")
def _sched_setaffinity(c: C):
    v = c.m(2, 0)
    cs = "[" + " ".join(str(k) for k in range(len(v) * 8) if int.from_bytes(bytes(v), "little") >> k & 1) + "]" if isinstance(v, (bytes, bytearray)) else c.ptr(2)
    return [c.pid(0), c.lu(1), cs]


@syscall("seccomp")
def _seccomp(c: C):
    """The third argument by operation: a filter program `{len=N,
    filter=ADDR}` (its instructions, behind a second pointer, under -v:
    `filter=[BPF_STMT(...), ...]`), GET_ACTION_AVAIL's action word
    (read at entry), GET_NOTIF_SIZES' sizes (at exit)."""
    op = c.uint(0)
    flags = c.flags(1, "seccomp_filter_flags") if op == 1 else c.x(1)
    arg = c.ptr(2)
    v = c.m(2, 1 if op == 3 else 0)
    b = bytes(v) if isinstance(v, (bytes, bytearray)) and c.ulong(2) else b""
    if op == 1 and fprog_text(c, 2, b, True):  # struct sock_fprog: its instructions under -v
        arg = fprog_text(c, 2, b, True)
    elif op == 2 and len(b) >= 4:  # SECCOMP_GET_ACTION_AVAIL
        arg = f"[{c.fs('seccomp_ret_action').xval(struct.unpack_from('<I', b)[0], c.style)}]"
    elif op == 3 and c.ok and len(b) >= 6:  # SECCOMP_GET_NOTIF_SIZES
        n, r, d = struct.unpack_from("<3H", b)
        arg = f"{{seccomp_notif={n}, seccomp_notif_resp={r}, seccomp_data={d}}}"
    return [c.xval(0, "seccomp_ops"), flags, arg]


@syscall("membarrier")
def _membarrier(c: C):
    return [c.xval(0, "membarrier_cmds"), c.u(1)]




@syscall("reboot")
def _reboot(c: C):
    """The restart command string only with LINUX_REBOOT_CMD_RESTART2."""
    out = [c.xval(0, "reboot_magic1"), c.xval(1, "reboot_magic"), c.xval(2, "reboot_cmds")]
    if c.uint(2) == 0xA1B2C3D4:
        out.append(c.strn(3, 255))
    return out


@syscall("memfd_create")
def _memfd_create(c: C):
    """The name as strace reads it: at most MFD_NAME_MAX (249) characters and its NUL."""
    fl = c.uint(1)
    if not fl or c.style == "raw":
        return [c.strn(0, 250), hexa(fl)]
    huge = fl >> 26
    text = c.fs("mfd_flags").flags(fl & 0x3FFFFFF) if fl & 0x3FFFFFF or not huge else ""
    if huge:  # the huge page size, as mmap's
        text = (text + "|" if text else "") + f"{huge}<<MFD_HUGE_SHIFT"
    # -X verbose: the whole word, then all of it decoded in one comment
    return [c.strn(0, 250), f"{hexa(fl)} /* {text} */" if c.style == "verbose" else text]


def keyring(c: C, i: int) -> str:
    """A key serial number: KEY_SPEC_* by name, else decimal."""
    v = c.int(i)
    return styled(str(v), c.fs("key_spec").lookup(v), c.style)


@syscall("add_key")
def _add_key(c: C):
    return [c.cstr(0), c.cstr(1), c.buf(2, c.ulong(3), phase=0), c.lu(3), keyring(c, 4)]


@syscall("request_key")
def _request_key(c: C):
    return [c.cstr(0), c.cstr(1), c.cstr(2), keyring(c, 3)]


@register_struct("landlock_path_beneath")
def landlock_path_beneath_text(c: C, b: bytes, i: int) -> str:
    """landlock_add_rule's LANDLOCK_RULE_PATH_BENEATH attributes (other
    rule types: the address)."""
    if c.uint(1) != 1:
        return c.ptr(i)
    acc, fd = struct.unpack_from("<Qi", b)
    return f"{{allowed_access={c.fs('landlock_ruleset_access_fs').flags(acc, c.style)}, parent_fd={c.fd_in(i, 8, fd)}}}"  # named at the stop ([layouts])


def _landlock_ret(c: C) -> str:
    """An fd, or the ABI version LANDLOCK_CREATE_RULESET_VERSION asks for."""
    from ._core import _ret_fd

    return str(c.ret) if c.uint(2) & 1 else _ret_fd(c, c.ret)


@syscall("landlock_create_ruleset", ret=_landlock_ret)
def _landlock_create_ruleset(c: C):
    """The attributes are read only when their size holds handled_access_fs."""
    size = c.ulong(1)
    v = c.m(0, 0)
    if size < 8 or not c.ulong(0) or not isinstance(v, (bytes, bytearray)) or len(v) < 8:
        attr = c.ptr(0)
    else:
        acc = c.fs("landlock_ruleset_access_fs").flags(struct.unpack_from("<Q", v)[0], c.style)
        attr = f"{{handled_access_fs={acc}{', ...' if size > 8 else ''}}}"
    return [attr, c.lu(1), c.flags(2, "landlock_create_flags")]


@syscall("kexec_load")
def _kexec_load(c: C):
    """The flags: the architecture field (KEXEC_ARCH_MASK), then the flag bits."""
    n = c.ulong(3)
    fl = c.fs("kexec_arch_values").xval(n & 0xFFFF0000, c.style)
    if n & ~0xFFFF0000:
        fl += "|" + c.fs("kexec_load_flags").flags(n & ~0xFFFF0000, c.style)
    n = c.ulong(1)
    wide = c.pers == 0
    # the segments, when there are at most KEXEC_SEGMENT_MAX (16) of them
    segs = c.array(2, n, 32 if wide else 16, _kexec_segment, 0) if n <= 16 else c.ptr(2)
    return [c.ptr(0), c.lu(1), segs, fl]


def _kexec_segment(c: C, b: bytes) -> str:
    buf, bufsz, mem, memsz = struct.unpack("<4Q" if len(b) == 32 else "<4I", b)
    return f"{{buf={hexa(buf) if buf else 'NULL'}, bufsz={bufsz}, mem={hexa(mem) if mem else 'NULL'}, memsz={memsz}}}"


def _ioprio_text(c: C, v: int) -> str:
    return f"IOPRIO_PRIO_VALUE({c.fs('ioprio_class').xval(v >> 13, c.style)}, {v & 0x1FFF})"


def _ioprio_get_ret(c: C) -> str:
    return str(c.ret) if c.style == "raw" else f"{c.ret} ({_ioprio_text(c, c.ret & 0xFFFFFFFF)})"


def _who(c: C, i: int, pids: tuple) -> str:
    """The `who` of getpriority/ioprio_get and their setters: a pid (or a
    process group) for the `which` values in `pids` (translated under
    --pidns-translation), else a number."""
    return c.pid(i) if c.uint(0) in pids else c.d(i)


@syscall("ioprio_get", ret=_ioprio_get_ret)
def _ioprio_get(c: C):
    return [c.xval(0, "ioprio_who"), _who(c, 1, (1, 2))]  # IOPRIO_WHO_PROCESS, _PGRP


@syscall("getpriority")
def _getpriority(c: C):
    return [c.xval(0, "priorities"), _who(c, 1, (0, 1))]  # PRIO_PROCESS, PRIO_PGRP


@syscall("setpriority")
def _setpriority(c: C):
    return [c.xval(0, "priorities"), _who(c, 1, (0, 1)), c.d(2)]


@syscall("ioprio_set")
def _ioprio_set(c: C):
    v = c.uint(2)
    if c.style == "raw":
        prio = c.d(2)
    elif c.style == "verbose":
        prio = c.d(2) + f" /* {_ioprio_text(c, v)} */"
    else:
        prio = _ioprio_text(c, v)
    return [c.xval(0, "ioprio_who"), _who(c, 1, (1, 2)), prio]


@syscall("syslog")
def _syslog(c: C):
    """The command, with the buffer and length only for those that use them."""
    t = c.int(0)
    name = c.fs("syslog_action_type").lookup(t & 0xFFFFFFFF)
    cmd = (f"{t} /* {name} */" if name else f"{t} /* SYSLOG_ACTION_??? */") if c.style != "raw" else str(t)
    if t in (0, 1, 5, 6, 7, 9, 10):
        return [cmd]
    if t in (2, 3, 4):  # the buffer read, at exit
        return [cmd, c.outbuf(1) if c.ok else c.ptr(1), c.d(2)]
    if t == 8:  # CONSOLE_LEVEL: the length is a log level
        lv = c.int(2)
        n = {0: "LOGLEVEL_EMERG", 1: "LOGLEVEL_ALERT", 2: "LOGLEVEL_CRIT",
             3: "LOGLEVEL_ERR", 4: "LOGLEVEL_WARNING", 5: "LOGLEVEL_NOTICE", 6: "LOGLEVEL_INFO", 7: "LOGLEVEL_DEBUG", 8: "LOGLEVEL_DEBUG+1"}.get(lv)
        return [cmd, c.ptr(1), str(lv) if c.style == "raw" else f"{lv} /* {n or 'LOGLEVEL_???'} */"]
    return [cmd, c.ptr(1), c.d(2)]


def _kcmp_pid(c: C, i: int) -> int:
    """kcmp's pid argument as our namespace numbers it (the caller's own
    pid under --pidns-translation is its namespace's number)."""
    v = c.int(i)
    t = c.dec.pidns
    ours = t.ours(c.tid, v) if t is not None else None
    return v if ours is None else ours


def _kcmp_fd(c: C, i: int, pid: int) -> str:
    """An fd of process `pid` (strace's printfd_pid): the tracer named it at
    the stop when the process is the caller; another's is named from /proc."""
    if pid == c.dec._tgid or pid == c.tid or not c.dec._paths:
        return c.fd(i)
    return c.dec.fd_of(c.int(i), pid)


@syscall("kcmp")
def _kcmp(c: C):
    """The indexes by type: fds of each process for KCMP_FILE, an fd and a
    struct kcmp_epoll_slot for KCMP_EPOLL_TFD, none for the whole-resource
    types."""
    t = c.uint(2)
    out = [c.pid(0), c.pid(1), c.xval(2, "kcmp_types")]
    own = c.dec._tgid
    if t == 0:  # KCMP_FILE: fds of pid1 and pid2, named (-y) when that is the caller's
        return out + [_kcmp_fd(c, 3, _kcmp_pid(c, 0)), _kcmp_fd(c, 4, _kcmp_pid(c, 1))]
    if t == 7:  # KCMP_EPOLL_TFD: idx1 an fd of pid1, idx2 a struct kcmp_epoll_slot of pid2's fds
        v = c.m(4, 0)
        slot = c.ptr(4)
        if c.ulong(4) and isinstance(v, (bytes, bytearray)) and len(v) >= 12:
            efd, tfd, toff = struct.unpack_from("<iiI", v)
            mine = _kcmp_pid(c, 1) in (own, c.tid)
            slot = (f"{{efd={c.fd_in(4, 0, efd) if mine else efd}, tfd={c.fd_in(4, 4, tfd) if mine else tfd}, "
                    f"toff={toff}}}")
        return out + [_kcmp_fd(c, 3, _kcmp_pid(c, 0)), slot]
    if t in (1, 2, 3, 4, 5, 6):
        return out
    return out + [hexa(c.ulong(3)), hexa(c.ulong(4))]


@syscall("mount")
def _mount(c: C):
    """The magic MS_MGC_VAL apart; the type and data not read for the
    calls that ignore them (remount, bind, move, propagation changes)."""
    fl = c.ulong(3)
    magic = (fl & 0xFFFF0000) == 0xC0ED0000
    if magic:
        fl &= ~0xFFFF0000
    ignore_type = bool(fl & 32)  # MS_REMOUNT
    ignore_data = not ignore_type and bool(fl & (0x1000 | 0x2000 | 0x100000 | 0x40000 | 0x80000 | 0x20000))
    ignore_type = ignore_type or ignore_data
    flags = []
    if magic:
        flags.append({"raw": "0xc0ed0000", "verbose": "0xc0ed0000 /* MS_MGC_VAL */"}.get(c.style, "MS_MGC_VAL"))
    if fl or not magic:
        flags.append(c.fs("mount_flags").flags(fl, c.style))
    return [c.path(0), c.path(1), c.ptr(2) if ignore_type else c.cstr(2), "|".join(flags),
            c.ptr(4) if ignore_data else c.cstr(4)]


@syscall("kexec_file_load")
def _kexec_file_load(c: C):
    return [c.fd(0), c.fd(1), c.lu(2), c.buf(3, c.ulong(2), phase=0), c.flags(4, "kexec_file_flags", 64)]  # an unsigned long


@array("futex_waitv", 24, most=128)  # FUTEX_WAITV_MAX
def futex_waiter_text(c: C, b: bytes) -> str:
    """One waiter of futex_waitv: `{val=0x1, uaddr=0x..., flags=FUTEX_32}`,
    its reserved word only when set."""
    val, uaddr, flags, rsv = struct.unpack_from("<QQII", b)
    text = f"{{val={hexa(val)}, uaddr={hexa(uaddr) if uaddr else 'NULL'}, flags={c.fs('futex_waiter_flags').flags(flags, c.style)}"
    return text + (f", __reserved={hexa(rsv)}}}" if rsv else "}")


# --- quotactl, quotactl_fd: the command is QCMD(cmd, type); the id and the
# data argument by command (strace's quota.c) ---------------------------------
_Q_SYNC, _Q_QUOTAON, _Q_QUOTAOFF, _Q_GETFMT, _Q_GETINFO, _Q_SETINFO = 0x800001, 0x800002, 0x800003, 0x800004, 0x800005, 0x800006
_Q_GETQUOTA, _Q_SETQUOTA, _Q_GETNEXTQUOTA = 0x800007, 0x800008, 0x800009
_Q_XQUOTAON, _Q_XQUOTAOFF, _Q_XQUOTARM, _Q_XQUOTASYNC = 0x5801, 0x5802, 0x5806, 0x5807
_Q_XGETQUOTA, _Q_XSETQLIM, _Q_XGETQSTAT, _Q_XGETQSTATV, _Q_XGETNEXTQUOTA = 0x5803, 0x5804, 0x5805, 0x5808, 0x5809
_Q_AT_EXIT = frozenset({_Q_GETQUOTA, _Q_GETNEXTQUOTA, _Q_GETFMT, _Q_GETINFO, _Q_XGETQUOTA, _Q_XGETNEXTQUOTA,
                        _Q_XGETQSTAT, _Q_XGETQSTATV})
_Q_WITH_ID = frozenset({_Q_GETQUOTA, _Q_SETQUOTA, _Q_GETNEXTQUOTA, _Q_XGETQUOTA, _Q_XGETNEXTQUOTA, _Q_XSETQLIM})
_Q_NO_DATA = frozenset({_Q_SYNC, _Q_QUOTAOFF, _Q_XQUOTASYNC})


def _qcmd(c: C, v: int) -> str:
    """QCMD(Q_GETQUOTA, USRQUOTA); -X raw the number, -X verbose both."""
    if c.style == "raw":
        return str(v)
    text = f"QCMD({c.fs('quota_cmds').xval(v >> 8)}, {c.fs('quota_types').xval(v & 0xFF)})"
    return f"{v} /* {text} */" if c.style == "verbose" else text


def _dqblk(c: C, b: bytes, nxt: bool) -> str:
    """struct if_dqblk (if_nextdqblk: its id after): the limits and usage;
    the times and the valid mask only under -v."""
    v = struct.unpack_from("<8QI", b)
    names = ("dqb_bhardlimit", "dqb_bsoftlimit", "dqb_curspace", "dqb_ihardlimit", "dqb_isoftlimit", "dqb_curinodes")
    p = [f"{n}={x}" for n, x in zip(names, v)]
    if c.abbrev:
        if nxt:
            p.append(f"dqb_id={struct.unpack_from('<I', b, 68)[0]}")
        p.append("...")
    else:
        p += [f"dqb_btime={v[6]}", f"dqb_itime={v[7]}", f"dqb_valid={c.fs('if_dqblk_valid').flags(v[8], c.style)}"]
        if nxt:
            p.append(f"dqb_id={struct.unpack_from('<I', b, 68)[0]}")
    return "{" + ", ".join(p) + "}"


def _dqinfo(c: C, b: bytes) -> str:
    bgrace, igrace, flags, valid = struct.unpack_from("<QQII", b)
    return (f"{{dqi_bgrace={bgrace}, dqi_igrace={igrace}, dqi_flags={c.fs('if_dqinfo_flags').flags(flags, c.style)}, "
            f"dqi_valid={c.fs('if_dqinfo_valid').flags(valid, c.style)}}}")


def _quota_data(c: C, cmd: int, i: int) -> str:
    """The data argument: read at entry for the setters, at exit (when the
    call succeeded) for the getters; unreadable or short, the address."""
    if not c.ulong(i):
        return "NULL"
    exit_ = cmd in _Q_AT_EXIT
    if exit_ and not c.ok:
        return c.ptr(i)
    v = c.m(i, 1 if exit_ else 0)
    b = bytes(v) if isinstance(v, (bytes, bytearray)) else b""
    need = {_Q_GETQUOTA: 72, _Q_SETQUOTA: 72, _Q_GETNEXTQUOTA: 72, _Q_GETINFO: 24, _Q_SETINFO: 24,
            _Q_GETFMT: 4, _Q_XQUOTAON: 4, _Q_XQUOTAOFF: 4, _Q_XQUOTARM: 4,
            _Q_XGETQUOTA: _quota_xfs.DISK_QUOTA_SIZE, _Q_XGETNEXTQUOTA: _quota_xfs.DISK_QUOTA_SIZE,
            _Q_XSETQLIM: _quota_xfs.DISK_QUOTA_SIZE, _Q_XGETQSTAT: _quota_xfs.QUOTA_STAT_SIZE,
            _Q_XGETQSTATV: _quota_xfs.QUOTA_STATV_SIZE}.get(cmd)
    if need is None or len(b) < need:
        return c.ptr(i)
    if cmd in (_Q_GETQUOTA, _Q_SETQUOTA, _Q_GETNEXTQUOTA):
        return _dqblk(c, b, cmd == _Q_GETNEXTQUOTA)
    if cmd in (_Q_GETINFO, _Q_SETINFO):
        return _dqinfo(c, b)
    if cmd in (_Q_XGETQUOTA, _Q_XGETNEXTQUOTA, _Q_XSETQLIM):
        return _quota_xfs.disk_quota(c, b)
    if cmd in (_Q_XGETQSTAT, _Q_XGETQSTATV):
        return _quota_xfs.quota_stat(c, b, cmd == _Q_XGETQSTATV)
    w = struct.unpack_from("<I", b)[0]
    if cmd == _Q_GETFMT:
        return f"[{c.fs('quota_formats').xval(w, c.style)}]"
    return f"[{c.fs('xfs_dqblk_flags' if cmd == _Q_XQUOTARM else 'xfs_quota_flags').flags(w, c.style)}]"


def _quota_args(c: C, cmd: int, idi: int, datai: int) -> list:
    if cmd in _Q_NO_DATA:
        return []
    if cmd == _Q_QUOTAON:  # the format and the quota file's path
        return [c.fs("quota_formats").xval(c.uint(idi), c.style), _quota_path(c, datai)]
    if cmd in _Q_WITH_ID:
        return [c.id(idi), _quota_data(c, cmd, datai)]
    if cmd in (_Q_GETFMT, _Q_GETINFO, _Q_SETINFO, _Q_XQUOTAON, _Q_XQUOTAOFF, _Q_XQUOTARM, _Q_XGETQSTAT, _Q_XGETQSTATV):
        return [_quota_data(c, cmd, datai)]
    return [c.id(idi), c.ptr(datai)]


def _quota_path(c: C, i: int) -> str:
    """Q_QUOTAON's file name, out of the bytes read of the data argument."""
    if not c.ulong(i):
        return "NULL"
    v = c.m(i, 0)
    b = bytes(v) if isinstance(v, (bytes, bytearray)) else b""
    end = b.find(b"\0")
    return quote(b[:end]) if end >= 0 else c.ptr(i)


@syscall("quotactl")
def _quotactl(c: C):
    cmd = c.uint(0)
    return [_qcmd(c, cmd), c.path(1)] + _quota_args(c, cmd >> 8, 2, 3)


@syscall("quotactl_fd")
def _quotactl_fd(c: C):
    cmd = c.uint(1)
    return [c.fd(0), _qcmd(c, cmd)] + _quota_args(c, cmd >> 8, 2, 3)


@syscall("sethostname", "setdomainname")
def _sethostname(c: C):
    """A name longer than the kernel takes (__NEW_UTS_LEN, 64) prints as
    its address; the length is an unsigned int."""
    n = c.uint(1)
    return [c.ptr(0) if n > 64 else c.buf(0, n, phase=0), str(n)]


@register_struct("sysctl_args")
def sysctl_args_text(c: C, b: bytes, i: int) -> str:
    """struct __sysctl_args (the name array itself is not read: its address)."""
    name, nlen, old, oldlenp, new, newlen = struct.unpack_from("<QixxxxQQQQ", b)

    def p(v: int) -> str:
        return hexa(v) if v else "NULL"

    return (f"{{name={p(name)}, nlen={nlen}, oldval={p(old)}, oldlenp={p(oldlenp)}, newval={p(new)}, "
            f"newlen={newlen}}}")

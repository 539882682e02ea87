"""SysV IPC: shm, sem and msg keys, flags and commands."""

from __future__ import annotations

import struct

from ._core import C, array, o03, syscall
from ._fmt import hexa, quote_buf


def _key(c: C) -> str:
    """The key: IPC_PRIVATE by name, others in hex."""
    v = c.uint(0)
    return c.fs("ipc_private").xval(v, c.style)


def _flagword(c: C, setname: str, v: int) -> str | None:
    """printflags with no default: nothing for 0, unknown bits bare."""
    if not v:
        return None
    return c.fs(setname).flags(v, c.style)


def _ipcflags(c: C, v: int, setname: str = "ipc_flags") -> str:
    """The flags, then the permission bits: `IPC_CREAT|0600`, `000`."""
    fl = _flagword(c, setname, v & ~0o777)
    return (fl + "|" if fl else "") + o03(v & 0o777)


@syscall("shmget")
def _shmget(c: C):
    """shmget's flags: IPC_* and SHM_* bits, the huge page size, the mode."""
    v = c.uint(2)
    flags = v & ~0o777
    huge = flags & (0x3F << 26)
    flags &= ~(0x3F << 26)
    parts = []
    if flags or not huge:
        f = _flagword(c, "shm_resource_flags", flags)
        if f:
            parts.append(f)
    if huge:
        shift = {"raw": "26", "verbose": "26 /* SHM_HUGE_SHIFT */"}.get(c.style, "SHM_HUGE_SHIFT")
        parts.append(f"{huge >> 26}<<{shift}")
    parts.append(o03(v & 0o777))
    return [_key(c), c.lu(1), "|".join(parts)]


@syscall("semget")
def _semget(c: C):
    return [_key(c), c.d(1), _ipcflags(c, c.uint(2))]


@syscall("msgget")
def _msgget(c: C):
    return [_key(c), _ipcflags(c, c.uint(1))]


@array("sembuf", 6)
def sembuf_text(c: C, b: bytes) -> str:
    num, op, flg = struct.unpack_from("<Hhh", b)
    return f"{{sem_num={num}, sem_op={op}, sem_flg={c.fs('semop_flags').flags(flg & 0xFFFF, c.style)}}}"


# --- msgctl, shmctl, semctl: the command, then the buffer by command (read
# at entry for IPC_SET, at exit for the STAT and INFO commands); msgsnd and
# msgrcv's struct msgbuf ----------------------------------------------------------
_IPC_RMID, _IPC_SET, _IPC_STAT, _IPC_INFO, _IPC_64 = 0, 1, 2, 3, 0x100


def _ctl_cmd(c: C, i: int, setname: str) -> str:
    """The command: IPC_64 first when set (`IPC_64|IPC_STAT`)."""
    v = c.uint(i)
    text = c.fs(setname).xval(v & ~_IPC_64, c.style)
    if v & _IPC_64:
        return (hexa(_IPC_64) if c.style == "raw" else
                "0x100 /* IPC_64 */" if c.style == "verbose" else "IPC_64") + "|" + text
    return text


def _perm(c: C, b: bytes, full: bool) -> str:
    """struct ipc64_perm: uid, gid, mode; with key, cuid, cgid for STAT."""
    key, uid, gid, cuid, cgid, mode = struct.unpack_from("<iIIIIH", b)

    def ident(v: int) -> str:
        return "-1" if v == 0xFFFFFFFF else str(v)

    p = [f"uid={ident(uid)}", f"gid={ident(gid)}", f"mode={o03(mode)}"]
    if full:
        p += [f"key={key & 0xFFFFFFFF}", f"cuid={ident(cuid)}", f"cgid={ident(cgid)}"]
    return "{" + ", ".join(p) + "}"


def _ctl_buf(c: C, i: int, cmd: int, set_cmds: tuple, stat_cmds: tuple, info_cmds: tuple, printers: dict) -> str:
    if cmd in set_cmds:
        phase = 0
    elif cmd in stat_cmds or cmd in info_cmds:
        phase = 1
        if not c.ok:
            return c.ptr(i)
    else:
        return c.ptr(i)
    if not c.ulong(i) or c.pers == 1:
        return c.ptr(i)
    v = c.m(i, phase)
    b = bytes(v) if isinstance(v, (bytes, bytearray)) else b""
    kind = "set" if cmd in set_cmds else "stat" if cmd in stat_cmds else "info"
    size, fn = printers[kind] if kind != "info" else printers[(kind, cmd)]
    if len(b) < size:
        return c.ptr(i)
    return fn(c, b)


def _msqid(c: C, b: bytes, full: bool) -> str:
    stime, rtime, ctime, _cbytes, qnum, qbytes, lspid, lrpid = struct.unpack_from("<qqqQQQii", b, 48)
    if not full:
        return f"{{msg_perm={_perm(c, b, False)}, msg_qbytes={qbytes}}}"
    return (f"{{msg_perm={_perm(c, b, True)}, msg_stime={stime}, msg_rtime={rtime}, msg_ctime={ctime}, "
            f"msg_qnum={qnum}, msg_qbytes={qbytes}, msg_lspid={lspid}, msg_lrpid={lrpid}}}")


def _numbers(b: bytes, fmt: str, names: tuple, off: int = 0) -> str:
    """`{name=value, ...}`: a struct of plain numbers (the INFO structs)."""
    return ", ".join(f"{n}={x}" for n, x in zip(names, struct.unpack_from(fmt, b, off)))


def _msginfo(c: C, b: bytes) -> str:
    names = ("msgpool", "msgmap", "msgmax", "msgmnb", "msgmni", "msgssz", "msgtql", "msgseg")
    return "{" + _numbers(b, "<7iH", names) + "}"


_MSG_PRINTERS = {"set": (120, lambda c, b: _msqid(c, b, False)), "stat": (120, lambda c, b: _msqid(c, b, True)),
                 ("info", 3): (32, _msginfo), ("info", 12): (32, _msginfo)}


def _ctl(c: C, k: int, setname: str, stat: tuple, info: tuple, printers: dict) -> list:
    """msgctl/shmctl/semctl: the ids before the command at k, the command,
    the buffer after it."""
    cmd = c.uint(k) & ~_IPC_64
    return [c.d(j) for j in range(k)] + [_ctl_cmd(c, k, setname),
                                         _ctl_buf(c, k + 1, cmd, (_IPC_SET,), stat, info, printers)]


@syscall("msgctl")
def _msgctl(c: C):
    return _ctl(c, 1, "msgctl_cmds", (_IPC_STAT, 11, 13), (_IPC_INFO, 12), _MSG_PRINTERS)


def _shmid(c: C, b: bytes, full: bool) -> str:
    segsz, atime, dtime, ctime, cpid, lpid, nattch = struct.unpack_from("<QqqqiiQ", b, 48)
    if not full:
        return f"{{shm_perm={_perm(c, b, False)}}}"
    return (f"{{shm_perm={_perm(c, b, True)}, shm_segsz={segsz}, shm_cpid={cpid}, shm_lpid={lpid}, "
            f"shm_nattch={nattch}, shm_atime={atime}, shm_dtime={dtime}, shm_ctime={ctime}}}")


def _shminfo(c: C, b: bytes) -> str:
    return "{" + _numbers(b, "<5Q", ("shmmax", "shmmin", "shmmni", "shmseg", "shmall")) + "}"


def _shm_info(c: C, b: bytes) -> str:
    names = ("shm_tot", "shm_rss", "shm_swp", "swap_attempts", "swap_successes")
    return "{" + _numbers(b, "<i", ("used_ids",)) + ", " + _numbers(b, "<5Q", names, 8) + "}"


_SHM_PRINTERS = {"set": (112, lambda c, b: _shmid(c, b, False)), "stat": (112, lambda c, b: _shmid(c, b, True)),
                 ("info", 3): (40, _shminfo), ("info", 14): (48, _shm_info)}


@syscall("shmctl")
def _shmctl(c: C):
    return _ctl(c, 1, "shmctl_cmds", (_IPC_STAT, 13, 15), (_IPC_INFO, 14), _SHM_PRINTERS)


def _semid(c: C, b: bytes, full: bool) -> str:
    otime, _u1, ctime, _u2, nsems = struct.unpack_from("<qQqQQ", b, 48)
    if not full:
        return f"{{sem_perm={_perm(c, b, False)}}}"
    return f"{{sem_perm={_perm(c, b, True)}, sem_otime={otime}, sem_ctime={ctime}, sem_nsems={nsems}}}"


def _seminfo(c: C, b: bytes) -> str:
    names = ("semmap", "semmni", "semmns", "semmnu", "semmsl", "semopm", "semume", "semusz", "semvmx", "semaem")
    return "{" + _numbers(b, "<10i", names) + "}"


_SEM_PRINTERS = {"set": (88, lambda c, b: _semid(c, b, False)), "stat": (88, lambda c, b: _semid(c, b, True)),
                 ("info", 3): (40, _seminfo), ("info", 19): (40, _seminfo)}


@syscall("semctl")
def _semctl(c: C):
    return _ctl(c, 2, "semctl_cmds", (_IPC_STAT, 18, 20), (_IPC_INFO, 19), _SEM_PRINTERS)


def _msgbuf(c: C, i: int, count: int, phase: int) -> str:
    """struct msgbuf: mtype, then count bytes of mtext as a string (strace
    reads the struct's 16 bytes first: fewer, the address)."""
    if not c.ulong(i) or c.pers == 1:
        return c.ptr(i)
    v = c.m(i, phase)
    b = bytes(v) if isinstance(v, (bytes, bytearray)) else b""
    if len(b) < 16:
        return c.ptr(i)
    text = b[8:]
    want = min(count, c.opts.strsize + 1)
    mtext = quote_buf(text, count, c.opts.strsize, c.opts.xflag) if len(text) >= want else hexa(c.ulong(i) + 8)
    return f"{{mtype={struct.unpack_from('<q', b)[0]}, mtext={mtext}}}"


@syscall("msgsnd")
def _msgsnd(c: C):
    return [c.d(0), _msgbuf(c, 1, c.ulong(2), 0), c.lu(2), c.flags(3, "ipc_msg_flags")]


@syscall("msgrcv")
def _msgrcv(c: C):
    buf = _msgbuf(c, 1, c.ulong(2), 1) if c.ok else c.ptr(1)
    return [c.d(0), buf, c.lu(2), c.ld(3), c.flags(4, "ipc_msg_flags")]

"""SysV IPC: shm, sem and msg keys, flags and commands."""

from __future__ import annotations

import struct

from ._core import C, array, o03, syscall
from ._fmt import hexa


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

"""SysV IPC: shm, sem and msg keys, flags and commands."""

from __future__ import annotations

from ._core import C, syscall
from ._fmt import hexa


@syscall("shmget")
def _shmget(c: C):
    key = c.int(0)
    return ["IPC_PRIVATE" if key == 0 else hexa(c.uint(0)), c.lu(1), _ipcflags(c, c.uint(2))]


def _ipcflags(c: C, v: int) -> str:
    fl = v & ~0o777
    parts = [c.fs("ipc_flags").flags(fl)] if fl else []
    parts.append(f"0{v & 0o777:o}" if v & 0o777 else "0")
    return "|".join(parts)


@syscall("semget")
def _semget(c: C):
    key = c.int(0)
    return ["IPC_PRIVATE" if key == 0 else hexa(c.uint(0)), c.d(1), _ipcflags(c, c.uint(2))]


@syscall("msgget")
def _msgget(c: C):
    key = c.int(0)
    return ["IPC_PRIVATE" if key == 0 else hexa(c.uint(0)), _ipcflags(c, c.uint(1))]



"""Who is connected, and what they may trace.

Peers are identified by SO_PEERCRED and SO_PEERGROUPS. Whether a non-root user
may trace a pid is decided by the kernel, not by us: a short-lived helper
process takes the user's uid, gid and groups (subprocess does setgroups,
setgid, setuid between fork and exec, so no capability survives) and opens
/proc/PID/mem, which the kernel allows only after ptrace_may_access(
PTRACE_MODE_ATTACH_FSCREDS) - uids, gids, dumpable, capability subset, Yama,
LSMs: everything PTRACE_SEIZE would check. The daemon and its workers never
do that check with their own privileges.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
from dataclasses import dataclass

import trio

SO_PEERGROUPS = 59  # include/uapi/asm-generic/socket.h; Python 3.11 lacks it
_UCRED = struct.Struct("=iII")  # struct ucred: pid, uid, gid


@dataclass(frozen=True)
class Peer:
    pid: int
    uid: int
    gid: int
    groups: tuple[int, ...]

    @property
    def is_root(self) -> bool:
        return self.uid == 0


def peer_of(sock) -> Peer:
    pid, uid, gid = _UCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size))
    groups: tuple[int, ...] = ()
    size = 64 * 4
    while True:
        try:
            raw = sock.getsockopt(socket.SOL_SOCKET, SO_PEERGROUPS, size)
            break
        except OSError as exc:
            if exc.errno == 34 and size < 65536 * 4:  # ERANGE: more groups than room
                size *= 4
                continue
            raise
    groups = tuple(struct.unpack(f"={len(raw) // 4}I", raw[: len(raw) // 4 * 4]))
    return Peer(pid, uid, gid, groups)


# The helper: a shell that opens the target's mem file as the user (dash exits
# 2 when a redirection of `exec` fails). /bin/sh, not our interpreter: it is
# executable by every user wherever this daemon's Python lives.
_CHECK = ["/bin/sh", "-c", 'exec 3<"$1"', "sh"]


def _check_sync(peer: Peer, pid: int) -> int:
    """0 if `peer` may ptrace `pid`, else non-zero (the kernel said no)."""
    if os.geteuid() == 0:
        creds = {"user": peer.uid, "group": peer.gid, "extra_groups": list(peer.groups)}
    elif peer.uid == os.geteuid():
        creds = {}  # an unprivileged daemon serving its own user: as we are
    else:
        return 1  # an unprivileged daemon cannot take another user's credentials
    r = subprocess.run(
        [*_CHECK, f"/proc/{pid}/mem"],
        **creds,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
        cwd="/",
        env={"PATH": "/usr/bin:/bin"},
    )
    return r.returncode


async def may_ptrace(peer: Peer, pid: int) -> int:
    """0 when the kernel would let `peer` ptrace `pid`; else an errno."""
    if peer.is_root:
        return 0
    return await trio.to_thread.run_sync(_check_sync, peer, pid)


def owner_uid(pid: int) -> int | None:
    """The real uid of `pid` (for refusal messages), None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def pidfd_pid(pidfd: int) -> int | None:
    """The pid a pidfd refers to (from /proc/self/fdinfo), None if not a pidfd
    or the process is gone (-1)."""
    try:
        with open(f"/proc/self/fdinfo/{pidfd}") as f:
            for line in f:
                if line.startswith("Pid:"):
                    v = int(line.split()[1])
                    return v if v > 0 else None
    except OSError:
        return None
    return None

"""Who is connected, and facts about pids for refusal messages.

Peers are identified by SO_PEERCRED and SO_PEERGROUPS. Whether a non-root user
may trace a pid is not decided here: the session's worker seizes under the
owner's credentials (tracerd.native's `creds`), so the kernel's own ptrace
rules decide, and they keep deciding for every later exec of the tracee.
"""

from __future__ import annotations

import fcntl
import functools
import os
import socket
import struct
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


def pidfd_ids(pidfd: int) -> list[int]:
    """The process's pid in each pid namespace from ours down to its own
    (fdinfo's NSpid: a client in a container names its command by the last
    one); [] if not a pidfd or the process is gone."""
    try:
        with open(f"/proc/self/fdinfo/{pidfd}") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    ids = [int(v) for v in line.split()[1:]]
                    return ids if ids and ids[0] > 0 else []
    except (OSError, ValueError):
        return []
    return []


SO_PEERPIDFD = 77  # include/uapi/asm-generic/socket.h (6.5); Python lacks it
NS_GET_PARENT = 0xB702  # linux/nsfs.h: _IO(0xb7, 0x2)


def _status_ids(pid) -> list[int]:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return [int(v) for v in line.split()[1:]]
    except (OSError, ValueError):
        pass
    return []


@functools.cache
def proc_level() -> int:
    """Where our pid namespace is on /proc's NSpid lines: 0 when /proc is
    ours (a daemon in a container sharing its host's /proc: deeper)."""
    return max(len(_status_ids("self")) - 1, 0)


def peer_ids(sock, peer: Peer) -> list[int]:
    """The connected client's pid in each pid namespace from /proc's down to
    its own (its pidfd's NSpid, SO_PEERPIDFD; before 6.5, /proc/PID/status
    of SO_PEERCRED's pid); [] when it cannot be told (a client whose pid
    namespace is not below ours: SO_PEERCRED's pid is 0)."""
    try:
        pfd = sock.getsockopt(socket.SOL_SOCKET, SO_PEERPIDFD)
    except OSError:
        pfd = -1
    if pfd >= 0:
        try:
            return pidfd_ids(pfd)
        finally:
            os.close(pfd)
    return _status_ids(peer.pid) if peer.pid > 0 and proc_level() == 0 else []


def pid_ns_above(pidfd_pid: int, up: int, peer_pid: int) -> bool:
    """Whether the pid namespace `up` levels above the one of process
    `pidfd_pid` (/proc's number) is the one process `peer_pid` (/proc's
    number) lives in: a client names a command of its own namespace or one
    below it, not of another namespace where its number means another
    process."""
    try:
        want = os.stat(f"/proc/{peer_pid}/ns/pid")
        fd = os.open(f"/proc/{pidfd_pid}/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        for _ in range(up):
            parent = fcntl.ioctl(fd, NS_GET_PARENT)
            os.close(fd)
            fd = parent
        st = os.fstat(fd)
        return (st.st_dev, st.st_ino) == (want.st_dev, want.st_ino)
    except OSError:
        return False
    finally:
        os.close(fd)


def pidns_id(pid: int) -> tuple[int, int] | None:
    """The pid namespace process `pid` (/proc's number) lives in, as
    (st_dev, st_ino) of /proc/PID/ns/pid; None if it is gone."""
    try:
        st = os.stat(f"/proc/{pid}/ns/pid")
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def find_in_pidns(pid: int, at: int, peer_pid: int) -> list[int]:
    """The process a client numbers `pid` (a thread-group leader): the one
    whose id at level `at` of /proc's NSpid lines is `pid` and whose pid
    namespace at that level is the client's (process `peer_pid`, /proc's
    number); its ids (/proc's namespace first), [] when there is none. A
    scan of /proc: only for a client in a pid namespace of its own."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        ids = _status_ids(name)
        if len(ids) > at and ids[at] == pid and pid_ns_above(ids[0], len(ids) - 1 - at, peer_pid):
            return ids
    return []


def tracer_of(pid: int) -> int:
    """The TracerPid of `pid` (0: none, or the pid is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def start_time(pid: int) -> int | None:
    """The start time of `pid` in clock ticks (/proc/PID/stat field 22): with
    the pid, it names one process across pid reuse. None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
        return int(data[data.rindex(b")") + 2 :].split()[19])
    except (OSError, ValueError, IndexError):
        return None


async def wait_exit(pid: int, proc=None) -> None:
    """Until process `pid` exits (a pidfd: works for a predecessor's worker,
    which is not our child); reaps it if it is."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        pidfd = None
    if pidfd is not None:
        try:
            await trio.lowlevel.wait_readable(pidfd)
        finally:
            os.close(pidfd)
    if proc is not None:
        proc.wait()

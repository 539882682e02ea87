"""The proc connector: the kernel's fork/exec/exit events over netlink, for
standing rules where the exec catcher cannot work (Linux before 6.8, where
a seize at the main file's fanotify event would deadlock on
cred_guard_mutex), or where `[catcher] method = "proc-connector"` asks.

It holds nothing: an exec is reported after it happened, so a process is
attached some time after its new image started (its first instructions are
not guaranteed to be traced). Struct layouts: linux/netlink.h,
linux/connector.h, linux/cn_proc.h; Python's socket module has the netlink
family but none of these constants, so they are written out here.
"""

from __future__ import annotations

import errno
import os
import socket
import struct

import trio

NETLINK_CONNECTOR = 11
CN_IDX_PROC = 1
CN_VAL_PROC = 1
NLMSG_DONE = 3
PROC_CN_MCAST_LISTEN = 1
PROC_EVENT_EXEC = 0x00000002

NLMSGHDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
CN_MSG = struct.Struct("=IIIIHH")  # id.idx, id.val, seq, ack, len, flags
PROC_EVENT = struct.Struct("=IIQ")  # what, cpu, timestamp_ns
EXEC_EVENT = struct.Struct("=II")  # process_pid, process_tgid


def listen_message() -> bytes:
    op = struct.pack("=I", PROC_CN_MCAST_LISTEN)
    cn = CN_MSG.pack(CN_IDX_PROC, CN_VAL_PROC, 0, 0, len(op), 0) + op
    return NLMSGHDR.pack(NLMSGHDR.size + len(cn), NLMSG_DONE, 0, 0, os.getpid()) + cn


def exec_pids(data: bytes) -> list[int]:
    """The thread-group ids of the exec events in one datagram (sans-I/O)."""
    out = []
    off = 0
    while off + NLMSGHDR.size <= len(data):
        length = NLMSGHDR.unpack_from(data, off)[0]
        if length < NLMSGHDR.size or off + length > len(data):
            break
        body = off + NLMSGHDR.size
        if length >= NLMSGHDR.size + CN_MSG.size + PROC_EVENT.size + EXEC_EVENT.size:
            idx, val = CN_MSG.unpack_from(data, body)[:2]
            ev = body + CN_MSG.size
            if (idx, val) == (CN_IDX_PROC, CN_VAL_PROC) and PROC_EVENT.unpack_from(data, ev)[0] == PROC_EVENT_EXEC:
                pid, tgid = EXEC_EVENT.unpack_from(data, ev + PROC_EVENT.size)
                if pid == tgid:
                    out.append(tgid)
        off += (length + 3) & ~3
    return out


def open_listener() -> trio.socket.SocketType:
    """Bound to the proc connector's group and subscribed; OSError when
    the kernel or our rights do not allow it (CONFIG_PROC_EVENTS, and
    CAP_NET_ADMIN before Linux 6.6)."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC, NETLINK_CONNECTOR)
    try:
        s.bind((0, CN_IDX_PROC))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)  # bursts of execs
        s.send(listen_message())
        s.setblocking(False)
    except OSError:
        s.close()
        raise
    return trio.socket.from_stdlib_socket(s)


async def exec_events(sock: trio.socket.SocketType):
    """Yields the tgid of each exec, as the kernel reports them. An
    overflowed receive buffer (ENOBUFS) loses events: counted, not fatal."""
    while True:
        try:
            data = await sock.recv(65536)
        except OSError as exc:
            if exc.errno == errno.ENOBUFS:  # the kernel dropped events
                yield -1
                continue
            raise
        for pid in exec_pids(data):
            yield pid

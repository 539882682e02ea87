"""-yy: what a socket inode is, from /proc/net (as strace's `TCP:[a:p->b:q]`)."""

from __future__ import annotations

import os
import socket
import struct

from ._core import proc_pid


def _addr4(h: str) -> str:
    a, p = h.split(":")
    return f"{socket.inet_ntop(socket.AF_INET, struct.pack('<I', int(a, 16)))}:{int(p, 16)}"


def _addr6(h: str) -> str:
    a, p = h.split(":")
    raw = bytes.fromhex(a)
    raw = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return f"[{socket.inet_ntop(socket.AF_INET6, raw)}]:{int(p, 16)}"


def _inet(inode: int, proto: str, v6: bool, net: str) -> str | None:
    try:
        with open(f"{net}/{proto}{'6' if v6 else ''}") as f:
            next(f)
            for line in f:
                p = line.split()
                if len(p) > 9 and p[9] == str(inode):
                    conv = _addr6 if v6 else _addr4
                    local, remote = conv(p[1]), conv(p[2])
                    name = proto.upper() + ("v6" if v6 else "")
                    if remote.endswith(":0") and (remote.startswith("0.0.0.0") or remote.startswith("[::]")):
                        return f"{name}:[{local}]"
                    return f"{name}:[{local}->{remote}]"
    except OSError:
        return None
    return None


_UNIX_TYPES = {1: "STREAM", 2: "DGRAM", 5: "SEQPACKET"}


def _unix(inode: int, net: str) -> str | None:
    try:
        with open(f"{net}/unix") as f:
            next(f)
            for line in f:
                p = line.split()
                if len(p) >= 7 and p[6] == str(inode):
                    kind = _UNIX_TYPES.get(int(p[4], 16), "UNKNOWN")
                    path = p[7] if len(p) > 7 else ""
                    return f"UNIX-{kind}:[{inode}" + (f',"{path}"' if path else "") + "]"
    except OSError:
        return None
    return None


def _protoname(tid: int | None, fd: int | None) -> str | None:
    if tid is None or fd is None:
        return None
    try:
        return os.getxattr(f"/proc/{proc_pid(tid)}/fd/{fd}", "system.sockprotoname").rstrip(b"\0").decode()
    except OSError:
        return None


def describe(inode: int, tid: int | None = None, fd: int | None = None) -> str | None:
    """The socket's protocol and addresses, read in the tracee's network
    namespace (/proc/TID/net) when the task is still there."""
    net = f"/proc/{proc_pid(tid)}/net" if tid else "/proc/net"
    for proto in ("tcp", "udp"):
        for v6 in (False, True):
            r = _inet(inode, proto, v6, net)
            if r:
                return r
    r = _unix(inode, net)
    if r:
        return r
    # not bound or connected yet: the protocol's name, as strace prints it
    proto = _protoname(tid, fd)
    return f"{proto}:[{inode}]" if proto else None

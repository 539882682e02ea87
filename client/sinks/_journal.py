"""journal:[PATH]: journald's native protocol.

One datagram per entry on /run/systemd/journal/socket: `KEY=value\\n` per
field, or `KEY\\n` + 64-bit little-endian length + value + `\\n` for a value
holding a newline. An entry too big for a datagram goes in a sealed memfd
passed as SCM_RIGHTS with an empty datagram (journald reads it from there).
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct

from ._transport import Transport

_U64 = struct.Struct("<Q")
_SEALS = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL


def _field(key: bytes, value) -> bytes:
    v = value if isinstance(value, bytes) else str(value).encode("utf-8", "backslashreplace")
    if b"\n" in v:
        return key + b"\n" + _U64.pack(len(v)) + v + b"\n"
    return key + b"=" + v + b"\n"


def entry(ev: dict, *, severity: int = 6, failed_severity: int | None = None, facility: int = 1) -> bytes:
    sev = failed_severity if (ev.get("err") and failed_severity is not None) else severity
    f = [
        (b"MESSAGE", ev.get("line", "")),
        (b"PRIORITY", sev),
        (b"SYSLOG_FACILITY", facility),
        (b"SYSLOG_IDENTIFIER", "tracerd"),
        (b"TRACERD_SESSION", ev["session"]),
        (b"TRACERD_SEQ", ev["seq"]),
        (b"TRACERD_TYPE", ev.get("type", "")),
        (b"TRACERD_HOST", ev.get("host", "")),
        (b"TRACERD_TID", ev.get("tid", 0)),
        (b"TRACERD_MSGID", ev.get("msgid", "")),
    ]
    if ev.get("pid"):
        f.append((b"OBJECT_PID", ev["pid"]))
        f.append((b"TRACERD_PID", ev["pid"]))
    for k in ("uid", "comm", "exe", "rule"):
        if ev.get(k) not in (None, ""):
            f.append((b"TRACERD_" + k.upper().encode(), ev[k]))
    j = ev.get("json") or {}
    if ev.get("type") in ("syscall", "syscall_exit") and j.get("retval") is not None:
        f.append((b"TRACERD_RETVAL", j["retval"]))
    if j.get("errno"):
        f.append((b"TRACERD_ERRNO", j["errno"]))
    if ev.get("lost"):
        n, first, last = ev["lost"]
        f += [(b"TRACERD_LOST_COUNT", n), (b"TRACERD_LOST_FIRST", first), (b"TRACERD_LOST_LAST", last)]
    f.append((b"TRACERD_TS", ev.get("ts", 0)))
    return b"".join(_field(k, v) for k, v in f)


class Journal(Transport):
    def __init__(self, spec, fds):
        super().__init__(spec, fds)
        self.kw = {"severity": spec.opt("severity"), "failed_severity": spec.opt("failed_severity"), "facility": spec.opt("facility")}
        self.memfd_above = spec.opt("memfd_bytes")

    def connect(self) -> None:
        fd = self.fds.get("target")
        if fd is not None:
            self.sock = socket.socket(fileno=os.dup(fd))
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self.sock.connect(self.spec.target)
        self.sock.settimeout(None)

    def _memfd(self, data: bytes) -> None:
        fd = os.memfd_create("tracerd-journal", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        try:
            os.write(fd, data)
            fcntl.fcntl(fd, fcntl.F_ADD_SEALS, _SEALS)
            self.sock.sendmsg([], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", fd))])
        finally:
            os.close(fd)

    def send(self, events: list[dict]) -> None:
        for ev in events:
            data = entry(ev, **self.kw)
            if len(data) > self.memfd_above:
                self._memfd(data)
                continue
            try:
                self.sock.send(data)
            except OSError as exc:
                if exc.errno != 90:  # EMSGSIZE: too big for a datagram
                    raise
                self._memfd(data)

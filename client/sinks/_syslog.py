"""RFC 5424 messages, and the syslog transports: TCP and TLS (octet-counted
framing, RFC 6587 / RFC 5425), UDP, unix datagrams, RELP.

RELP is written here by hand: no maintained Python RELP library exists (the
protocol is small: numbered commands, each answered by `rsp`), and RELP is
the one syslog transport whose receiver acknowledges every message.
"""

from __future__ import annotations

import datetime
import os
import socket
import ssl

from ._transport import Partial, Transport

APP = "tracerd"
_SD_ESCAPE = str.maketrans({'"': '\\"', "\\": "\\\\", "]": "\\]"})


def _sd(v) -> str:
    return str(v).translate(_SD_ESCAPE)


def _ascii_token(s: str, limit: int) -> str:
    out = "".join(c if 33 <= ord(c) <= 126 else "_" for c in s)[:limit]
    return out or "-"


def _timestamp(ns: int) -> str:
    dt = datetime.datetime.fromtimestamp(ns // 1_000_000_000, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{(ns % 1_000_000_000) // 1000:06d}Z"


def format_5424(ev: dict, *, enterprise: int = 32473, facility: int = 1, severity: int = 6, failed_severity: int | None = None) -> bytes:
    """One RFC 5424 message (no framing)."""
    sev = failed_severity if (ev.get("err") and failed_severity is not None) else severity
    pri = facility * 8 + sev
    params = [("session", ev["session"]), ("seq", ev["seq"]), ("tid", ev.get("tid", 0))]
    if ev.get("uid") is not None:
        params.append(("uid", ev["uid"]))
    params += [("comm", ev.get("comm", "")), ("exe", ev.get("exe", "")), ("rule", ev.get("rule", "")), ("type", ev.get("type", ""))]
    j = ev.get("json") or {}
    if j.get("errno"):
        params.append(("errno", j["errno"]))
    if ev.get("lost"):
        n, first, last = ev["lost"]
        params += [("count", n), ("first", first), ("last", last)]
    sd = f"[{APP}@{enterprise} " + " ".join(f'{k}="{_sd(v)}"' for k, v in params) + "]"
    pid = ev.get("pid") or 0
    head = f"<{pri}>1 {_timestamp(ev['ts'])} {_ascii_token(ev.get('host', '-'), 255)} {APP} {pid if pid else '-'} {_ascii_token(ev.get('msgid', '-'), 32)} {sd} "
    return head.encode() + ev.get("line", "").encode("utf-8", "backslashreplace")


class _Syslog(Transport):
    def __init__(self, spec, fds):
        super().__init__(spec, fds)
        self.fmt_kw = {"enterprise": spec.opt("enterprise"), "facility": spec.opt("facility"), "severity": spec.opt("severity"), "failed_severity": spec.opt("failed_severity")}

    def message(self, ev: dict) -> bytes:
        return format_5424(ev, **self.fmt_kw)


class TcpSyslog(_Syslog):
    """syslog+tcp://: octet counting (RFC 6587 3.4.1): `LEN SP MSG`."""

    def _open(self) -> socket.socket:
        host, port = self.spec.target
        return socket.create_connection((host, port), timeout=self.timeout)

    def connect(self) -> None:
        self.sock = self._open()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, events: list[dict]) -> None:
        parts = []
        for ev in events:
            m = self.message(ev)
            parts.append(b"%d " % len(m) + m)
        self.sock.sendall(b"".join(parts))


class TlsSyslog(TcpSyslog):
    """syslog+tls:// (RFC 5425): the same framing inside TLS. The CA, and the
    client's certificate and key, come as paths, or as fds a client opened
    (read through /proc/self/fd: the process never opens the user's paths)."""

    def _file(self, key: str):
        fd = self.fds.get(key)
        if fd is not None:
            return f"/proc/self/fd/{fd}"
        return self.spec.opt(key)

    def __init__(self, spec, fds):
        super().__init__(spec, fds)
        # built at once: the sink process may give up its uid right after
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ca = self._file("ca")
        if ca:
            ctx.load_verify_locations(cafile=ca)
        else:
            ctx.load_default_certs()
        cert = self._file("cert")
        if cert:
            ctx.load_cert_chain(cert, self._file("key"))
        self.ctx = ctx

    def connect(self) -> None:
        ctx = self.ctx
        raw = self._open()
        host = self.spec.opt("server_name") or self.spec.target[0]
        self.sock = ctx.wrap_socket(raw, server_hostname=host)

    def close(self) -> None:
        sock = self.sock
        if sock is not None:
            try:
                sock.settimeout(0.5)
                self.sock = sock.unwrap()  # close_notify: the receiver sees a clean end
            except (OSError, ValueError):
                pass
        super().close()


class UdpSyslog(_Syslog):
    """syslog+udp://: one message per datagram (RFC 5426): lossy by nature."""

    def connect(self) -> None:
        host, port = self.spec.target
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.connect((host, port))

    def send(self, events: list[dict]) -> None:
        for ev in events:
            self.sock.send(self.message(ev)[:65000])


class UnixSyslog(_Syslog):
    """syslog+unix:///dev/log: one message per unix datagram. A datagram
    socket to a live receiver blocks when its queue is full: no loss while
    the receiver lives."""

    def connect(self) -> None:
        fd = self.fds.get("target")
        if fd is not None:
            self.sock = socket.socket(fileno=os.dup(fd))
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.sock.connect(self.spec.target)
        self.sock.settimeout(None)

    def send(self, events: list[dict]) -> None:
        for ev in events:
            self.sock.send(self.message(ev))


class RelpSyslog(_Syslog):
    """syslog+relp://: RELP (rsyslog's Reliable Event Logging Protocol).
    Frames: `TXNR SP COMMAND SP DATALEN [SP DATA] LF`. We open a session,
    send up to a window of `syslog` commands and release each message only
    when its `rsp 200` came back."""

    acked = True
    OFFER = b"relp_version=0\nrelp_software=tracerd\ncommands=syslog"

    def connect(self) -> None:
        host, port = self.spec.target
        self.sock = socket.create_connection((host, port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.txnr = 1
        self._cmd(b"open", self.OFFER)
        txnr, code, _ = self._response()
        if txnr != 1 or code != 200:
            raise OSError(f"RELP open refused ({code})")
        self.txnr = 2

    def _cmd(self, cmd: bytes, data: bytes) -> None:
        self.sock.sendall(self._frame(cmd, data))

    def _frame(self, cmd: bytes, data: bytes) -> bytes:
        return b"%d %s %d" % (self.txnr, cmd, len(data)) + ((b" " + data) if data else b"") + b"\n"

    def _read_frame(self) -> tuple[int, bytes, bytes]:
        while True:
            parts = self.buf.split(b" ", 3)
            if len(parts) >= 3 and parts[2].split(b"\n", 1)[0].isdigit():
                txnr, cmd = int(parts[0]), parts[1]
                lenfield = parts[2].split(b"\n", 1)[0]
                n = int(lenfield)
                start = len(parts[0]) + len(parts[1]) + len(lenfield) + 2
                if n == 0:
                    end = start + 1  # LF
                    if len(self.buf) >= end:
                        self.buf = self.buf[end:]
                        return txnr, cmd, b""
                else:
                    end = start + 1 + n + 1  # SP DATA LF
                    if len(self.buf) >= end:
                        data = self.buf[start + 1 : start + 1 + n]
                        self.buf = self.buf[end:]
                        return txnr, cmd, data
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("RELP server closed the connection")
            self.buf += chunk

    def _response(self) -> tuple[int, int, bytes]:
        while True:
            txnr, cmd, data = self._read_frame()
            if cmd == b"serverclose":
                raise ConnectionResetError("RELP server closed the session")
            if cmd != b"rsp":
                continue
            code = int(data[:3]) if data[:3].isdigit() else 0
            return txnr, code, data

    def send(self, events: list[dict]) -> None:
        out = []
        for ev in events:
            out.append(self._frame(b"syslog", self.message(ev)))
            self.txnr = self.txnr + 1 if self.txnr < 999_999_999 else 1
        self.sock.sendall(b"".join(out))
        acked = 0
        try:
            while acked < len(events):
                txnr, code, data = self._response()
                if code != 200:
                    raise OSError(f"RELP server refused message {txnr}: {data[:80]!r}")
                acked += 1  # rsyslog answers in order
        except OSError:
            raise Partial(acked) from None

    def close(self) -> None:
        sock = getattr(self, "sock", None)
        if sock is not None:
            try:
                sock.settimeout(0.5)
                sock.sendall(self._frame(b"close", b""))
                self._response()  # `rsp` to close, then the server's serverclose
            except OSError:
                pass
        super().close()

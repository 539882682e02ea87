"""The sink process: reads units from its stdin pipe, decodes the frames
(tracerd.client.decode), queues or spools the events, and a sender thread
delivers them through the transport, reconnecting with backoff.

Started by `open_sink` as `python -m tracerd.client.sinks`; its first unit
is `C` (the configuration: the spec, the spool directory, the fds it was
given, the uid to become).
"""

from __future__ import annotations

import os
import signal
import ssl
import struct
import sys
import threading
import time

import msgpack

from tracerd import _wire

from ._core import make_queue
from ._event import HOST, SessionFormatter
from ._transport import Partial
from ._url import spec_from_dict

UNIT = struct.Struct("<cI")
MAX_UNIT = 8 << 20


def encode_unit(kind: bytes, body: bytes) -> bytes:
    return UNIT.pack(kind, len(body)) + body


def transport_for(spec, fds):
    from . import _file, _journal, _nats, _syslog

    cls = {
        "syslog+tcp": _syslog.TcpSyslog, "syslog+tls": _syslog.TlsSyslog, "syslog+udp": _syslog.UdpSyslog,
        "syslog+unix": _syslog.UnixSyslog, "syslog+relp": _syslog.RelpSyslog, "journal": _journal.Journal,
        "nats": _nats.Nats, "file": _file.File,
    }[spec.scheme]
    return cls(spec, fds)


class Sender(threading.Thread):
    def __init__(self, spec, queue, transport, log):
        super().__init__(name="sink-sender", daemon=True)
        self.spec = spec
        self.q = queue
        self.t = transport
        self.log = log
        self.connected = False
        self.delivered = 0
        self.retried = 0  # send attempts that failed (each is tried again)
        self.stop = threading.Event()

    def run(self) -> None:
        backoff = self.spec.opt("backoff_ms") / 1000
        top = self.spec.opt("backoff_max_ms") / 1000
        delay = backoff
        batch_n = self.spec.opt("batch")
        failing = False
        while not self.stop.is_set():
            batch = self.q.peek(batch_n, timeout=0.2)
            if not batch:
                if self.q.done():
                    break
                continue
            error = None
            try:
                if not self.connected:
                    self.t.connect()
                    self.connected = True
                    if failing:
                        self.log(f"reconnected to {self.spec.url}")
                self.t.send(batch)
            except Partial as exc:
                error = exc
                self._failed(exc.n)
            except Exception as exc:  # any transport error (OSError, TLS, nats-py's own): reconnect
                error = exc
                self._failed(0)
            else:
                self.q.release(len(batch))
                self.delivered += len(batch)
                delay = backoff
                failing = False
                continue
            if not failing:
                self.log(f"{self.spec.url}: {error.__class__.__name__}: {error}; retrying")
            failing = True
            self.stop.wait(delay)
            delay = min(delay * 2, top)
        self.t.close()

    def _failed(self, n: int) -> None:
        self.retried += 1
        if n:
            self.q.release(n)
            self.delivered += n
        self.connected = False
        self.t.close()


REPORT_SECONDS = 1.0


class Reporter(threading.Thread):
    """cfg["report"]: the counters go back up the input socket (fd 0) as a
    msgpack map, about once a second when they changed, and once at the end.
    Never blocks: a parent that does not read loses reports, not records."""

    def __init__(self, q, sender):
        super().__init__(name="sink-reporter", daemon=True)
        import socket

        self.q, self.sender = q, sender
        self.sock = socket.socket(fileno=os.dup(0))
        self.stop = threading.Event()
        self.failed = 0
        self.last = None
        self.broken = False

    def counters(self) -> dict:
        q = self.q
        return {"queued": q.pending(), "spooled_bytes": q.bytes_used() if hasattr(q, "bytes_used") else 0,
                "delivered": self.sender.delivered, "retried": self.sender.retried, "failed": self.failed, "lost": q.lost_total}

    def send(self) -> None:
        import socket

        c = self.counters()
        if c == self.last or self.broken:
            return
        self.last = c
        data = msgpack.packb(c)
        try:
            n = self.sock.send(data, socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL)
        except OSError:
            return  # full (the parent is not reading): this report is lost, the next may go
        # a part of a map sent: what follows would not parse; the reports end
        self.broken = n < len(data)

    def run(self) -> None:
        while not self.stop.wait(REPORT_SECONDS):
            self.send()


def _read_exact(fd: int, n: int) -> bytes | None:
    out = bytearray()
    while len(out) < n:
        b = os.read(fd, n - len(out))
        if not b:
            return None
        out += b
    return bytes(out)


def _become(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we end (EOF)
    fd = 0
    tag = "tracerd-sink"

    def log(msg: str) -> None:
        try:
            os.write(2, f"{tag}: {msg}\n".encode())
        except OSError:
            pass

    head = _read_exact(fd, UNIT.size)
    if head is None:
        return 0
    kind, n = UNIT.unpack(head)
    if kind != b"C":
        log("expected a configuration unit")
        return 2
    cfg = msgpack.unpackb(_read_exact(fd, n), raw=False)
    spec = spec_from_dict(cfg["spec"])
    tag = f"tracerd-sink {spec.name or spec.url}"
    fds = cfg.get("fds") or {}
    quota = tuple(cfg["quota"]) if cfg.get("quota") else None
    try:
        # the transport first: TLS material passed as fds is loaded now, while
        # /proc/self/fd is still ours (a uid change makes it root's)
        transport = transport_for(spec, fds)
        if cfg.get("uid") is not None and os.getuid() == 0 and cfg["uid"] != 0:
            _become(cfg["uid"], cfg["uid"] if cfg.get("gid") is None else cfg["gid"])
        q = make_queue(spec, cfg.get("spool_dir"), quota)
    except (OSError, ValueError, ssl.SSLError) as exc:
        log(f"cannot start: {exc}")
        return 2
    sender = Sender(spec, q, transport, log)
    sender.start()
    reporter = Reporter(q, sender) if cfg.get("report") else None
    if reporter:
        reporter.start()
    sessions: dict[int, SessionFormatter] = {}
    host = cfg.get("host") or HOST
    hs = _wire.FRAME_HEADER_SIZE
    try:
        while True:
            head = _read_exact(fd, UNIT.size)
            if head is None:
                break
            kind, n = UNIT.unpack(head)
            if n > MAX_UNIT:
                log(f"unit of {n} bytes: stream broken")
                break
            body = _read_exact(fd, n)
            if body is None:
                break
            if kind == b"S":
                m = msgpack.unpackb(body, raw=False)
                sessions[m["sid"]] = SessionFormatter(m["key"], m.get("meta"), host)
            elif kind == b"E":
                m = msgpack.unpackb(body, raw=False)
                sessions.pop(m["sid"], None)
            elif kind == b"F":
                pos = 0
                while pos + hs <= len(body):
                    _k, sid, _first, _count, length = _wire.unpack_header(body[pos : pos + hs])
                    payload = body[pos + hs : pos + hs + length]
                    pos += hs + length
                    fmt = sessions.get(sid)
                    if fmt is None:
                        fmt = sessions[sid] = SessionFormatter(str(sid), None, host)
                    for rec in _wire.iter_records(payload):
                        try:
                            ev = fmt.event(rec)
                        except Exception as exc:  # a record that cannot be turned into an event: say so, go on
                            log(f"record seq {rec[1] if len(rec) > 1 else '?'}: {exc}")
                            continue
                        q.put(ev)
    finally:
        q.close()
        deadline = time.monotonic() + spec.opt("drain_ms") / 1000
        while sender.is_alive() and time.monotonic() < deadline:
            sender.join(0.05)
        sender.stop.set()
        sender.join(2)
        q.persist()
        left = q.pending()
        if left and spec.policy != "spool":
            log(f"{left} messages not delivered to {spec.url}")
        if q.lost_total:
            log(f"{q.lost_total} messages dropped ({spec.policy})")
        if reporter:
            reporter.stop.set()
            reporter.join(2)
            reporter.failed = left if spec.policy != "spool" else 0
            reporter.send()
        if cfg.get("remove_empty") and spec.policy == "spool" and not left and cfg.get("spool_dir"):
            import shutil

            shutil.rmtree(cfg["spool_dir"], ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

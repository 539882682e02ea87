"""Sinks: a session's records delivered to log collectors (docs/sinks.md).

    spec = parse_url("syslog+relp://127.0.0.1:2514?policy=spool")
    sink = open_sink(spec, spool_dir=...)      # the sink's own process
    sink.open_session(sid, key, meta); sink.feed(frames); sink.end_session(sid)
    sink.close()
"""

from __future__ import annotations

import os
import socket
import sys

import msgpack

from ._ids import session_namer

# Imported on first use (PEP 562): `tracectl run` imports this package for
# its --sink option, and the URL parser (urllib, dataclasses) and the sink
# worker (ssl, the decoder) cost ~10-20 ms of every start that names no sink.
_LAZY = {"POLICIES": "._url", "SCHEMES": "._url", "SinkSpec": "._url", "parse_url": "._url", "spec_from_dict": "._url"}


def __getattr__(name: str):
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(mod, __name__), name)
    globals()[name] = value
    return value


def encode_unit(kind: bytes, body: bytes) -> bytes:
    from ._worker import encode_unit

    return encode_unit(kind, body)

__all__ = ["POLICIES", "SCHEMES", "Sink", "SinkSpec", "encode_unit", "open_sink", "parse_url", "session_namer", "spec_from_dict", "user_spool_dir"]


def user_spool_dir(spec: SinkSpec) -> str:
    """Where an embedded (tracectl) spool lives: $XDG_STATE_HOME/tracerd/spool/..."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in (spec.name or spec.url))[:120]
    return os.path.join(base, "tracerd", "spool", safe)


class Sink:
    """The parent's end of a sink process: units go down `input_fd`."""

    def __init__(self, spec: SinkSpec, proc, sock: socket.socket):
        self.spec = spec
        self.proc = proc
        self._sock = sock
        self.input_fd = sock.fileno()

    def _write(self, data: bytes) -> None:
        """Blocking; a dead sink process raises BrokenPipeError (never SIGPIPE:
        the pipe is a socket written with MSG_NOSIGNAL)."""
        view = memoryview(data)
        while view:
            n = self._sock.send(view, socket.MSG_NOSIGNAL)
            view = view[n:]

    def open_session(self, sid: int, key: str, meta: dict | None = None) -> None:
        self._write(encode_unit(b"S", msgpack.packb({"sid": sid, "key": key, "meta": meta or {}}, use_bin_type=True)))

    def feed(self, frames: bytes) -> None:
        """One or more tracerd._wire frames (headers included), verbatim."""
        self._write(encode_unit(b"F", frames))

    def end_session(self, sid: int, reason: str = "") -> None:
        self._write(encode_unit(b"E", msgpack.packb({"sid": sid, "reason": reason}, use_bin_type=True)))

    def close(self, timeout: float | None = None) -> int | None:
        """EOF, then wait for the process (it delivers or spools what it holds)."""
        if self.input_fd >= 0:
            self._sock.close()
            self.input_fd = -1
        import subprocess

        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def open_sink(spec: SinkSpec, *, spool_dir: str | None = None, fds: dict | None = None, uid: int | None = None,
              gid: int | None = None, quota: tuple[str, int] | None = None, host: str | None = None, stderr=None,
              remove_empty: bool = False, report: bool = False) -> Sink:
    """Start the sink process for `spec`. `fds`: {"target"|"ca"|"cert"|"key": fd}
    opened by someone else (inherited by the process at the same numbers).
    `quota`: (directory, bytes) bounding every spool under that directory.
    `remove_empty`: the process removes its spool directory once it has
    delivered everything (a resumed spool). `report`: the process writes a
    msgpack map of its counters (REPORT_KEYS) back up its input socket about
    once a second and when it ends (the daemon's metrics read them)."""
    import subprocess

    if spec.policy == "spool" and spool_dir is None:
        spool_dir = user_spool_dir(spec)
    # a socket pair, not a pipe: writes can then say MSG_NOSIGNAL
    w, r = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    if not report:  # with `report`, the process writes its counters back up this socket
        w.shutdown(socket.SHUT_RD)
    fds = dict(fds or {})
    argv = [sys.executable, "-m", "tracerd.client.sinks"]
    as_user = uid is not None and uid != 0 and os.geteuid() == 0
    if as_user:
        # the interpreter starts as the user (its uid, gid and groups, no
        # capability), as tracectl run by that user would; through setpriv
        # (util-linux), which takes the uid before the interpreter is looked up
        gid = uid if gid is None else gid
        argv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", "--", *argv]
    try:
        proc = subprocess.Popen(argv, stdin=r, stdout=subprocess.DEVNULL, stderr=stderr, pass_fds=tuple(fds.values()), close_fds=True, start_new_session=True)
    except BaseException:
        r.close()
        w.close()
        raise
    r.close()
    sink = Sink(spec, proc, w)
    cfg = {"spec": spec.to_dict(), "spool_dir": spool_dir, "fds": fds, "uid": None if as_user else uid, "gid": gid, "quota": list(quota) if quota else None, "host": host,
           "remove_empty": remove_empty, "report": report}
    sink._write(encode_unit(b"C", msgpack.packb(cfg, use_bin_type=True)))
    return sink

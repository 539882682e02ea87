"""tracectl's `--sink URL` (run, attach, watch).

Embedded: the sinks are processes of tracectl's own, fed the worker's
frames. Through the daemon: the specs ride in the request and the daemon
runs the sink processes; for a non-root user the client opens the targets
that are paths (file:, syslog+unix, journal) and the TLS files itself and
passes them as fds (SCM_RIGHTS), so the daemon never opens a path for a user.
"""

from __future__ import annotations

import os
import socket

from tracerd import UsageError

# the request's fds for a sink: one per key, in this order
FD_KEYS = ("target", "ca", "cert", "key")


def add_option(parser, default_policy: str) -> None:
    parser.add_argument("--sink", action="append", default=[], metavar="URL",
                        help=f"also send the records to this collector (repeatable; ?policy=block|spool|drop, default {default_policy}; docs/sinks.md)")


def parse_sinks(urls, default_policy: str):
    if not urls:
        return []
    from ._url import parse_url  # on use: urllib and dataclasses, for a run that names a sink

    return [parse_url(u, default_policy=default_policy) for u in urls or ()]


def decode_meta(opts) -> dict:
    d = getattr(opts, "decode", None)
    if d is None:
        return {}
    return {k: getattr(d, k) for k in ("strsize", "xflag", "yflag", "xstyle") if hasattr(d, k)}


class LocalSinks:
    """Embedded: one sink process per spec, fed every frame."""

    def __init__(self, specs, key: str, meta: dict):
        from . import open_sink

        self.sinks = []
        try:
            for spec in specs:
                s = open_sink(spec)
                s.open_session(0, key, meta)
                self.sinks.append(s)
        except BaseException:
            self.close()
            raise

    def feed(self, frame: bytes) -> None:
        for s in list(self.sinks):
            try:
                s.feed(frame)
            except OSError:
                # the sink process died (its own stderr said why): the trace goes on without it
                import sys

                print(f"tracectl: --sink {s.spec.url}: the sink process ended; no more records go there", file=sys.stderr)
                self.sinks.remove(s)
                s.close()

    def close(self) -> None:
        for s in self.sinks:
            try:
                s.end_session(0)
            except OSError:
                pass
            s.close()
        self.sinks = []


def _open_target(spec) -> int:
    if spec.scheme == "file":
        try:
            return os.open(spec.target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        except OSError as exc:
            raise UsageError(f"--sink {spec.url}: {exc.strerror}") from None
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
    try:
        s.connect(spec.target)
    except OSError as exc:
        s.close()
        raise UsageError(f"--sink {spec.url}: {exc.strerror}") from None
    return s.detach()


def for_request(specs, meta: dict) -> tuple[list[dict], list[int]]:
    """The `sinks` argument of a run/attach/watch request and the fds to send
    with it. Root sends paths (the daemon opens them); anyone else sends fds."""
    out, fds = [], []
    root = os.geteuid() == 0
    try:
        for spec in specs:
            d = spec.to_dict()
            d["meta"] = meta
            if not root:
                which = {}
                if spec.path_target:
                    which["target"] = _open_target(spec)
                for k in ("ca", "cert", "key"):
                    p = spec.options.get(k)
                    if p:
                        try:
                            which[k] = os.open(p, os.O_RDONLY | os.O_CLOEXEC)
                        except OSError as exc:
                            raise UsageError(f"--sink {spec.url}: {p}: {exc.strerror}") from None
                d["fds"] = [k for k in FD_KEYS if k in which]
                fds += [which[k] for k in FD_KEYS if k in which]
            out.append(d)
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return out, fds


class TracectlSinks:
    """What trace() and watch hold: the parsed specs, then either local sink
    processes (embedded) or the request's arguments (daemon)."""

    def __init__(self, urls, default_policy: str):
        self.specs = parse_sinks(urls, default_policy)  # first: a bad URL fails before anything runs
        self.local: LocalSinks | None = None
        self.fds: list[int] = []  # opened for the daemon's request; closed by close()

    def __bool__(self) -> bool:
        return bool(self.specs)

    def attach_to(self, src, opts, command=None) -> None:
        """Before src.start(): give a daemon source the request's sinks, or
        start local sink processes for an embedded one."""
        if not self.specs:
            return
        meta = {"uid": os.getuid(), "rule": "", "command": list(command or []), "decode": decode_meta(opts)}
        if isinstance(src, dict):  # a watch request
            src["sinks"], self.fds = for_request(self.specs, meta)
        elif hasattr(src, "socket_path"):
            src.sink_args = for_request(self.specs, meta)
            self.fds = src.sink_args[1]
        else:
            from ._ids import session_namer

            self.local = LocalSinks(self.specs, session_namer()(0), meta)

    def tee(self, frames):
        """The embedded source's frames, each also fed whole (as the worker
        wrote it: session 0) to the local sink processes."""
        local = self.local
        if local is None:
            yield from frames
            return
        from tracerd._wire import frame_of

        for first, count, payload in frames:
            local.feed(frame_of(payload))
            yield first, count, payload

    def close(self) -> None:
        if self.local is not None:
            self.local.close()
            self.local = None
        while self.fds:
            try:
                os.close(self.fds.pop())
            except OSError:
                pass

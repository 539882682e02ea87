"""The client library for the daemon: find it, speak the protocol (blocking
sockets around the sans-I/O `tracerd._protocol.Connection`), and RemoteRun /
RemoteAttach with the shape of the embedded EmbeddedRun / EmbeddedAttach."""

from __future__ import annotations

import array
import errno
import os
import socket
import struct
import time

from tracerd import ProtocolError, RemoteError, TracerdError, TracerError, PermissionRefused, UsageError, __version__
from tracerd import _protocol as P
from tracerd._protocol import ConnectionClosed, End, Error, Hello, Records, Reply, Request

from ._text import printable

DEFAULT_SOCKET = "/run/tracerd/tracerd.sock"
ENV_SOCKET = "TRACERD_SOCKET"
_UCRED = struct.Struct("=iII")
PID_MAX_LIMIT = 1 << 22  # linux/threads.h: no pid reaches it (the protocol's bound too)


# How long a connect waits for room in a busy daemon's listen backlog
# (connect on a full AF_UNIX backlog fails with EAGAIN at once when the
# socket is non-blocking, and blocks without bound when it is blocking).
CONNECT_WAIT = 5.0
# errors that mean nothing listens at the path (the default socket may
# then be absent: trace embedded); EACCES: a daemon this user may not use
_NOBODY = (errno.ENOENT, errno.ECONNREFUSED, errno.ENOTSOCK, errno.ENOTDIR, errno.EACCES)


class Busy(TracerdError):
    """A daemon listens at the path but its backlog stayed full."""


def connect(path: str, wait: float | None = None) -> socket.socket:
    """A connected socket, or OSError (nobody there) / Busy (the backlog
    stayed full for `wait` seconds, default CONNECT_WAIT: EAGAIN retried
    with a short backoff)."""
    if wait is None:
        wait = CONNECT_WAIT
    deadline = time.monotonic() + wait
    delay = 0.001
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK)
        try:
            sock.connect(path)
        except BlockingIOError:
            sock.close()
            left = deadline - time.monotonic()
            if left <= 0:
                raise Busy(f"tracerd at {path} is busy (its connection backlog stayed full for {wait:g} s); try again") from None
            time.sleep(min(delay, left))
            delay = min(delay * 2, 0.05)
            continue
        except BaseException:
            sock.close()
            raise
        sock.setblocking(True)
        return sock


def _probe(path: str) -> OSError | None:
    try:
        connect(path).close()
        return None
    except OSError as exc:
        return exc


def find_daemon(socket_opt: str | None) -> str | None:
    """The daemon's socket path: `--socket`, then $TRACERD_SOCKET, then the
    default. A named socket that does not answer is an error; nothing
    listening at the default one means "no daemon" (None: trace embedded),
    but a daemon there that stays busy is an error, never a silent switch to
    embedded mode."""
    path = socket_opt or os.environ.get(ENV_SOCKET) or None
    if path is not None:
        err = _probe(path)
        if err is not None:
            raise TracerdError(f"cannot connect to tracerd at {path}: {err.strerror or err}")
        return path
    err = _probe(DEFAULT_SOCKET)
    if err is None:
        return DEFAULT_SOCKET
    if err.errno in _NOBODY:
        return None
    raise TracerdError(f"cannot connect to tracerd at {DEFAULT_SOCKET}: {err.strerror or err} (--embedded traces without it)")


def _raise_remote(ev: Error):
    msg = printable(ev.message)  # the daemon's words may quote a user's
    if ev.code == P.E_PERM:
        raise PermissionRefused(msg)
    if ev.code == P.E_TRACER:
        raise TracerError(msg)
    raise RemoteError(ev.code, msg)


class Client:
    """A blocking connection to the daemon."""

    def __init__(self, path: str):
        try:
            sock = connect(path)
        except OSError as exc:
            raise TracerdError(f"cannot connect to tracerd at {path}: {exc.strerror}") from None
        self._adopt(path, sock)

    def _adopt(self, path: str, sock: socket.socket) -> None:
        """Speak the protocol on an already connected socket."""
        self.path = path
        self.sock = sock
        self.daemon_pid = _UCRED.unpack(self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size))[0]
        self.proto = P.Connection(P.CLIENT, max_message=P.DEFAULT_MAX_MESSAGE)
        self._next_id = 0
        self._pending: list = []  # events read while waiting for a reply
        try:
            self._send(Hello(agent=f"tracectl {__version__}"))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the daemon refused us at once (a limit): its reason is waiting to be read
        ev = self._next()
        if not isinstance(ev, Hello):
            raise ProtocolError(f"the daemon did not say hello ({type(ev).__name__})")

    def close(self) -> None:
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _send(self, ev, fds=()) -> None:
        data = self.proto.send(ev)
        if fds:
            n = self.sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
            data = data[n:]
        if data:
            self.sock.sendall(data)

    def _next(self):
        """The next event from the daemon (blocking); raises on errors."""
        if self._pending:
            return self._pending.pop(0)
        while True:
            ev = self.proto.next_event()
            if ev is not P.NEED_DATA:
                break
            try:
                data = self.sock.recv(256 * 1024)
            except ConnectionResetError:
                data = b""
            self.proto.receive_data(data)
        if isinstance(ev, Error) and ev.id is None:
            raise RemoteError(ev.code, f"the daemon closed the connection: {printable(ev.message)}")
        if isinstance(ev, ConnectionClosed):
            raise RemoteError("closed", "the daemon closed the connection")
        return ev

    def request(self, op: str, args: dict | None = None, fds=()) -> dict:
        self._next_id += 1
        rid = self._next_id
        self._send(Request(rid, op, args or {}), fds)
        held = []
        try:
            while True:
                ev = self._next()
                if isinstance(ev, Reply) and ev.id == rid:
                    return ev.result
                if isinstance(ev, Error) and ev.id == rid:
                    _raise_remote(ev)
                held.append(ev)  # records of another session: keep them
        finally:
            self._pending[:0] = held

    def events(self):
        """Every further event (Records, End, ...) until the daemon closes."""
        while True:
            try:
                yield self._next()
            except RemoteError as exc:
                if exc.code == "closed":
                    return
                raise


def session_frames(events, session: int | None, ended: list):
    """``(first_seq, count, payload)`` of each `Records` event of `session`
    (of every session when None) among `events`, until that session's End,
    which is appended to `ended`. Other events are passed over (replies to
    our own stop or detach request, other sessions' frames)."""
    for ev in events:
        if isinstance(ev, Records):
            if session is None or ev.session == session:
                yield ev.first_seq, ev.count, ev.payload
        elif isinstance(ev, End) and ev.session == session:
            ended.append(ev)
            return


class _Remote:
    """What RemoteRun and RemoteAttach share: one connection, one session."""

    def __init__(self, socket_path: str, *, plan: bytes, drop: bool, bpf_filter: str = ""):
        if len(plan) > P.DEFAULT_MAX_MESSAGE - 4096:  # room for the request's other fields
            raise UsageError(f"the fetch plan is {len(plan)} bytes, more than the daemon takes in one request "
                             f"({P.DEFAULT_MAX_MESSAGE - 4096}): use fewer -P paths or pokes, or --embedded")
        self.socket_path = socket_path
        self.plan = plan
        self.drop = drop
        self.bpf_filter = bpf_filter
        self.client: Client | None = None
        self.session: int | None = None
        self.end: End | None = None
        self.joined = False
        self._asked = False

    def frames(self):
        """(first_seq, count, payload) for each frame until the session ends."""
        if self.client is None or self.end is not None:
            return
        ended: list = []
        yield from session_frames(self.client.events(), self.session, ended)
        if ended:
            ev = self.end = ended[0]
            if ev.reason in ("worker-died", "error"):
                raise TracerError(printable(ev.message) or f"session {ev.session}: the tracer failed")

    def _stop_op(self) -> str:
        raise NotImplementedError

    def close(self) -> None:
        """First call while the session runs: ask the daemon to end it (detach
        attached processes, kill launched ones) and keep the connection, so
        frames() delivers what the tracer still reports until End. Otherwise:
        close the connection (which also ends the session: the worker sees EOF)."""
        if self.client is None:
            return
        if self.session is not None and self.end is None and not self._asked and not self.joined:
            self._asked = True
            try:
                self.client._next_id += 1
                self.client._send(Request(self.client._next_id, self._stop_op(), {"session": self.session}))
                return
            except OSError:
                pass
        self.client.close()
        self.client = None


class RemoteAttach(_Remote):
    def __init__(self, socket_path: str, pids, *, plan: bytes, drop: bool = False, bpf_filter: str = "", bpf: bytes | None = None):
        super().__init__(socket_path, plan=plan, drop=drop, bpf_filter=bpf_filter)
        self.pids = list(pids)
        self.bpf = bpf  # --seccomp-bpf: injected by the daemon's worker

    def _stop_op(self) -> str:
        return "detach"

    def start(self) -> None:
        for pid in self.pids:
            if not 0 < pid < PID_MAX_LIMIT:
                # no such process can exist; in the words the seize (and
                # strace) would use, not the protocol's "bad value"
                raise TracerError(f"attach: ptrace(PTRACE_SEIZE, {pid}): No such process")
        self.client = Client(self.socket_path)
        args = {"pids": self.pids, "plan": self.plan, "drop": self.drop, "bpf_filter": self.bpf_filter}
        if self.bpf:
            args["bpf"] = self.bpf
        sinks, fds = getattr(self, "sink_args", None) or ([], [])  # --sink (client/sinks/_cli.py)
        if sinks:
            args["sinks"] = sinks
        r = self.client.request("attach", args, fds=fds)
        self.session = r["session"]
        self.joined = r.get("joined", False)


class RemoteRun(_Remote):
    """The command is forked here (client/_launch.py), keeps our uid, cwd,
    environment and fds; the daemon's worker seizes it through the pidfd we
    pass over SCM_RIGHTS."""

    def __init__(self, socket_path: str, argv, *, bpf: bytes, plan: bytes, env=None, drop: bool = False, colocate: bool = False, bpf_filter: str = "", cwd=None, user=None, ignored=(), follow=True):
        super().__init__(socket_path, plan=plan, drop=drop, bpf_filter=bpf_filter)
        self.follow = follow
        self.argv = list(argv)
        self.bpf = bpf
        self.env = env
        self.cwd = cwd
        self.colocate = colocate
        self.user = user
        self.ignored = tuple(ignored)
        self.child = None
        self.pid: int | None = None
        self._status: int | None = None

    def _stop_op(self) -> str:
        return "stop"

    def start(self) -> None:
        from ._launch import launch

        self.client = Client(self.socket_path)
        self.child = launch(self.argv, bpf=self.bpf, env=self.env, cwd=self.cwd, user=self.user, ignored=self.ignored)
        self.pid = self.child.pid
        try:
            # Yama: a descendant of the named pid may trace us; workers are the daemon's children
            self.child.allow_tracer(self.client.daemon_pid)
            args = {"pid": self.child.pid, "plan": self.plan, "drop": self.drop, "colocate": self.colocate, "command": self.argv, "bpf_filter": self.bpf_filter}
            if not self.follow:
                args["follow"] = False  # no filter: the daemon's worker stops at every call of the command alone
            sinks, fds = getattr(self, "sink_args", None) or ([], [])  # --sink (client/sinks/_cli.py)
            if sinks:
                args["sinks"] = sinks
            r = self.client.request("run", args, fds=[self.child.pidfd, *fds])
        except BaseException:
            try:
                os.kill(self.child.pid, 9)
            except ProcessLookupError:
                pass
            self.child.wait()
            raise
        self.session = r["session"]
        # the command as the records name it: the daemon's pid namespace's
        # number, not ours when we run in a container
        self.pid = r.get("pid", self.child.pid)
        self.child.release()

    def status(self) -> int:
        if self._status is None:
            self._status = self.child.wait()
        return self._status

"""The daemon: accept loop, one nursery per connection, request dispatch,
policy, shutdown."""

from __future__ import annotations

import errno
import logging
import os
import resource
import signal
import socket
import time
from collections import deque

import trio

from tracerd import PermissionRefused, ProtocolError, TracerdError, TracerError, __version__
from tracerd import _protocol as P
from tracerd._protocol import ConnectionClosed, Error, Hello, Reply, Request

from . import _auth
from ._config import Config
from ._metrics import Tally
from ._session import Session, Subscriber
from ._socket import sd_notify

log = logging.getLogger("tracerd")

STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
RECV_SIZE = 65536
MAX_FDS_PER_MSG = 4  # ancillary room; a run request carries exactly one


class Refused(TracerdError):
    """A request refused with an error code (sent back as Error(id, code, msg))."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class Client:
    """One connection: its own nursery holds the reader and a pump per
    subscription."""

    def __init__(self, daemon: "Daemon", sock, peer: _auth.Peer):
        self.daemon = daemon
        self.sock = sock
        self.peer = peer
        self.proto = P.Connection(P.SERVER)
        self.write_lock = trio.Lock()
        self.fds: deque[int] = deque()
        self.subs: dict[int, Subscriber] = {}
        self.nursery: trio.Nursery | None = None
        self.closed = False

    # --- output --------------------------------------------------------------
    async def write_raw(self, data: bytes) -> None:
        async with self.write_lock:
            view = memoryview(data)
            while view:
                n = await self.sock.send(view)
                view = view[n:]

    async def send_event(self, ev) -> None:
        await self.write_raw(self.proto.send(ev))

    # --- input ---------------------------------------------------------------
    async def serve(self) -> None:
        try:
            async with trio.open_nursery() as nursery:
                self.nursery = nursery
                await self._read_loop()
                nursery.cancel_scope.cancel()
        except (trio.BrokenResourceError, trio.ClosedResourceError, ConnectionError):
            pass
        except Exception as exc:  # a bug must cost one connection, not the daemon
            log.exception("uid %d pid %d: internal error", self.peer.uid, self.peer.pid)
            with trio.move_on_after(1):
                await self._fatal(P.E_INTERNAL, f"internal error: {P.error_line(exc)}")
        finally:
            self.closed = True
            while self.fds:
                os.close(self.fds.popleft())
            self._leave()
            self.sock.close()

    def _leave(self) -> None:
        """The client is gone: end what it owns, drop its subscriptions."""
        for sid, sub in list(self.subs.items()):
            session = sub.session
            if sub.owner:
                session.close_ctl()  # EOF: the worker detaches or kills
                session.end_reason = session.end_reason or ("detached" if session.mode == "attach" else "stopped")
            session.unsubscribe(sub)
        self.subs.clear()

    async def _read_loop(self) -> None:
        anc = socket.CMSG_SPACE(MAX_FDS_PER_MSG * 4)
        while True:
            try:
                data, ancdata, flags, _ = await self.sock.recvmsg(RECV_SIZE, anc)
            except (ConnectionError, OSError):
                return
            for level, ctype, cdata in ancdata:
                if level == socket.SOL_SOCKET and ctype == socket.SCM_RIGHTS:
                    n = len(cdata) // 4
                    self.fds.extend(int.from_bytes(cdata[i * 4 : i * 4 + 4], "little") for i in range(n))
            if flags & socket.MSG_CTRUNC:
                await self._fatal(P.E_PROTOCOL, "too many file descriptors in one message")
                return
            self.proto.receive_data(data)
            while True:
                try:
                    ev = self.proto.next_event()
                except ProtocolError as exc:
                    log.info("uid %d pid %d: protocol error: %s", self.peer.uid, self.peer.pid, exc)
                    await self._fatal(P.E_PROTOCOL, P.error_line(exc))
                    return
                if ev is P.NEED_DATA:
                    break
                if isinstance(ev, ConnectionClosed):
                    return
                if isinstance(ev, Error):  # the client's last word
                    return
                if isinstance(ev, Hello):
                    if ev.version != P.PROTOCOL_VERSION:
                        await self._fatal(P.E_VERSION, f"unsupported protocol version {ev.version} (this daemon speaks {P.PROTOCOL_VERSION})")
                        return
                    await self.send_event(Hello(agent=f"tracerd {__version__} pid {os.getpid()}"))
                    continue
                await self._dispatch(ev)
            if not data:
                return

    async def _fatal(self, code: str, message: str) -> None:
        try:
            await self.send_event(Error(None, code, message))
        except (trio.BrokenResourceError, trio.ClosedResourceError, ConnectionError, ProtocolError):
            pass

    def _take_fds(self, n: int) -> list[int]:
        """The fds that came with the current message; close any extra."""
        got = [self.fds.popleft() for _ in range(min(n, len(self.fds)))]
        while self.fds:
            os.close(self.fds.popleft())
        return got

    async def _dispatch(self, req: Request) -> None:
        fds = self._take_fds(1 if req.op == "run" else 0)
        try:
            handler = getattr(self, "_op_" + req.op)
            result = await handler(req.args, fds)
        except Refused as exc:
            await self.send_event(Error(req.id, exc.code, str(exc)))
        except PermissionRefused as exc:
            await self.send_event(Error(req.id, P.E_PERM, str(exc)))
        except TracerError as exc:
            await self.send_event(Error(req.id, P.E_TRACER, str(exc)))
        except OSError as exc:
            log.warning("uid %d: %s: %s", self.peer.uid, req.op, exc)
            await self.send_event(Error(req.id, P.E_INTERNAL, f"{req.op}: {exc.strerror or exc}"))
        else:
            await self.send_event(Reply(req.id, result))
        finally:
            for fd in fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
            fds.clear()

    # --- requests --------------------------------------------------------------
    def _check_limits_session(self) -> None:
        d = self.daemon
        if d.stopping:
            raise Refused(P.E_SHUTDOWN, "the daemon is shutting down")
        if not self.peer.is_root:
            n = sum(1 for s in d.sessions.values() if s.owner.uid == self.peer.uid)
            if n >= d.config.sessions_per_user:
                raise Refused(P.E_LIMIT, f"uid {self.peer.uid} already owns {n} sessions (limit {d.config.sessions_per_user})")

    def _check_limits_watch(self) -> None:
        d = self.daemon
        if d.stopping:
            raise Refused(P.E_SHUTDOWN, "the daemon is shutting down")
        if not self.peer.is_root:
            n = sum(1 for c in d.clients if c.peer.uid == self.peer.uid for s in c.subs.values() if not s.owner)
            if n >= d.config.watchers_per_user:
                raise Refused(P.E_LIMIT, f"uid {self.peer.uid} already watches {n} sessions (limit {d.config.watchers_per_user})")

    async def _check_trace(self, pid: int) -> None:
        d = self.daemon
        if pid == os.getpid() or pid in d.worker_pids():
            raise PermissionRefused(f"not permitted to trace pid {pid} (the daemon or one of its workers)")
        if not os.path.exists(f"/proc/{pid}"):
            raise Refused(P.E_TRACER, f"attach: ptrace(PTRACE_SEIZE, {pid}): No such process")
        if self.peer.is_root or set(self.peer.groups + (self.peer.gid,)) & d.config.trace_any:
            return
        err = await _auth.may_ptrace(self.peer, pid)
        if err:
            owner = _auth.owner_uid(pid)
            if owner is None:
                raise Refused(P.E_TRACER, f"attach: ptrace(PTRACE_SEIZE, {pid}): No such process")
            log.info("uid %d: refused to trace pid %d (owned by uid %d)", self.peer.uid, pid, owner)
            raise PermissionRefused(f"not permitted to trace pid {pid} (owned by uid {owner})")

    def _may_see(self, session: Session) -> bool:
        p = self.peer
        return p.is_root or session.owner.uid == p.uid or bool(set(p.groups + (p.gid,)) & self.daemon.config.watch_any)

    def _session(self, sid: int, *, control: bool = False) -> Session:
        s = self.daemon.sessions.get(sid)
        if s is None or not self._may_see(s):
            raise Refused(P.E_NO_SESSION, f"no session {sid}")
        if control and not (self.peer.is_root or s.owner.uid == self.peer.uid):
            raise PermissionRefused(f"not permitted to control session {sid} (owned by uid {s.owner.uid})")
        return s

    def _subscribe(self, session: Session, policy: str, owner: bool) -> Subscriber:
        sub = Subscriber(self, session, policy, owner, self.daemon.config.queue_frames, self.daemon.config.queue_bytes)
        self.subs[session.id] = sub
        session.subscribe(sub)
        self.nursery.start_soon(sub.pump)
        return sub

    async def _start_session(self, mode: str, pids: list[int], args: dict, command: list[str], inject: bytes = b"") -> dict:
        d = self.daemon
        session = Session(
            d, d.next_id(), self.peer, mode, pids, args["plan"],
            command=command, bpf_filter=args.get("bpf_filter", ""), drop=args.get("drop", False),
            colocate=args.get("colocate", False), flush_ms=args.get("flush_ms"), inject=inject,
        )
        # the owner subscribes before the worker starts: no record is missed
        sub = Subscriber(self, session, "drop" if args.get("drop") else "block", True, d.config.queue_frames, d.config.queue_bytes)
        session.subscribe(sub)
        d.sessions[session.id] = session
        try:
            await d.nursery.start(session.run)
        except BaseException:
            d.sessions.pop(session.id, None)
            raise
        self.subs[session.id] = sub
        self.nursery.start_soon(sub.pump)
        return {"session": session.id, "joined": False, "worker": session.worker_pid}

    async def _op_attach(self, args: dict, fds) -> dict:
        pids = list(dict.fromkeys(args["pids"]))
        self._check_limits_session()
        for pid in pids:
            await self._check_trace(pid)
        # already traced by a session of ours? join it when the filter matches
        for s in self.daemon.sessions.values():
            common = [p for p in pids if p in s.pids]
            if not common:
                continue
            if s.passthru:
                raise Refused(P.E_CONFLICT, f"pid {common[0]} keeps the seccomp filter of session {s.id}, whose tracer now only passes its calls through until it exits")
            if s.plan != args["plan"] or set(pids) - set(s.pids):
                raise Refused(P.E_CONFLICT, f"pid {common[0]} is already traced by session {s.id} with another filter (tracectl watch {s.id} follows it)")
            if s.id in self.subs:
                raise Refused(P.E_BAD_REQUEST, f"already subscribed to session {s.id}")
            self._check_limits_watch()
            self._subscribe(s, "drop" if args.get("drop") else "block", False)
            return {"session": s.id, "joined": True, "worker": s.worker_pid}
        return await self._start_session("attach", pids, args, [_comm(p) for p in pids], inject=args.get("bpf", b""))

    async def _op_run(self, args: dict, fds) -> dict:
        if not fds:
            raise Refused(P.E_BAD_REQUEST, "run needs the command's pidfd (SCM_RIGHTS)")
        pid = args["pid"]
        if _auth.pidfd_pid(fds[0]) != pid:
            raise Refused(P.E_BAD_REQUEST, f"the file descriptor passed is not a pidfd of pid {pid}")
        self._check_limits_session()
        await self._check_trace(pid)
        return await self._start_session("launch", [pid], args, args.get("command") or [_comm(pid)])

    async def _op_list(self, args, fds) -> dict:
        return {"sessions": [s.info() for s in self.daemon.sessions.values() if self._may_see(s)]}

    async def _op_watch(self, args, fds) -> dict:
        s = self._session(args["session"])
        if s.passthru:
            raise Refused(P.E_BAD_REQUEST, f"session {s.id} is pass-through (its processes keep the seccomp filter): it makes no records")
        if s.id in self.subs:
            raise Refused(P.E_BAD_REQUEST, f"already subscribed to session {s.id}")
        self._check_limits_watch()
        self._subscribe(s, args.get("policy", "drop"), False)
        return {"session": s.id, "mode": s.mode, "pids": s.pids, "command": s.command, "filter": s.filter}

    async def _op_detach(self, args, fds) -> dict:
        s = self._session(args["session"], control=True)
        if s.passthru:
            raise Refused(P.E_BAD_REQUEST, f"session {s.id} cannot detach: its processes keep the seccomp filter, and its tracer passes their calls through until they exit")
        if s.mode == "launch":
            raise Refused(P.E_BAD_REQUEST, f"session {s.id} launched its command, which cannot run untraced; use: tracectl stop {s.id}")
        s.end("detached")
        return {"session": s.id}

    async def _op_stop(self, args, fds) -> dict:
        s = self._session(args["session"], control=True)
        if s.passthru:
            raise Refused(P.E_BAD_REQUEST, f"session {s.id} cannot stop: its processes keep the seccomp filter, and its tracer passes their calls through until they exit")
        s.end("stopped")
        return {"session": s.id}

    async def _op_stats(self, args, fds) -> dict:
        return self.daemon.stats()


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
        cmd = b" ".join(a for a in argv if a).decode("utf-8", "replace")
        if cmd:
            return cmd
        with open(f"/proc/{pid}/comm") as f:
            return f"[{f.read().strip()}]"
    except OSError:
        return "?"


class Daemon:
    def __init__(self, config: Config):
        self.config = config
        self.sessions: dict[int, Session] = {}
        self.clients: set[Client] = set()
        self._next = 0
        self.records = 0
        self.sessions_total = 0
        self.dropped_ended = 0  # records dropped by sessions that have ended
        self.started_ns = time.monotonic_ns()
        self.dropped_by_session: dict[int, int] = {}
        self.tally = Tally()  # ended sessions' totals, for /metrics
        self.stopping = False
        self.nursery: trio.Nursery | None = None
        self._accept_scope: trio.CancelScope | None = None
        self._idle = trio.Event()

    def next_id(self) -> int:
        self._next += 1
        self.sessions_total += 1
        return self._next

    def worker_pids(self) -> set[int]:
        return {s.worker_pid for s in self.sessions.values() if s.worker_pid}

    def session_ended(self, session: Session) -> None:
        self.sessions.pop(session.id, None)
        self.dropped_ended += session.info()["dropped"]
        self.tally.session_ended(session, session.info()["dropped"])
        self.dropped_by_session.pop(session.id, None)
        self.session_quiet()

    def session_quiet(self) -> None:
        """A session ended or turned pass-through: the drain waits for no
        pass-through worker (they stay with their processes)."""
        if not any(not s.passthru for s in self.sessions.values()):
            self._idle.set()

    def stats(self) -> dict:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        rss = 0
        try:
            with open("/proc/self/statm") as f:
                rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except OSError:
            pass
        return {
            "pid": os.getpid(),
            "version": __version__,
            "sessions": len(self.sessions),
            "connections": len(self.clients),
            "sessions_total": self.sessions_total,
            "records": self.records,
            "dropped": self.dropped_ended + sum(s.info()["dropped"] for s in self.sessions.values()),
            "uptime_ns": time.monotonic_ns() - self.started_ns,
            "cpu_ns": int((ru.ru_utime + ru.ru_stime) * 1e9),
            "rss_kb": rss,
        }

    async def serve(self, listeners: list, *, task_status=trio.TASK_STATUS_IGNORED) -> int:
        # the receiver stays open through the drain: a second signal must not
        # fall back to the default action (death without detaching)
        with trio.open_signal_receiver(*STOP_SIGNALS) as signals:
            # main() blocked them before binding: one that came early is
            # delivered to the receiver now, and workers start unblocked
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            async with trio.open_nursery() as nursery:
                self.nursery = nursery
                nursery.start_soon(self._ticker)
                async with trio.open_nursery() as accept:
                    for ls in listeners:
                        await accept.start(self._accept_loop, ls)
                    sd_notify("READY=1")
                    log.info("ready (pid %d)", os.getpid())
                    task_status.started()
                    async for signum in signals:
                        log.info("%s: stopping", signal.Signals(signum).name)
                        break
                    accept.cancel_scope.cancel()
                nursery.start_soon(self._hurry, signals)
                await self._shutdown()
                nursery.cancel_scope.cancel()
        return 0

    async def _hurry(self, signals) -> None:
        """A second SIGTERM/SIGINT while draining: end the workers now."""
        async for _ in signals:
            log.warning("second signal: killing the workers")
            for s in list(self.sessions.values()):
                s.kill_worker()

    async def _shutdown(self) -> None:
        self.stopping = True
        sd_notify("STOPPING=1")
        def live():
            return [s for s in self.sessions.values() if not s.passthru]

        for s in live():
            s.end("shutdown")  # an injected session turns pass-through
        if live():
            self._idle = trio.Event()
            self.session_quiet()  # in case all turned quiet meanwhile
            with trio.move_on_after(self.config.drain_seconds):
                await self._idle.wait()
            for s in live():
                log.warning("session %d: worker did not end within %ss; killing it", s.id, self.config.drain_seconds)
                s.kill_worker()
            with trio.move_on_after(2):
                while live():
                    await trio.sleep(0.01)
        # flush: let pumps deliver what is queued and the End messages
        with trio.move_on_after(1):
            while any(c.subs for c in self.clients):
                await trio.sleep(0.01)
        log.info("stopped")

    async def _ticker(self) -> None:
        while True:
            await trio.sleep(1)
            for s in list(self.sessions.values()):
                s.tick(1.0)

    async def _accept_loop(self, listener: socket.socket, task_status=trio.TASK_STATUS_IGNORED) -> None:
        listener.setblocking(False)
        tsock = trio.socket.from_stdlib_socket(listener)
        task_status.started()
        while True:
            try:
                sock, _ = await tsock.accept()
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    log.warning("accept: %s", exc.strerror)
                    await trio.sleep(0.1)
                    continue
                raise
            try:
                peer = _auth.peer_of(sock)
            except OSError:
                sock.close()
                continue
            n = sum(1 for c in self.clients if c.peer.uid == peer.uid)
            if not peer.is_root and n >= self.config.connections_per_user:
                log.warning("uid %d: connection limit (%d) reached", peer.uid, self.config.connections_per_user)
                client = Client(self, sock, peer)
                try:
                    await client._fatal(P.E_LIMIT, f"uid {peer.uid} has {n} connections (limit {self.config.connections_per_user})")
                finally:
                    sock.close()
                continue
            self.nursery.start_soon(self._serve_client, sock, peer)

    async def _serve_client(self, sock, peer) -> None:
        client = Client(self, sock, peer)
        self.clients.add(client)
        try:
            await client.serve()
        finally:
            self.clients.discard(client)

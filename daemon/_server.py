"""The daemon: accept loop, one nursery per connection, request dispatch,
policy, shutdown."""

from __future__ import annotations

import errno
import logging
import os
import re
import resource
import signal
import socket
import time
from collections import deque

import trio

from tracerd import PermissionRefused, ProtocolError, TracerdError, TracerError, __version__
from tracerd import _protocol as P
from tracerd._protocol import ConnectionClosed, End, Error, Hello, Reply, Request

from . import _auth, _passthru, _rules
from ._config import Config
from ._metrics import Tally
from ._session import Session, Subscriber
from ._sinkfeed import DaemonSinks, SinkRefused
from ._socket import sd_notify
from ._warm import WarmPool

log = logging.getLogger("tracerd")

STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
RECV_SIZE = 65536
MAX_FDS_PER_MSG = 36  # ancillary room; a run request carries one, plus up to 4 per --sink (8 at most)


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
        self._pidns: tuple | None = None  # _pid_view(), once

    # --- output --------------------------------------------------------------
    async def _write(self, data: bytes) -> None:
        async with self.write_lock:
            view = memoryview(data)
            while view:
                n = await self.sock.send(view)
                view = view[n:]

    async def send_event(self, ev) -> None:
        await self._write(self.proto.send(ev))

    async def send_frames(self, batch: list) -> None:
        """A subscriber's queued `Frames`, through the connection (passed
        through, not parsed again), in one write."""
        send = self.proto.send_with_data_passthrough
        pieces = [p for ev in batch for p in send(ev)]
        await self._write(pieces[0] if len(pieces) == 1 else b"".join(pieces))

    # --- input ---------------------------------------------------------------
    async def serve(self) -> None:
        try:
            async with trio.open_nursery() as nursery:
                self.nursery = nursery
                await self._read_loop()
                nursery.cancel_scope.cancel()
        except Exception as exc:
            if _gone(exc):
                # the client left before its reply: one quiet line
                log.debug("uid %d pid %d: left before its reply", self.peer.uid, self.peer.pid)
            else:  # a bug must cost one connection, not the daemon
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

    async def _cancel_on_hangup(self, scope: trio.CancelScope, watch: trio.CancelScope) -> None:
        """While a request is handled (the reader waits for it), cancel it if
        the client hangs up. Stops watching at the client's next message,
        which the reader will take."""
        with watch:
            await trio.lowlevel.wait_readable(self.sock)
            try:
                data = self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                scope.cancel()

    def _take_fds(self, n: int) -> list[int]:
        """The fds that came with the current message; close any extra."""
        got = [self.fds.popleft() for _ in range(min(n, len(self.fds)))]
        while self.fds:
            os.close(self.fds.popleft())
        return got

    async def _dispatch(self, req: Request) -> None:
        fds = self._take_fds((1 if req.op == "run" else 0) + sum(len(s.get("fds") or ()) for s in req.args.get("sinks") or ()))
        try:
            handler = getattr(self, "_op_" + req.op)
            if req.op in ("attach", "run"):
                # seizing takes a while: the work ends with the connection
                watch = trio.CancelScope()
                with trio.CancelScope() as scope:
                    self.nursery.start_soon(self._cancel_on_hangup, scope, watch)
                    try:
                        result = await handler(req.args, fds)
                    finally:
                        watch.cancel()
                if scope.cancelled_caught:
                    log.debug("uid %d pid %d: left during %s: its work was cancelled", self.peer.uid, self.peer.pid, req.op)
                    return
            else:
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
    def _reserve_session(self) -> list:
        """Check the session limit and take a slot at once (released by
        _start_session whatever happens): nothing may yield between the
        check and the count, or concurrent requests all pass it."""
        d = self.daemon
        if d.stopping:
            raise Refused(P.E_SHUTDOWN, "the daemon is shutting down")
        uid = self.peer.uid
        if not self.peer.is_root:
            n = sum(1 for s in d.sessions.values() if s.owner.uid == uid) + d.reserved.get(uid, 0)
            if n >= d.config.sessions_per_user:
                raise Refused(P.E_LIMIT, f"uid {uid} already owns {n} sessions (limit {d.config.sessions_per_user})")
        d.reserved[uid] = d.reserved.get(uid, 0) + 1
        return [True]  # the slot: held until released once

    def _release_session(self, slot: list) -> None:
        if not slot[0]:
            return
        slot[0] = False
        d = self.daemon
        n = d.reserved.get(self.peer.uid, 0) - 1
        if n > 0:
            d.reserved[self.peer.uid] = n
        else:
            d.reserved.pop(self.peer.uid, None)

    def _check_limits_watch(self) -> None:
        d = self.daemon
        if d.stopping:
            raise Refused(P.E_SHUTDOWN, "the daemon is shutting down")
        if not self.peer.is_root:
            n = sum(1 for c in d.clients if c.peer.uid == self.peer.uid for s in c.subs.values() if not s.owner)
            if n >= d.config.watchers_per_user:
                raise Refused(P.E_LIMIT, f"uid {self.peer.uid} already watches {n} sessions (limit {d.config.watchers_per_user})")

    def _check_trace(self, pid: int) -> None:
        """What the kernel cannot refuse for us: the daemon and its workers.
        Everything else is decided by the seize itself, which a non-root
        owner's worker makes under the owner's credentials."""
        d = self.daemon
        if pid == os.getpid() or pid in d.worker_pids():
            raise PermissionRefused(f"not permitted to trace pid {pid} (the daemon or one of its workers)")
        if not os.path.exists(f"/proc/{pid}"):
            raise Refused(P.E_TRACER, f"attach: ptrace(PTRACE_SEIZE, {pid}): No such process")
        if os.geteuid() != 0 and self.peer.uid != os.geteuid() and not self.peer.is_root:
            # an unprivileged daemon cannot take another user's credentials
            raise PermissionRefused(f"not permitted to trace pid {pid} (this daemon runs as uid {os.geteuid()} and traces only for it)")

    def _refusal(self, exc: TracerError) -> TracerdError:
        """The kernel's EPERM at the seize, as the rule it is."""
        m = _SEIZE_EPERM.search(str(exc))
        if not m:
            return exc
        pid = int(m.group(1))
        if _auth.tracer_of(pid):
            return Refused(P.E_CONFLICT, f"pid {pid} is already traced by another tracer")
        owner = _auth.owner_uid(pid)
        if owner is None:
            return Refused(P.E_TRACER, f"attach: ptrace(PTRACE_SEIZE, {pid}): No such process")
        log.info("uid %d: refused to trace pid %d (owned by uid %d)", self.peer.uid, pid, owner)
        return PermissionRefused(f"not permitted to trace pid {pid} (owned by uid {owner})")

    def _pid_view(self) -> tuple[int, int, list[int], tuple | None]:
        """Where the client's pid namespace is: (its level below ours, 0
        for ours or when it cannot be told; its index on /proc's NSpid
        lines; its own ids there; its namespace's id, when below ours)."""
        if self._pidns is None:
            ours = _auth.proc_level()
            peer = _auth.peer_ids(self.sock, self.peer)
            at = len(peer) - 1
            level = at - ours if at > ours else 0
            self._pidns = (level, at, peer, _auth.pidns_id(peer[0]) if level else None)
        return self._pidns

    def _may_see(self, session: Session) -> bool:
        p = self.peer
        if not (p.is_root or session.owner.uid == p.uid or bool(set(p.groups + (p.gid,)) & self.daemon.config.watch_any)):
            return False
        # a client in a pid namespace of its own sees the sessions made
        # from it alone: another's records number tasks it cannot see
        level, _, _, ns = self._pid_view()
        return not level or getattr(session, "pidns", None) == ns

    def _shown(self, session, info: dict) -> dict:
        """A session's info as this client may see it: in a pid namespace
        of its own, its pids as it numbers them, not the worker's."""
        if self._pid_view()[0]:
            info = dict(info, pids=list(getattr(session, "client_pids", [])), worker=0)
        return info

    def _session(self, sid: int, *, control: bool = False) -> Session:
        s = self.daemon.sessions.get(sid)
        if s is None or not self._may_see(s):
            raise Refused(P.E_NO_SESSION, f"no session {sid}")
        if control and not (self.peer.is_root or s.owner.uid == self.peer.uid):
            raise PermissionRefused(f"not permitted to control session {sid} (owned by uid {s.owner.uid})")
        return s

    def _policy(self, session, policy: str) -> str:
        """Only the session's owner (and root, who may stop any process
        anyway) may hold its tracees with `block`; anyone else gets drop."""
        if policy == "block" and not (self.peer.is_root or session.owner.uid == self.peer.uid):
            return "drop"
        return policy

    def _subscribe(self, session: Session, policy: str, owner: bool, *, pump: bool = True) -> Subscriber:
        """This connection's Subscriber of `session` (the owner's, a
        watcher's, a joining attach's, a rule follower's). pump=False: its
        pump is started later (the owner's, once the session runs, so that
        the reply goes out before any frame)."""
        policy = self._policy(session, policy)
        sub = Subscriber(self, session, policy, owner, self.daemon.config.queue_frames, self.daemon.config.queue_bytes)
        self.subs[session.id] = sub
        session.subscribe(sub)
        if pump:
            self.nursery.start_soon(sub.pump)
        return sub

    def _sinks(self, session: Session, args: dict, fds: list[int]) -> None:
        """The request's --sink URLs: sink processes subscribed to the session."""
        try:
            self.daemon.sinks.attach_user(self.peer, session, args.get("sinks") or [], fds)
        except SinkRefused as exc:
            raise Refused(P.E_BAD_REQUEST, str(exc)) from None

    async def _start_session(self, slot: list, mode: str, pids: list[int], args: dict, command: list[str], inject: bytes = b"", sink_fds=(),
                             pid_level: int = 0, client_pids=None) -> dict:
        d = self.daemon
        session = Session(
            d, d.next_id(), self.peer, mode, pids, args["plan"],
            command=command, bpf_filter=args.get("bpf_filter", ""), drop=args.get("drop", False),
            colocate=args.get("colocate", False), flush_ms=args.get("flush_ms"), inject=inject,
            follow=args.get("follow", True),
        )
        if pid_level:
            # its records number tasks as the owner's namespace does; only
            # clients of that namespace see it (_may_see)
            session.pid_level = pid_level
            session.pidns = self._pid_view()[3]
            session.client_pids = list(client_pids or [])
        session.as_owner = not d.acts_for_daemon(self.peer)
        session.identity = d.worker_identity(self.peer, session.as_owner)
        d._count(self.peer.uid, "sessions_total", 1)
        # the owner subscribes before the worker starts: no record is missed
        sub = self._subscribe(session, "drop" if args.get("drop") else "block", True, pump=False)
        try:
            self._sinks(session, args, list(sink_fds))
        except BaseException:
            self.subs.pop(session.id, None)
            raise
        d.sessions[session.id] = session
        self._release_session(slot)  # the session itself counts from here
        session.spawn = d.warm.take()  # None: spawned now (daemon/_warm.py)
        try:
            await d.nursery.start(session.run)
        except BaseException as exc:
            d.sessions.pop(session.id, None)
            self.subs.pop(session.id, None)
            for s in list(session.subscribers):
                s.close(End(session.id, "error"))  # sink feeds end with it
            if isinstance(exc, TracerError):
                raise self._refusal(exc) from None
            raise
        self.nursery.start_soon(sub.pump)
        if session.spawn is not None and not d.stopping:
            d.warm.fill()  # the next session's, once this one runs
        return {"session": session.id, "joined": False, "worker": session.worker_pid}

    async def _op_attach(self, args: dict, fds) -> dict:
        pids = list(dict.fromkeys(args["pids"]))
        limit = self.daemon.config.pids_per_request
        if len(pids) > limit:
            raise Refused(P.E_LIMIT, f"attach names {len(pids)} pids (limit {limit} per request)")
        theirs = pids
        pids, level = self._attach_pids(pids)
        for pid in pids:
            self._check_trace(pid)
        # already traced by a session? join it when the filter matches and
        # the whole session may be watched by this client; else refuse
        # without naming a session the client may not see
        for s in self.daemon.sessions.values():
            common = [p for p in pids if p in s.pids]
            if not common:
                continue
            if not self._may_see(s):
                raise Refused(P.E_CONFLICT, f"pid {common[0]} is already traced by another session, which you may not watch")
            if s.passthru:
                raise Refused(P.E_CONFLICT, f"pid {common[0]} keeps the seccomp filter of session {s.id}, whose tracer now only passes its calls through until it exits")
            if s.plan != args["plan"] or set(pids) - set(s.pids):
                raise Refused(P.E_CONFLICT, f"pid {common[0]} is already traced by session {s.id} with another filter (tracectl watch {s.id} follows it)")
            if s.id in self.subs:
                raise Refused(P.E_BAD_REQUEST, f"already subscribed to session {s.id}")
            self._check_limits_watch()
            sub = self._subscribe(s, "drop" if args.get("drop") else "block", False)
            return {"session": s.id, "joined": True, "worker": 0 if level else s.worker_pid, "policy": sub.policy}
        slot = self._reserve_session()
        try:
            r = await self._start_session(slot, "attach", pids, args, [_comm(p) for p in pids], inject=args.get("bpf", b""), sink_fds=fds,
                                          pid_level=level, client_pids=theirs)
            if level:
                r["worker"] = 0
            return r
        except TracerdError as exc:
            if level:
                # its numbers, not ours, in what it is told
                names = dict(zip(pids, theirs))
                exc.args = (re.sub(r"(?<!uid )\b\d+\b", lambda m: str(names.get(int(m.group()), m.group())), str(exc)),)
            raise
        finally:
            self._release_session(slot)

    def _attach_pids(self, pids: list[int]) -> tuple[list[int], int]:
        """The pids an attach request names, as we number them, and the
        client's pid namespace level below ours: a client in a namespace of
        its own names processes by its numbers (a thread-group leader's)."""
        level, at, peer, _ = self._pid_view()
        if not level:
            return pids, 0
        ours = at - level
        out = []
        for pid in pids:
            ids = _auth.find_in_pidns(pid, at, peer[0])
            if not ids:
                raise Refused(P.E_TRACER, f"attach: ptrace(PTRACE_SEIZE, {pid}): No such process")
            out.append(ids[ours])
        return out, level

    async def _op_run(self, args: dict, fds) -> dict:
        if not fds:
            raise Refused(P.E_BAD_REQUEST, "run needs the command's pidfd (SCM_RIGHTS)")
        # the pidfd names the command; the client's pid for it is as its own
        # pid namespace numbers it (a client in a container), ours is the first
        ids = _auth.pidfd_ids(fds[0])
        pid, level = self._command_pid(ids, args["pid"])
        self._check_trace(pid)
        slot = self._reserve_session()
        try:
            r = await self._start_session(slot, "launch", [pid], args, args.get("command") or [_comm(pid)], sink_fds=fds[1:],
                                          pid_level=level, client_pids=[args["pid"]])
            r["pid"] = args["pid"] if level else pid  # as the records will name it
            if level:
                r["worker"] = 0  # not a pid the client's namespace has
            return r
        finally:
            self._release_session(slot)

    def _command_pid(self, ids: list[int], theirs: int) -> tuple[int, int]:
        """The command of a run request: its pid as we number it, and how
        many pid namespaces below ours the client's is (0: ours). `ids` are
        the pidfd's NSpid (/proc's namespace first), `theirs` the client's
        number for it. A client in a namespace of its own gets records
        numbering tasks as it does (the worker's pid_level): it never sees
        our numbers, as strace run there would not (docs/daemon.md)."""
        bad = Refused(P.E_BAD_REQUEST, f"the file descriptor passed is not a pidfd of pid {theirs}")
        ours = _auth.proc_level()
        _, at, peer, _ = self._pid_view()  # at: the client's namespace on the NSpid lines
        if not peer and len(ids) > ours and ids[ours] == theirs:
            return ids[ours], 0  # its ids unknown: ours, as it says
        if at < ours or len(ids) <= at or ids[at] != theirs:
            raise bad
        # the same number in another namespace of that depth is another process
        if at > ours and not _auth.pid_ns_above(ids[0], len(ids) - 1 - at, peer[0]):
            raise bad
        return ids[ours], at - ours

    async def _op_list(self, args, fds) -> dict:
        return {"sessions": [self._shown(s, s.info()) for s in self.daemon.sessions.values() if self._may_see(s)]}

    async def _op_watch(self, args, fds) -> dict:
        if ("rule" in args) == ("session" in args):
            raise Refused(P.E_BAD_REQUEST, "watch takes a session or a rule")
        if "rule" in args:
            if args.get("sinks"):
                raise Refused(P.E_BAD_REQUEST, "watch --rule takes no --sink: a rule's records go to its own [[sink]]s")
            if not any(r.name == args["rule"] for r in self.daemon.rules.rules):
                raise Refused(P.E_BAD_REQUEST, f"no rule '{args['rule']}'")
            self._check_limits_watch()
            return self.daemon.rules.follow(self, args["rule"], args.get("policy", "drop"))
        s = self._session(args["session"])
        if s.passthru:
            raise Refused(P.E_BAD_REQUEST, f"session {s.id} is pass-through (its processes keep the seccomp filter): it makes no records")
        if s.id in self.subs:
            raise Refused(P.E_BAD_REQUEST, f"already subscribed to session {s.id}")
        self._check_limits_watch()
        self._sinks(s, args, fds)
        sub = self._subscribe(s, args.get("policy", "drop"), False)
        return {"session": s.id, "mode": s.mode, "pids": self._shown(s, {"pids": s.pids})["pids"], "command": s.command, "filter": s.filter, "policy": sub.policy}

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

    async def _op_rules(self, args, fds) -> dict:
        p = self.peer
        if not (p.is_root or set(p.groups + (p.gid,)) & self.daemon.config.watch_any):
            raise PermissionRefused("not permitted to see the standing rules (root and grant.watch_any groups may)")
        return self.daemon.rules.info()

    async def _op_stats(self, args, fds) -> dict:
        p = self.peer
        if p.is_root or set(p.groups + (p.gid,)) & self.daemon.config.watch_any:
            r = self.daemon.stats()
        else:
            r = self.daemon.stats(uid=p.uid)
        return dict(r, pid=0) if self._pid_view()[0] else r  # not a pid its namespace has


_SEIZE_EPERM = re.compile(r"ptrace\(PTRACE_SEIZE, (\d+)\): " + re.escape(os.strerror(errno.EPERM)))


def _gone(exc: BaseException) -> bool:
    """Only "the peer closed the connection" inside (an exception group of
    the connection's nursery, usually)."""
    if isinstance(exc, BaseExceptionGroup):
        return all(_gone(e) for e in exc.exceptions)
    return isinstance(exc, (trio.BrokenResourceError, trio.ClosedResourceError, ConnectionError))


class _ConnectRate:
    """Per-uid token buckets for new connections (F5 of the attack run: a
    connect/close flood filled the listen backlog for every other user).
    A bucket holds up to two seconds' worth; it refills at the configured
    rate. Idle buckets are forgotten, so the table stays small."""

    MAX_UIDS = 4096

    def __init__(self):
        self._b: dict[int, tuple[float, float]] = {}  # uid -> (tokens, when)
        self._logged: dict[int, float] = {}

    def admit(self, uid: int, rate: float) -> bool:
        now = time.monotonic()
        burst = 2 * rate
        tokens, when = self._b.get(uid, (burst, now))
        tokens = min(burst, tokens + (now - when) * rate)
        ok = tokens >= 1
        self._b[uid] = (tokens - 1 if ok else tokens, now)
        if len(self._b) > self.MAX_UIDS:  # drop the buckets that are full again
            self._b = {u: (t, w) for u, (t, w) in self._b.items() if t + (now - w) * rate < burst}
            self._logged = {u: t for u, t in self._logged.items() if u in self._b}
        return ok

    def should_log(self, uid: int) -> bool:
        now = time.monotonic()
        if now - self._logged.get(uid, -1e9) < 10:
            return False
        self._logged[uid] = now
        return True


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
    def __init__(self, config: Config, state_dir: str | None = None):
        self.config = config
        self.sessions: dict[int, Session] = {}
        self.clients: set[Client] = set()
        self.reserved: dict[int, int] = {}  # uid -> session slots taken by requests being served
        self._rate = _ConnectRate()
        self.state = _passthru.StateFile(state_dir)
        self._state_saved: list | None = None
        self._next = 0
        self.records = 0
        self.sessions_total = 0
        self.dropped_ended = 0  # records dropped by sessions that have ended
        # per owner uid: what `stats` shows a user who may not see it all
        self.by_uid: dict[int, dict[str, int]] = {}
        self.started_ns = time.monotonic_ns()
        self.dropped_by_session: dict[int, int] = {}
        self.tally = Tally()  # ended sessions' totals, for /metrics
        self.stopping = False
        self.nursery: trio.Nursery | None = None
        self._accept_scope: trio.CancelScope | None = None
        self._idle = trio.Event()
        self.rules = None  # standing rules (daemon/_rules.py)
        self.sinks = DaemonSinks(self)  # sink processes (daemon/_sinkfeed.py)
        self.warm = WarmPool(config.warm_workers)  # started workers for the next sessions

    def next_id(self) -> int:
        self._next += 1
        self.sessions_total += 1
        return self._next

    def acts_for_daemon(self, peer: _auth.Peer) -> bool:
        """Whether `peer`'s sessions act with the daemon's own rights: root,
        and members of grant.trace_any groups. Everyone else's act with
        their own (the worker takes their credentials)."""
        return peer.is_root or bool(set(peer.groups + (peer.gid,)) & self.config.trace_any)

    def worker_identity(self, peer: _auth.Peer, as_owner: bool) -> dict:
        """The worker config keys that make a session act with its owner's
        rights: the owner's credentials (when the daemon, being root, has
        to take them) and the memory ceiling of a non-root owner's worker."""
        out = {}
        if as_owner and os.geteuid() == 0:
            out["creds"] = [peer.uid, peer.gid, sorted(set(peer.groups))]
        if not peer.is_root:
            out["memory_limit"] = self.config.worker_memory_mib << 20
        return out

    def _count(self, uid: int, key: str, n: int) -> None:
        c = self.by_uid.setdefault(uid, {"sessions_total": 0, "records": 0, "dropped": 0})
        c[key] += n

    def worker_pids(self) -> set[int]:
        return {s.worker_pid for s in self.sessions.values() if s.worker_pid}

    def session_ended(self, session: Session) -> None:
        if self.sessions.get(session.id) is session:
            self.sessions.pop(session.id)
        dropped = session.info()["dropped"]
        self.dropped_ended += dropped
        self._count(session.owner.uid, "dropped", dropped)
        self._count(session.owner.uid, "records", session.records)
        self.tally.session_ended(session, dropped)
        self.dropped_by_session.pop(session.id, None)
        if session.passthru and not self.stopping:
            # its pass-through worker is gone: processes that still carry
            # the filter are re-attached (daemon/_passthru.py)
            adopted = _passthru.Adopted(
                self, session.id, session.owner, session.as_owner,
                [(p, session.pid_starts.get(p)) for p in session.pids], session.command, session.filter,
            )
            self.sessions[session.id] = adopted
            self.nursery.start_soon(_passthru.keep, self, adopted)
        self.passthru_changed()
        self.session_quiet()

    def passthru_changed(self) -> None:
        """Rewrite the state file: every pass-through worker and its
        processes (not while stopping: those left running stay listed for
        the next daemon)."""
        if self.stopping:
            return
        entries = [_passthru.entry_of(s) for s in self.sessions.values() if s.passthru]
        if entries != self._state_saved:  # most sessions end without any
            self._state_saved = entries
            self.state.save(entries)

    async def _readopt(self) -> None:
        """At start: the pass-through workers (and processes) a previous
        daemon left, from the state file."""
        for e in self.state.load():
            adopted = _passthru.Adopted(self, self.next_id(), e["owner"], e["as_owner"], e["procs"], e["command"], e["filter"])
            wpid, wstart = e["worker"]
            if wstart is not None and _auth.start_time(wpid) == wstart:
                adopted.worker_pid, adopted.worker_start = wpid, wstart
                log.info("session %d: re-adopted pass-through worker %d of %s (uid %d)", adopted.id, wpid, adopted.pids, adopted.owner.uid)
            elif not _passthru.orphans(adopted.procs):
                continue
            self.sessions[adopted.id] = adopted
            self.nursery.start_soon(_passthru.keep, self, adopted)
        self.passthru_changed()

    def session_quiet(self) -> None:
        """A session ended or turned pass-through: the drain waits for no
        pass-through worker (they stay with their processes)."""
        if not any(not s.passthru for s in self.sessions.values()):
            self._idle.set()

    def stats(self, uid: int | None = None) -> dict:
        """The daemon's figures; with `uid`, only that user's own (sessions,
        connections, records, drops): what other users do is not theirs to
        see. CPU and RSS are the daemon's and shown only daemon-wide."""
        if uid is not None:
            mine = [s for s in self.sessions.values() if s.owner.uid == uid]
            c = self.by_uid.get(uid, {"sessions_total": 0, "records": 0, "dropped": 0})
            return {
                "pid": os.getpid(),
                "version": __version__,
                "scope": f"uid {uid}",
                "sessions": len(mine),
                "connections": sum(1 for cl in self.clients if cl.peer.uid == uid),
                "sessions_total": c["sessions_total"],
                "records": c["records"] + sum(s.info()["records"] for s in mine if isinstance(s, Session)),
                "dropped": c["dropped"] + sum(s.info()["dropped"] for s in mine),
                "uptime_ns": time.monotonic_ns() - self.started_ns,
            }
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
            "scope": "daemon",
            "cpu_ns": int((ru.ru_utime + ru.ru_stime) * 1e9),
            "rss_kb": rss,
        }

    async def serve(self, listeners: list, *, publish=None, task_status=trio.TASK_STATUS_IGNORED) -> int:
        """Serve until SIGTERM/SIGINT, then drain. `publish`: the socket's
        step into its path (daemon/_socket.py), taken once the rules are in
        force and the accept loops run."""
        # the receiver stays open through the drain: a second signal must not
        # fall back to the default action (death without detaching)
        with trio.open_signal_receiver(*STOP_SIGNALS) as signals:
            # main() blocked them before binding: one that came early is
            # delivered to the receiver now, and workers start unblocked
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            async with trio.open_nursery() as nursery:
                self.nursery = nursery
                nursery.start_soon(self._ticker)
                await self._readopt()
                await nursery.start(self.sinks.run)
                # standing rules: in force (running matches attached) before READY=1; SIGHUP reloads
                await nursery.start(_rules.serve, self)
                self.warm.fill()
                async with trio.open_nursery() as accept:
                    for ls in listeners:
                        await accept.start(self._accept_loop, ls)
                    if publish is not None:
                        publish.publish()
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
        self.warm.close()
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
            if not peer.is_root and not self._rate.admit(peer.uid, self.config.connects_per_second):
                # a connect flood costs the flooder, not everyone else: its
                # connections are refused at once, and logged once a while
                if self._rate.should_log(peer.uid):
                    log.warning("uid %d: connecting faster than %g per second: refusing", peer.uid, self.config.connects_per_second)
                try:
                    with trio.move_on_after(0.1):  # a fresh socket's buffer takes it at once
                        await Client(self, sock, peer)._fatal(P.E_LIMIT, f"uid {peer.uid} connects too often (limit {self.config.connects_per_second:g} per second)")
                finally:
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

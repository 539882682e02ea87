"""The daemon's sinks: sink processes (tracerd.client.sinks) fed a session's
frames, verbatim, off the forwarding path.

Each sink of a session is one more Subscriber of it: the daemon hands it the
same opaque blobs as any client, and its pump writes them into the sink
process's pipe. `block` sinks hold the session as the owner does; `spool`
and `drop` sinks are `drop` subscribers here (the sink process reads as fast
as it decodes; a LOST record tells it what this queue had to drop).

- A user's `--sink` (run/attach/watch `sinks`): one sink process per session
  and sink, running with the owner's uid and no capability; its spool is
  under STATE/spool/uid-UID/ with the per-uid quota. A non-root owner's
  file:/unix/journal targets and TLS files come as fds (the client opened
  them); a path from a non-root owner is refused.
- `[[sink]]` sinks (rules): one long-lived process per name, shared by the
  sessions that name it (`attach_named`), spool under STATE/spool/sink-NAME.
- At start every spool left non-empty by an earlier daemon (its spec is kept
  beside it in spec.json) is resumed by a process of its own, which keeps
  trying until it has delivered it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import socket
import termios
import time

import msgpack
import trio

from tracerd._protocol import End
from tracerd.client.sinks import encode_unit, open_sink, session_namer, spec_from_dict
from tracerd.client.sinks._core import spool_backlog

from . import _sinkconf
from ._session import Subscriber

log = logging.getLogger("tracerd")

FD_KEYS = ("target", "ca", "cert", "key")
MAX_SINKS = 8  # per request
# what a sink process reports (client/sinks/_worker.py Reporter): gauges, then counters
REPORT_GAUGES = ("queued", "spooled_bytes")
REPORT_COUNTERS = ("delivered", "retried", "failed", "lost")
REPORT_KEYS = REPORT_GAUGES + REPORT_COUNTERS


class SinkRefused(Exception):
    """One line for the client."""


class SinkProc:
    """One sink process and the daemon's end of its pipe."""

    def __init__(self, spec, sink, owned_dir: str | None = None, label: str = "user"):
        self.spec = spec
        self.label = label  # the metrics' `sink` label: a [[sink]] name, "user" or "resumed"
        self.report: dict = {}  # the process's latest counters (client.sinks REPORT_KEYS)
        self.sink = sink
        self.lock = trio.Lock()
        self.stream = trio.lowlevel.FdStream(os.dup(sink.input_fd))  # FdStream makes its fd non-blocking
        self.reports = trio.lowlevel.FdStream(os.dup(sink.input_fd))  # the counters come back up the same socket
        sink._sock.close()
        sink.input_fd = -1
        self.users = 0
        self.retired = False  # replaced or removed by a reload: ends with its last user
        self.dir = owned_dir
        self.subs: set = set()  # the Subscribers feeding this process now
        self.lost_done = 0  # records the daemon dropped for it, of subscribers gone

    def stats(self) -> dict:
        """`tracectl rules`' figures for this sink, from the daemon's side:
        lag_bytes, what the daemon holds for it and its process has not
        read yet (the subscribers' queues and the socket's send queue, as
        the kernel accounts it); spool_bytes, its spool on disk not yet
        delivered; lost, the records the daemon dropped for it (a full
        queue under spool or drop). What the process itself drops (a full
        spool, its memory queue under drop) goes to the collector as `lost`
        messages and to the daemon's log, not here."""
        outq = 0
        try:
            buf = fcntl.ioctl(self.stream.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")  # SIOCOUTQ
            outq = int.from_bytes(buf, "little", signed=True)
        except (OSError, ValueError, trio.ClosedResourceError):
            pass
        return {
            "url": self.spec.url, "policy": self.spec.policy,
            "lag_bytes": sum(s.queued for s in self.subs) + max(outq, 0),
            "spool_bytes": spool_backlog(self.dir) if self.spec.policy == "spool" else 0,
            "lost": self.lost_done + sum(s.dropped for s in self.subs),
            "running": self.sink.proc.poll() is None,
        }

    def terminate(self) -> None:
        try:
            self.stream.close()
        except (OSError, trio.TrioInternalError):
            pass
        if self.sink.proc.poll() is None:
            self.sink.proc.terminate()

    async def write(self, data: bytes) -> None:
        async with self.lock:
            await self.stream.send_all(data)

    async def read_reports(self, sinks) -> None:
        """The counters the process writes back up its socket, until it ends;
        then they join the ended totals of its label."""
        unpacker = msgpack.Unpacker(raw=False, max_buffer_size=1 << 16)
        stream = self.reports
        try:
            while True:
                try:
                    data = await stream.receive_some(4096)
                except (OSError, trio.BrokenResourceError, trio.ClosedResourceError):
                    break
                if not data:
                    break
                try:
                    unpacker.feed(data)
                    for m in unpacker:
                        if isinstance(m, dict):
                            self.report = {k: v for k, v in m.items() if k in REPORT_KEYS and isinstance(v, int) and v >= 0}
                except (ValueError, msgpack.UnpackException):
                    log.warning("sink %s: unreadable counters report: ignored from now on", self.spec.url)
                    break
        finally:
            stream.close()
            sinks.proc_ended(self)

    async def aclose(self) -> None:
        """EOF: the process delivers or spools what it holds and exits. If we
        are cancelled meanwhile (the daemon stops), it is told to end now
        (SIGTERM): a spool is on disk already, and the next daemon resumes it."""
        try:  # EOF for the process although read_reports holds a dup of the socket
            with socket.socket(fileno=os.dup(self.stream.fileno())) as s:
                s.shutdown(socket.SHUT_WR)
        except (OSError, trio.ClosedResourceError):
            pass
        await self.stream.aclose()
        proc = self.sink.proc
        try:
            pidfd = os.pidfd_open(proc.pid)
        except ProcessLookupError:
            pidfd = None
        if pidfd is not None:
            try:
                await trio.lowlevel.wait_readable(pidfd)
            except trio.Cancelled:
                proc.terminate()
                raise
            finally:
                os.close(pidfd)
        proc.wait()


class SinkFeed:
    """What a Subscriber takes for its client: frames become `F` units."""

    def __init__(self, proc: SinkProc, session, own: bool):
        self.proc = proc
        self.session = session
        self.own = own  # the process is this session's alone
        self.subs: dict = {}
        self.closed = False

    async def send_frames(self, batch: list) -> None:
        """The subscriber's queued `Frames`, as they came: one `F` unit."""
        await self.proc.write(encode_unit(b"F", batch[0].data if len(batch) == 1 else b"".join(ev.data for ev in batch)))

    async def send_event(self, ev) -> None:
        if isinstance(ev, End):
            await self.proc.write(encode_unit(b"E", msgpack.packb({"sid": ev.session, "reason": ev.reason}, use_bin_type=True)))

    async def run(self, sub: Subscriber) -> None:
        try:
            try:
                await sub.pump()
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                log.warning("session %d: sink %s: %s", self.session.id, self.proc.spec.url, exc)
                self.session.unsubscribe(sub)
            finally:
                self.proc.users -= 1
                self.proc.subs.discard(sub)
                self.proc.lost_done += sub.dropped
            if self.own or (self.proc.retired and not self.proc.users):
                await self.proc.aclose()  # the process delivers what it holds, then exits
        except trio.Cancelled:
            if self.own or self.proc.retired:  # the daemon stops: the process ends now (a spool stays on disk)
                self.proc.terminate()
            raise


class DaemonSinks:
    def __init__(self, daemon):
        self.daemon = daemon
        self.config = daemon.config
        self.state = _sinkconf.state_dir(self.config)
        self.spool_root = os.path.join(self.state, "spool")
        self.name = session_namer()
        self.named: dict[str, SinkProc] = {}
        self.nursery: trio.Nursery | None = None
        self._n = 0
        self.live: set[SinkProc] = set()  # processes that report counters
        self.ended: dict[str, dict[str, int]] = {}  # label -> counters of ended processes

    def proc_ended(self, p: SinkProc) -> None:
        self.live.discard(p)
        tot = self.ended.setdefault(p.label, {})
        for k in REPORT_COUNTERS:
            tot[k] = tot.get(k, 0) + p.report.get(k, 0)

    def metrics(self) -> tuple[dict, dict]:
        """({label: {gauge: now}}, {label: {counter: total}}) for /metrics."""
        gauges = {n: dict.fromkeys(REPORT_GAUGES, 0) for n in (*self.config.sinks, "user")}
        counters = {n: dict.fromkeys(REPORT_COUNTERS, 0) for n in gauges}
        for lab, tot in self.ended.items():
            c = counters.setdefault(lab, dict.fromkeys(REPORT_COUNTERS, 0))
            for k, v in tot.items():
                c[k] += v
        for p in self.live:
            g = gauges.setdefault(p.label, dict.fromkeys(REPORT_GAUGES, 0))
            c = counters.setdefault(p.label, dict.fromkeys(REPORT_COUNTERS, 0))
            for k in REPORT_GAUGES:
                g[k] += p.report.get(k, 0)
            for k in REPORT_COUNTERS:
                c[k] += p.report.get(k, 0)
        return gauges, counters

    def key(self, session) -> str:
        return self.name(session.id)

    # -- start and stop --------------------------------------------------------
    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self.nursery = nursery
            try:
                self._recover()
                for name, spec in self.config.sinks.items():
                    self.named[name] = self._start(spec, os.path.join(self.spool_root, f"sink-{name}"), uid=None, label=name)
            except OSError as exc:
                log.error("sinks: %s", exc)
            task_status.started()
            try:
                await trio.sleep_forever()
            finally:
                with trio.CancelScope(shield=True):
                    for p in self.named.values():
                        with trio.move_on_after(5):
                            await p.aclose()

    async def reload(self, config) -> None:
        """SIGHUP: the [[sink]] tables of `config` in force. A new name
        starts now. A changed or removed one is retired: the sessions that
        feed it keep it until they end (nothing they send is lost), then it
        delivers or spools what it holds and exits; new sessions take the
        new one, which spools apart while the old one lives."""
        old = self.config.sinks
        self.config = config
        for name, proc in list(self.named.items()):
            spec = config.sinks.get(name)
            if spec is not None and spec.to_dict() == proc.spec.to_dict():
                continue
            del self.named[name]
            proc.retired = True
            if not proc.users:
                self.nursery.start_soon(proc.aclose)  # a slow collector must not hold the reload
            log.info("sinks: [[sink]] %s %s", name, "removed" if spec is None else "changed: the old one ends with its sessions")
        for name, spec in config.sinks.items():
            if name in self.named:
                continue
            d = os.path.join(self.spool_root, f"sink-{name}")
            if any(p.dir == d and p.retired for p in self.live):
                d += f".r{time.monotonic_ns()}"  # the retired one still writes there
            try:
                self.named[name] = self._start(spec, d, uid=None, label=name)
            except OSError as exc:
                log.error("sinks: [[sink]] %s: %s", name, exc)
                continue
            if name not in old:
                log.info("sinks: [[sink]] %s started (%s)", name, spec.url)

    def _recover(self) -> None:
        """Resume every spool an earlier daemon left with messages in it."""
        if not os.path.isdir(self.spool_root):
            return
        named_dirs = {f"sink-{n}" for n in self.config.sinks}
        for top in sorted(os.listdir(self.spool_root)):
            base = os.path.join(self.spool_root, top)
            dirs = [base] if top.startswith("sink-") else [os.path.join(base, d) for d in sorted(os.listdir(base))] if top.startswith("uid-") and os.path.isdir(base) else []
            for d in dirs:
                if top in named_dirs or not os.path.exists(os.path.join(d, "spec.json")):
                    continue
                if not any(f.endswith(".seg") and os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)):
                    shutil.rmtree(d, ignore_errors=True)
                    continue
                try:
                    with open(os.path.join(d, "spec.json")) as f:
                        saved = json.load(f)
                    spec = spec_from_dict(saved["spec"])
                except (OSError, ValueError, KeyError, Exception) as exc:
                    log.warning("sinks: cannot resume the spool %s: %s", d, exc)
                    continue
                if spec.path_target and saved.get("uid"):
                    log.warning("sinks: the spool %s was for a target the user opened (%s): kept, not resent", d, spec.url)
                    continue
                log.info("sinks: resuming the spool %s (%s)", d, spec.url)
                p = self._start(spec, d, uid=saved.get("uid"), recover=True, label="resumed")
                self.nursery.start_soon(self._close_when_done, p)

    async def _close_when_done(self, p: SinkProc) -> None:
        await p.aclose()

    def _start(self, spec, spool_dir: str | None, *, uid, fds=None, recover=False, remove_empty=False, label="user") -> SinkProc:
        quota = None
        gid = None
        if uid:
            import pwd

            try:
                gid = pwd.getpwuid(uid).pw_gid
            except KeyError:
                gid = uid
        if spec.policy == "spool":
            os.makedirs(self.spool_root, mode=0o755, exist_ok=True)
            os.makedirs(spool_dir, mode=0o700, exist_ok=True)
            if uid:
                top = os.path.dirname(spool_dir)
                os.chown(top, uid, gid)
                os.chown(spool_dir, uid, gid)
                quota = (top, self.config.spool_per_uid)
            with open(os.path.join(spool_dir, "spec.json"), "w") as f:
                json.dump({"spec": spec.to_dict(), "uid": uid}, f)
        if recover:
            # keep trying (with backoff) until the spool is delivered
            spec.options["drain_ms"] = 365 * 86400 * 1000
        sink = open_sink(spec, spool_dir=spool_dir, fds=fds, uid=uid, gid=gid, quota=quota, remove_empty=recover or remove_empty, report=True)
        p = SinkProc(spec, sink, spool_dir, label)
        self.live.add(p)
        self.nursery.start_soon(p.read_reports, self)
        return p

    # -- sessions -----------------------------------------------------------------
    def _subscribe(self, session, proc: SinkProc, own: bool, meta: dict) -> None:
        cfg = self.config
        feed = SinkFeed(proc, session, own)
        policy = "block" if proc.spec.policy == "block" else "drop"
        sub = Subscriber(feed, session, policy, False, cfg.queue_frames, cfg.queue_bytes)
        # the S unit goes first, and before any frame: written now, unblocked
        # (the pipe is fresh or a shared one has room for a small unit)
        body = encode_unit(b"S", msgpack.packb({"sid": session.id, "key": self.key(session), "meta": meta}, use_bin_type=True))
        proc.users += 1
        proc.subs.add(sub)
        self.nursery.start_soon(self._open_then_pump, proc, body, feed, sub)
        session.subscribe(sub)

    async def _open_then_pump(self, proc, body, feed, sub) -> None:
        await proc.write(body)
        await feed.run(sub)

    def attach_user(self, peer, session, sinks: list[dict], fds: list[int]) -> None:
        """A client's `--sink`s for `session` (run/attach/watch). Raises
        SinkRefused with one line; `fds` are the request's, in order."""
        if not sinks:
            return
        if len(sinks) > MAX_SINKS:
            raise SinkRefused(f"at most {MAX_SINKS} sinks per session")
        plan = []
        fd_i = 0
        for d in sinks:
            try:
                spec = spec_from_dict(d)
            except Exception as exc:
                raise SinkRefused(str(exc)) from None
            keys = list(d.get("fds") or [])
            mine = {}
            for k in keys:
                if k not in FD_KEYS or fd_i >= len(fds):
                    raise SinkRefused(f"sink {spec.url}: the file descriptors passed do not match")
                mine[k] = fds[fd_i]
                fd_i += 1
            if not peer.is_root:
                if spec.path_target and "target" not in mine:
                    raise SinkRefused(f"sink {spec.url}: a user's {spec.scheme} target must be opened by the client and passed as a file descriptor")
                for k in ("ca", "cert", "key"):
                    if spec.options.get(k) and k not in mine:
                        raise SinkRefused(f"sink {spec.url}: a user's TLS file ({k}) must be passed as a file descriptor")
                if "target" in mine:
                    self._check_target(spec, mine["target"])
            plan.append((spec, mine, d.get("meta") or {}))
        for spec, mine, meta in plan:
            self._n += 1
            uid = None if peer.is_root else peer.uid
            spool_dir = os.path.join(self.spool_root, f"uid-{peer.uid}", f"{self.key(session)}.{self._n}") if spec.policy == "spool" else None
            proc = self._start(spec, spool_dir, uid=uid, fds=mine, remove_empty=True)
            meta = {**meta, "uid": session.owner.uid, "rule": "", **_pidns_meta(session)}
            self._subscribe(session, proc, True, meta)

    @staticmethod
    def _check_target(spec, fd: int) -> None:
        import stat

        st = os.fstat(fd)
        if spec.scheme == "file" and not stat.S_ISREG(st.st_mode) and not stat.S_ISFIFO(st.st_mode) and not stat.S_ISCHR(st.st_mode):
            raise SinkRefused(f"sink {spec.url}: the fd passed is not a file")
        if spec.scheme != "file" and not stat.S_ISSOCK(st.st_mode):
            raise SinkRefused(f"sink {spec.url}: the fd passed is not a socket")

    def attach_named(self, session, names: list[str], rule: str = "", meta: dict | None = None) -> None:
        """A rule's sinks (by [[sink]] name) for `session`."""
        for n in names:
            proc = self.named.get(n)
            if proc is None:
                raise SinkRefused(f"no sink named '{n}'")
            self._subscribe(session, proc, False, {**(meta or {}), "uid": session.owner.uid, "rule": rule, **_pidns_meta(session)})

    def named_stats(self, name: str) -> dict | None:
        """The figures of the [[sink]] `name` (SinkProc.stats), None if there is none."""
        proc = self.named.get(name)
        return None if proc is None else proc.stats()


def _pidns_meta(session) -> dict:
    """A session whose records number tasks as a pid namespace below ours
    does (a client in a namespace of its own): where that namespace is, so
    the sink process finds the tasks' /proc entries (client/sinks/_event.py)."""
    level, ns = getattr(session, "pid_level", 0), getattr(session, "pidns", None)
    if not level or ns is None:
        return {}
    from . import _auth

    return {"pidns": [_auth.proc_level() + level, ns[0], ns[1]]}

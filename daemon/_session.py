"""Sessions: one worker process each, supervised; frames fanned out to
subscribers as opaque bytes through bounded queues."""

from __future__ import annotations

import logging
import os
import signal
import time

import msgpack
import trio

from tracerd import TracerError, _wire
from tracerd._protocol import End, Frames

from . import _auth

log = logging.getLogger("tracerd")

READ_SIZE = 56 * 1024  # per read: below the pinned mmap threshold (tracerd._main), so reads never mmap
READY_TIMEOUT = 30.0
COALESCE_BYTES = 56 * 1024  # a subscriber's queued blobs joined into one write (below the mmap threshold)
GATHER_BELOW = 16 * 1024
GATHER_SECONDS = 0.001  # a subscriber's queued frames joined into one write  # seizing every thread of a big process takes a while


def daemon_record(rtype: _wire.Rec, session: int, seq: int, *fields) -> Frames:
    """A frame holding one record the daemon itself writes (LOST, ERROR): the
    only records that do not come from a worker."""
    rec = msgpack.packb(_wire.record(rtype, seq, time.time_ns(), 0, 0, *fields))
    return Frames.of(_wire.pack_frame(session, seq, [rec]))


async def read_ready(fd: int, timeout: float, what: str) -> str | None:
    """The worker's ready handshake, read without blocking the daemon: None
    once it is ready, else the one line saying why not (its own, or `what`
    when it did not answer within `timeout`). Closes `fd`."""
    from tracerd.native._channel import READY_MAX, ready_error

    ready = b""
    async with trio.lowlevel.FdStream(fd) as rs:
        with trio.move_on_after(timeout) as scope:
            while chunk := await rs.receive_some(4096):
                ready += chunk
                if len(ready) > READY_MAX:
                    break
    if scope.cancelled_caught:
        return what
    return ready_error(ready)


class Subscriber:
    """One client's view of a session: a bounded queue and a policy.

    block: the session waits for room (lossless; holds the worker, which holds
    the tracees, as strace does). drop: a full queue drops the blob and counts
    its records; a LOST record saying how many goes out before the next blob
    that fits. The queue is bounded in items (queue_frames) and in bytes
    (queue_bytes): memory stays flat however slow the client is.
    """

    def __init__(self, client, session: "Session", policy: str, owner: bool, queue_frames: int, queue_bytes: int = 1 << 20):
        self.client = client
        self.session = session
        self.policy = policy
        self.owner = owner
        self.send_ch, self.recv_ch = trio.open_memory_channel(queue_frames)
        self.max_bytes = queue_bytes
        self.queued = 0  # bytes in the queue
        self._room = trio.Event()
        self.closed = False
        self.lost = 0  # records dropped and not yet reported
        self.lost_seq = 0  # seq of the first of them
        self.dropped = 0  # total dropped records
        self.end: End | None = None

    def _full(self, size: int) -> bool:
        return self.queued > 0 and self.queued + size > self.max_bytes

    async def offer(self, frames: Frames) -> None:
        size = len(frames.data)
        try:
            # block: wait for room (items and bytes); the pump sets _room as it
            # takes blobs, close() and a switch to drop (shutdown, stop) too
            while self.policy == "block" and not self.closed:
                if not self._full(size):
                    try:
                        self.send_ch.send_nowait(frames)
                        self.queued += size
                        return
                    except trio.WouldBlock:
                        pass
                await self._room.wait()
            if self.closed:
                raise trio.ClosedResourceError
            if self.lost:
                lost = daemon_record(_wire.Rec.LOST, self.session.id, self.lost_seq, self.lost)
                if self._full(len(lost.data)):
                    raise trio.WouldBlock
                self.send_ch.send_nowait(lost)
                self.queued += len(lost.data)
                self.lost = 0
            if self._full(size):
                raise trio.WouldBlock
            self.send_ch.send_nowait(frames)
            self.queued += size
        except trio.WouldBlock:
            if not self.lost:
                self.lost_seq = frames.first_seq
            self.lost += frames.count
            self.dropped += frames.count
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self.session.unsubscribe(self)

    def lossy(self) -> None:
        """Switch to drop (the session is being ended by someone else)."""
        self.policy = "drop"
        self._room.set()

    def _taken(self, size: int) -> None:
        self.queued -= size
        self._room.set()
        self._room = trio.Event()

    def close(self, end: End) -> None:
        if self.end is None:
            self.end = end
        self.closed = True
        self.send_ch.close()
        self._room.set()

    async def pump(self) -> None:
        """Runs in the client's nursery: queue -> the client's connection
        (`send_frames`: the Frames events, passed through), then End."""
        async with self.recv_ch:
            async for frames in self.recv_ch:
                # coalesce what is queued into one write: one syscall for
                # many small runs of frames
                batch = [frames]
                size = len(frames.data)
                while size < COALESCE_BYTES:
                    try:
                        frames = self.recv_ch.receive_nowait()
                    except (trio.WouldBlock, trio.EndOfChannel):
                        break
                    batch.append(frames)
                    size += len(frames.data)
                try:
                    await self.client.send_frames(batch)
                finally:
                    del batch
                    self._taken(size)
        if self.lost:
            await self.client.send_frames([daemon_record(_wire.Rec.LOST, self.session.id, self.lost_seq, self.lost)])
        await self.client.send_event(self.end or End(self.session.id, "kicked"))
        self.client.subs.pop(self.session.id, None)


class Session:
    def __init__(self, daemon, sid: int, owner, mode: str, pids: list[int], plan: bytes, *, command: list[str], bpf_filter: str, drop: bool, colocate: bool = False, flush_ms: int | None = None, inject: bytes = b"", follow: bool = True):
        self.daemon = daemon
        self.id = sid
        self.owner = owner  # Peer
        self.mode = mode  # "launch" | "attach"
        self.pids = list(pids)
        self.plan = plan
        self.command = command
        self.filter = bpf_filter
        self.drop = drop
        self.colocate = colocate
        self.follow = follow  # launch: False = no filter, the command alone (run without -f)
        self.flush_ms = flush_ms
        # attach --seccomp-bpf: the filter the worker injects. Irreversible:
        # at the end the worker stays on as a pass-through tracer (no
        # records) until the processes exit, and so does this session
        self.inject = inject
        self.passthru = False
        # records number tasks as the owner's pid namespace does, this many
        # levels below ours (a client in a namespace of its own: pidns is
        # that namespace, client_pids the pids as it names them)
        self.pid_level = 0
        self.pidns = None
        self.client_pids: list[int] = []
        # whose rights the worker acts with: the owner's (it takes their
        # credentials) unless the owner is root or has grant.trace_any;
        # identity: the worker config keys saying so (Daemon.worker_identity)
        self.as_owner = False
        self.identity: dict = {}
        # start times: the pids name these processes, not later ones
        self.pid_starts = {p: _auth.start_time(p) for p in self.pids}
        self.spawn = None  # a pre-started worker (standing rules: tracerd.native._idle), else spawn_worker
        self.subscribers: list[Subscriber] = []
        self.records = 0
        self.frames = 0
        self.rate = 0.0
        self._last = 0
        self.started = time.monotonic()
        self.proc = None
        self.worker_pid = 0
        self._channel = None  # tracerd.native._channel.Channel, once run() made it
        self.end_reason: str | None = None
        self.end_message = ""
        self.done = trio.Event()
        self._killed = False  # we SIGKILLed the worker (drain deadline, bad frame)
        self.worker_start: int | None = None  # start time of a pass-through worker

    # --- for ls ----------------------------------------------------------------
    def info(self) -> dict:
        return {
            "session": self.id,
            "uid": self.owner.uid,
            "mode": self.mode,
            "state": "pass-through" if self.passthru else "tracing",
            "seccomp_bpf": bool(self.inject),
            "pids": self.pids,
            "worker": self.worker_pid,
            "command": self.command,
            "filter": self.filter,
            "subscribers": len(self.subscribers),
            "records": self.records,
            "frames": self.frames,
            "rate": round(self.rate, 1),
            "dropped": sum(s.dropped for s in self.subscribers) + self.daemon.dropped_by_session.get(self.id, 0),
        }

    def tick(self, dt: float) -> None:
        self.rate = (self.records - self._last) / dt if dt > 0 else 0.0
        self._last = self.records

    # --- control -----------------------------------------------------------------
    def subscribe(self, sub: Subscriber) -> None:
        self.subscribers.append(sub)

    def unsubscribe(self, sub: Subscriber) -> None:
        if sub in self.subscribers:
            self.subscribers.remove(sub)
            self.daemon.dropped_by_session[self.id] = self.daemon.dropped_by_session.get(self.id, 0) + sub.dropped
        sub.close(End(self.id, "kicked"))

    def control(self, op: _wire.Ctl) -> None:
        if self._channel is not None:
            self._channel.control(op)

    def end(self, reason: str) -> None:
        """Detach (attach mode) or kill (launch mode), as the worker does on EOF."""
        if self.end_reason is None:
            self.end_reason = reason
        if reason == "shutdown" and not self.end_message:
            # the client prints it as is; the same words as its own
            # fallback for a daemon that sends none
            self.end_message = f"session {self.id}: the daemon shut down"
        if reason in ("shutdown", "stopped"):
            # a stalled lossless subscriber must not keep the worker (blocked
            # writing, so not reading its control pipe) from ending: what is
            # still produced is best effort
            for sub in self.subscribers:
                sub.lossy()
        if reason == "detached" or self.mode == "attach":
            self.control(_wire.Ctl.DETACH)
        else:
            self.control(_wire.Ctl.KILL)

    def close_ctl(self) -> None:
        """The consumer is gone: the worker detaches (attach) or kills (launch)."""
        if self._channel is not None:
            self._channel.close_ctl()

    def kill_worker(self) -> None:
        # never a pass-through worker: its processes hold a filter whose
        # traced calls fail with ENOSYS once no tracer is attached
        if self.proc is not None and self.proc.poll() is None and not self.passthru:
            self._killed = True
            self.proc.send_signal(signal.SIGKILL)

    # --- the worker ----------------------------------------------------------------
    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        from tracerd.native._channel import Channel, WorkerConfig

        config = WorkerConfig(
            mode=self.mode, pids=self.pids, plan=self.plan, session=self.id, drop=self.drop, colocate=self.colocate,
            no_follow=self.mode == "launch" and not self.follow, inject_bpf=self.inject, pid_level=self.pid_level,
        )
        if self.flush_ms:
            config.flush_ms = self.flush_ms
        # stats: the worker's counters at its end, for End.status (a
        # launched command's exit), read once the worker is gone
        ch = self._channel = Channel(config, stats=True, passthru=bool(self.inject))
        self.proc = ch.start(self.spawn, self.identity)
        self.worker_pid = self.proc.pid
        out = trio.lowlevel.FdStream(ch.take("out_fd"))
        pt_r = ch.take("passthru_fd")
        try:
            err = await read_ready(ch.take("ready_fd"), READY_TIMEOUT, "timed out waiting for the tracer to seize " + " ".join(map(str, self.pids)))
            if err is not None:
                self.close_ctl()
                self.kill_worker()
                await self._reap()
                raise TracerError(err)
        except BaseException:
            await out.aclose()
            if pt_r >= 0:
                os.close(pt_r)
            ch.close()
            self.kill_worker()
            raise
        log.info("session %d: %s %s by uid %d, worker %d%s", self.id, self.mode, self.pids, self.owner.uid, self.worker_pid, " (filter injected)" if self.inject else "")
        task_status.started()
        try:
            await self._forward(out)
            if pt_r >= 0:
                await self._await_passthru(pt_r)
                pt_r = -1
            await self._reap()
        finally:
            if pt_r >= 0:
                os.close(pt_r)
            self.close_ctl()
            self.kill_worker()
            self._finish()
            ch.close()

    async def _await_passthru(self, fd: int) -> None:
        """The stream has ended: b"P" here says the worker stays on as the
        processes' pass-through tracer. The subscribers' streams end now, as
        a detach (the worker's note came as its last record); the session
        stays listed, holding nothing, until the worker exits."""
        async with trio.lowlevel.FdStream(fd) as ps:
            self.passthru = await ps.receive_some(1) == b"P"
        if not self.passthru:
            return
        self.worker_start = _auth.start_time(self.worker_pid)
        self.daemon.passthru_changed()
        self.end_reason = self.end_reason or "detached"
        log.info("session %d: pass-through: worker %d stays attached to %s until they exit", self.id, self.worker_pid, self.pids)
        end = End(self.id, "detached", None, f"the processes keep their seccomp filter; tracer pid {self.worker_pid} stays attached (pass-through) until they exit")
        for sub in list(self.subscribers):
            self.subscribers.remove(sub)
            self.daemon.dropped_by_session[self.id] = self.daemon.dropped_by_session.get(self.id, 0) + sub.dropped
            sub.close(end)
        self.daemon.session_quiet()

    async def _forward(self, out) -> None:
        """Worker frames -> every subscriber, undecoded (the header is enough)."""
        # a worker may run as its owner: its frames are checked, never
        # trusted to name another session
        sid = self.id & 0xFFFFFFFF
        splitter = _wire.FrameSplitter(session=sid)
        async with out:
            while True:
                chunk = await out.receive_some(READ_SIZE)
                if not chunk:
                    break
                if len(chunk) < GATHER_BELOW:
                    # a short read: the worker writes many tiny frames (it
                    # flushes whenever its loop would wait). Let a few more
                    # arrive and handle them in one pass: ~1 ms of latency
                    # for a large cut in per-frame daemon CPU
                    await trio.sleep(GATHER_SECONDS)
                splitter.feed(chunk)
                # the complete frames, each header parsed once, forwarded as
                # one run (concatenated frames are still a valid stream for
                # the client): one queue item and one write per pass
                try:
                    run = splitter.run()
                except ValueError as exc:
                    self.end_message = f"bad frame from the worker: {exc}"
                    log.error("session %d: %s", self.id, self.end_message)
                    self.end_reason = self.end_reason or "error"
                    self.kill_worker()
                    return
                if run is None:
                    continue
                first, count, nframes, data = run
                frames = Frames(sid, first, count, data)
                self.frames += nframes
                self.records += count
                self.daemon.records += count
                for sub in list(self.subscribers):
                    await sub.offer(frames)

    async def _reap(self) -> None:
        if self.proc is not None:
            await _auth.wait_exit(self.proc.pid, self.proc)

    def _root_status(self) -> int | None:
        """The launched command's exit code (-N: killed by signal N) from the
        worker's final counters; None for attach or when it was not seen."""
        fd = self._channel.take("stats_fd") if self._channel is not None else -1
        if fd < 0:
            return None
        data = b""
        try:
            if self.proc is not None and self.proc.returncode is not None:
                while chunk := os.read(fd, 4096):  # the worker is gone: EOF follows
                    data += chunk
        except OSError:
            pass
        finally:
            os.close(fd)
        try:
            st = msgpack.unpackb(data) if data else {}
            self.worker_stats = st if isinstance(st, dict) else {}  # for /metrics
            ws = st.get("root_status", -1) if isinstance(st, dict) else -1
            return os.waitstatus_to_exitcode(ws) if self.mode == "launch" and isinstance(ws, int) and ws >= 0 else None
        except (ValueError, msgpack.UnpackException):
            return None

    def _finish(self) -> None:
        rc = self.proc.returncode if self.proc is not None else None
        reason = self.end_reason
        message = self.end_message
        if self.passthru and rc is None:
            # the daemon is stopping: the worker stays with its processes
            log.warning("session %d: leaving pass-through worker %d attached to %s", self.id, self.worker_pid, self.pids)
        elif rc != 0 and not self._killed:
            what = f"killed by signal {-rc}" if rc is not None and rc < 0 else f"exited with status {rc}"
            message = message or f"tracer worker {self.worker_pid} {what}"
            reason = "worker-died" if reason in (None, "error") else reason
            log.warning("session %d: %s", self.id, message)
            frame = daemon_record(_wire.Rec.ERROR, self.id, self.records, 0, message)  # Frames
            for sub in self.subscribers:
                try:
                    sub.send_ch.send_nowait(frame)
                except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError):
                    pass  # a full queue still gets the End with the message
        reason = reason or "exited"
        end = End(self.id, reason, self._root_status(), message)
        for sub in list(self.subscribers):
            sub.close(end)
        self.daemon.session_ended(self)
        self.done.set()
        log.info("session %d ended: %s", self.id, reason)

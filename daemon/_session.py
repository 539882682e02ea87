"""Sessions: one worker process each, supervised; frames fanned out to
subscribers as opaque bytes through bounded queues."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import time

import msgpack
import trio

from tracerd import TracerError, _wire
from tracerd._protocol import End

from . import _auth

log = logging.getLogger("tracerd")

PIPE_SIZE = 1 << 20  # worker -> daemon pipe: room for one maximum frame
READ_SIZE = 56 * 1024  # per read: below the pinned mmap threshold (tracerd._main), so reads never mmap
READY_TIMEOUT = 30.0
COALESCE_BYTES = 56 * 1024  # a subscriber's queued blobs joined into one write (below the mmap threshold)
GATHER_BELOW = 16 * 1024
GATHER_SECONDS = 0.001  # a subscriber's queued frames joined into one write  # seizing every thread of a big process takes a while


def daemon_record(rtype: _wire.Rec, session: int, seq: int, *fields) -> bytes:
    """A frame holding one record the daemon itself writes (LOST, ERROR): the
    only records that do not come from a worker."""
    rec = msgpack.packb(_wire.record(rtype, seq, time.time_ns(), 0, 0, *fields))
    return _wire.pack_frame(session, seq, [rec])


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

    async def offer(self, frame: bytes, first_seq: int, count: int) -> None:
        size = len(frame)
        try:
            # block: wait for room (items and bytes); the pump sets _room as it
            # takes blobs, close() and a switch to drop (shutdown, stop) too
            while self.policy == "block" and not self.closed:
                if not self._full(size):
                    try:
                        self.send_ch.send_nowait(frame)
                        self.queued += size
                        return
                    except trio.WouldBlock:
                        pass
                await self._room.wait()
            if self.closed:
                raise trio.ClosedResourceError
            if self.lost:
                lost = daemon_record(_wire.Rec.LOST, self.session.id, self.lost_seq, self.lost)
                if self._full(len(lost)):
                    raise trio.WouldBlock
                self.send_ch.send_nowait(lost)
                self.queued += len(lost)
                self.lost = 0
            if self._full(size):
                raise trio.WouldBlock
            self.send_ch.send_nowait(frame)
            self.queued += size
        except trio.WouldBlock:
            if not self.lost:
                self.lost_seq = first_seq
            self.lost += count
            self.dropped += count
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
        """Runs in the client's nursery: queue -> socket, then End."""
        async with self.recv_ch:
            async for frame in self.recv_ch:
                # coalesce what is queued into one write: one syscall for
                # many small blobs
                batch = [frame]
                size = len(frame)
                while size < COALESCE_BYTES:
                    try:
                        frame = self.recv_ch.receive_nowait()
                    except (trio.WouldBlock, trio.EndOfChannel):
                        break
                    batch.append(frame)
                    size += len(frame)
                data = batch[0] if len(batch) == 1 else b"".join(batch)
                del batch
                try:
                    await self.client.write_raw(data)
                finally:
                    self._taken(size)
        if self.lost:
            await self.client.write_raw(daemon_record(_wire.Rec.LOST, self.session.id, self.lost_seq, self.lost))
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
        self._ctl_w: int | None = None
        self._stats_r = -1
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
        if self._ctl_w is None:
            return
        try:
            os.write(self._ctl_w, _wire.CONTROL.pack(op, 0))
        except OSError:
            pass

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
        if self._ctl_w is not None:
            os.close(self._ctl_w)
            self._ctl_w = None

    def kill_worker(self) -> None:
        # never a pass-through worker: its processes hold a filter whose
        # traced calls fail with ENOSYS once no tracer is attached
        if self.proc is not None and self.proc.poll() is None and not self.passthru:
            self._killed = True
            self.proc.send_signal(signal.SIGKILL)

    # --- the worker ----------------------------------------------------------------
    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        try:
            from tracerd.native import spawn_worker
        except ImportError as exc:
            raise TracerError(f"the tracer worker is not available ({exc})") from None
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        ctl_r, ctl_w = os.pipe2(os.O_CLOEXEC)
        ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
        pt_r, pt_w = os.pipe2(os.O_CLOEXEC) if self.inject else (-1, -1)
        # the worker's counters at its end, for End.status (a launched
        # command's exit): a few hundred bytes, read once the worker is gone
        st_r, st_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        try:
            fcntl.fcntl(out_w, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        except OSError:
            pass  # above /proc/sys/fs/pipe-max-size for non-root: keep the default
        config = {
            "mode": self.mode,
            "pids": self.pids,
            "plan": self.plan,
            "out_fd": out_w,
            "ctl_fd": ctl_r,
            "ready_fd": ready_w,
            "session": self.id,
            "drop": self.drop,
            "colocate": self.colocate,
        }
        if self.flush_ms:
            config["flush_ms"] = self.flush_ms
        if self.mode == "launch" and not self.follow:
            config["no_follow"] = True
        config.update(self.identity)
        mine = [out_w, ctl_r, ready_w, st_w]
        config["stats_fd"] = st_w
        if self.inject:
            config["inject_bpf"] = self.inject
            config["passthru_fd"] = pt_w
            mine.append(pt_w)
        try:
            self.proc = (self.spawn or spawn_worker)(config, pass_fds=tuple(mine))
        except BaseException:
            for fd in (out_r, ctl_w, ready_r, *mine, pt_r, st_r):
                if fd >= 0:
                    os.close(fd)
            raise
        for fd in mine:
            os.close(fd)
        self.worker_pid = self.proc.pid
        self._ctl_w = ctl_w
        self._stats_r = st_r
        out = trio.lowlevel.FdStream(out_r)
        try:
            ready = b""
            async with trio.lowlevel.FdStream(ready_r) as rs:
                with trio.move_on_after(READY_TIMEOUT) as scope:
                    while chunk := await rs.receive_some(4096):
                        ready += chunk
                        if len(ready) > 4096:
                            break
            if scope.cancelled_caught:
                ready = b"Etimed out waiting for the tracer to seize " + " ".join(map(str, self.pids)).encode()
            if ready != b"\0":
                msg = ready[1:].decode("utf-8", "replace").strip() if ready[:1] == b"E" else "the tracer exited before it was ready"
                self.close_ctl()
                self.kill_worker()
                await self._reap()
                raise TracerError(msg or "the tracer failed")
        except BaseException:
            await out.aclose()
            if pt_r >= 0:
                os.close(pt_r)
            if self._stats_r >= 0:
                os.close(self._stats_r)
                self._stats_r = -1
            self.close_ctl()
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
        buf = bytearray()
        hs = _wire.FRAME_HEADER_SIZE
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
                buf += chunk
                # walk the headers of the complete frames; forward them as one
                # blob (concatenated frames are still a valid stream for the
                # client): one queue item and one write per pass, not per frame
                pos = 0
                first = None
                count = 0
                while len(buf) - pos >= hs:
                    try:
                        _kind, fsid, fseq, fcount, length = _wire.unpack_header(memoryview(buf)[pos:])
                        if fsid != self.id & 0xFFFFFFFF:
                            # a worker may run as its owner: its frames are
                            # checked, never trusted to name another session
                            raise ValueError(f"frame for session {fsid}")
                    except ValueError as exc:
                        self.end_message = f"bad frame from the worker: {exc}"
                        log.error("session %d: %s", self.id, self.end_message)
                        self.end_reason = self.end_reason or "error"
                        self.kill_worker()
                        return
                    if len(buf) - pos < hs + length:
                        break
                    if first is None:
                        first = fseq
                    count += fcount
                    pos += hs + length
                    self.frames += 1
                if not pos:
                    continue
                blob = bytes(buf[:pos])
                del buf[:pos]
                self.records += count
                self.daemon.records += count
                for sub in list(self.subscribers):
                    await sub.offer(blob, first, count)

    async def _reap(self) -> None:
        if self.proc is not None:
            await _auth.wait_exit(self.proc.pid, self.proc)

    def _root_status(self) -> int | None:
        """The launched command's exit code (-N: killed by signal N) from the
        worker's final counters; None for attach or when it was not seen."""
        fd, self._stats_r = self._stats_r, -1
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
            frame = daemon_record(_wire.Rec.ERROR, self.id, self.records, 0, message)
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

"""Embedded mode: trace without a daemon, the worker a child of this process.

`EmbeddedRun` forks the command (client/_launch.py), starts the worker
(`tracerd.native.spawn_worker`, or a worker forked earlier by
`tracerd.native.fork_worker` passed as `worker=`), waits until the worker has
seized the command, then releases it. `EmbeddedAttach` starts a worker on
running pids. Both hand out the worker's frames as
``(first_seq, count, payload)``.
"""

from __future__ import annotations

import fcntl
import os

from tracerd import _wire
from tracerd._errors import TracerError

from ._launch import launch, read_to_eof

F_SETPIPE_SZ = 1031  # linux/fcntl.h; Python 3.11's fcntl module has it only from 3.10 on Linux builds that define it
_PIPE_SZ = 1 << 20
_SYNC_READ = 1 << 16


def _spawn_worker(config, pass_fds):
    from tracerd.native import spawn_worker  # the worker entry point only

    return spawn_worker(config, pass_fds=pass_fds)


def prefork_worker():
    """A worker forked now (tracerd.native.fork_worker) for a session made
    later with `worker=`; None when that is not possible (the session then
    spawns one). Fork before loading much: the worker keeps a copy-on-write
    image of this process."""
    try:
        from tracerd.native import fork_worker
    except ImportError:
        return None
    return fork_worker()


class _Session:
    def __init__(self, plan: bytes, drop: bool, colocate: bool, session: int, flush_ms: int, batch_bytes: int,
                 worker_options: dict | None = None, worker=None):
        self._plan = bytes(plan)
        self._worker_options = dict(worker_options or {})
        self._drop = drop
        self._colocate = colocate
        self._session = session
        self._flush_ms = flush_ms
        self._batch_bytes = batch_bytes
        self._worker = None
        self._pending = worker  # a ForkedWorker waiting for its config, or None
        self._out_r = -1
        self._ctl_w = -1
        self._stats_r = -1
        self._ack_w = -1
        self.sync = False  # set before start(): the worker waits for ack() before each resume
        self.entry_lines = ()  # with sync: (pers, nr) whose entry is printed before the call runs
        self._buf = bytearray()
        self._pos = 0
        self._eof = False
        self.worker_status = None
        self.stats = None

    def _start_worker(self, mode: str, pids: list[int], want_stats: bool = False) -> None:
        out_r, out_w = os.pipe()
        ctl_r, ctl_w = os.pipe()
        rdy_r, rdy_w = os.pipe()
        try:
            fcntl.fcntl(out_w, getattr(fcntl, "F_SETPIPE_SZ", F_SETPIPE_SZ), _PIPE_SZ)
        except OSError:
            pass  # a smaller pipe only means more frequent wake-ups
        fds = [out_w, ctl_r, rdy_w]
        if self._worker_options.get("passthru_fd", -1) >= 0:
            fds.append(self._worker_options["passthru_fd"])  # the worker's; closed here as the others
        config = {
            "mode": mode,
            "pids": list(pids),
            "plan": self._plan,
            "out_fd": out_w,
            "ctl_fd": ctl_r,
            "ready_fd": rdy_w,
            "session": self._session,
            "flush_ms": self._flush_ms,
            "batch_bytes": self._batch_bytes,
            "drop": self._drop,
            "colocate": self._colocate,
            **self._worker_options,
        }
        ack_r = -1
        if self.sync:
            # sync mode (native/tracer.h's ack_fd): the worker resumes a
            # tracee only after ack() says its records are printed
            ack_r, self._ack_w = os.pipe()
            config["ack_fd"] = ack_r
            config["entry_lines"] = [[int(p), int(n)] for p, n in self.entry_lines]
            fds.append(ack_r)
        if want_stats:
            stats_r, stats_w = os.pipe()
            config["stats_fd"] = stats_w
            fds.append(stats_w)
            self._stats_r = stats_r
        try:
            pending, self._pending = self._pending, None
            if pending is not None:
                self._worker = pending.start(config, fds)
            else:
                self._worker = _spawn_worker(config, fds)
        finally:
            for fd in fds:
                os.close(fd)
        self._out_r = out_r
        self._ctl_w = ctl_w
        msg = b""
        while True:
            b = os.read(rdy_r, 4096)
            if not b:
                break
            msg += b
        os.close(rdy_r)
        if msg != b"\0":
            self._close_fds()
            self.worker_status = self._worker.wait()
            text = msg[1:].decode("utf-8", "replace") if msg.startswith(b"E") else "the tracer worker failed to start"
            raise TracerError(text)

    def frames(self):
        """Yield ``(first_seq, count, payload)`` until the worker's stream ends."""
        fd = self._out_r
        buf = self._buf
        hs = _wire.FRAME_HEADER_SIZE
        while True:
            # frames are consumed by moving self._pos; the buffer is
            # compacted only before the next read (deleting per frame would
            # move the rest of a 1 MiB read each time)
            while len(buf) - self._pos >= hs:
                pos = self._pos
                _kind, _session, first, count, length = _wire.unpack_header(bytes(buf[pos : pos + hs]))
                if len(buf) - pos < hs + length:
                    break
                payload = bytes(buf[pos + hs : pos + hs + length])
                self._pos = pos + hs + length
                yield first, count, payload
            if self._eof or fd < 0:
                return
            if self._pos:
                del buf[: self._pos]
                self._pos = 0
            # sync mode: one small frame per read; a 1 MiB read buffer would
            # be mapped and unmapped each time (malloc's mmap threshold)
            chunk = os.read(fd, _SYNC_READ if self.sync else _PIPE_SZ)
            if not chunk:
                self._eof = True
                if len(buf) > self._pos:
                    raise TracerError("the tracer worker's stream ended inside a frame")
                return
            buf += chunk

    def records(self):
        """Every record, decoded (tests and simple consumers)."""
        for _first, _count, payload in self.frames():
            yield from _wire.iter_records(payload)

    def ack(self, next_seq: int) -> None:
        """Sync mode: every record before `next_seq` is printed (the worker
        may resume the tracee it holds)."""
        if self._ack_w >= 0:
            try:
                os.write(self._ack_w, next_seq.to_bytes(8, "little"))
            except OSError:  # the worker is gone
                os.close(self._ack_w)
                self._ack_w = -1

    def send(self, op: int, arg: int = 0) -> None:
        if self._ctl_w >= 0:
            try:
                os.write(self._ctl_w, _wire.CONTROL.pack(op, arg))
            except BrokenPipeError:
                pass

    def _close_fds(self):
        for name in ("_ctl_w", "_out_r", "_ack_w"):
            fd = getattr(self, name)
            if fd >= 0:
                os.close(fd)
                setattr(self, name, -1)

    def abandon_worker(self) -> None:
        """Let go of a forked worker that was never started."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.abandon()

    def _finish_worker(self):
        self.abandon_worker()
        if self._worker is not None and self.worker_status is None:
            self.worker_status = self._worker.wait()
        if self._stats_r >= 0:
            import msgpack

            data = read_to_eof(self._stats_r)
            self._stats_r = -1
            self.stats = msgpack.unpackb(data) if data else None


class EmbeddedRun(_Session):
    """Run `argv` under the tracer: ``start()``, iterate ``frames()``, then
    ``status()`` for the command's wait status; ``close()`` kills it early."""

    def __init__(self, argv, *, bpf: bytes, plan: bytes, env=None, cwd=None, drop=False, colocate=False,
                 session: int = 0, flush_ms: int = 20, batch_bytes: int = 65536, stats: bool = False,
                 worker_options: dict | None = None, worker=None, user=None, ignored=(), follow=True, daemonize: int = 0):
        super().__init__(plan, drop, colocate, session, flush_ms, batch_bytes, worker_options, worker)
        if not follow:  # no filter: the command alone, plain syscall stops
            self._worker_options["no_follow"] = True
        self._daemonize = daemonize
        self._user = user
        self._ignored = tuple(ignored)
        self._argv = list(argv)
        self._bpf = bytes(bpf) if bpf is not None else None
        self._env = env
        self._cwd = cwd
        self._want_stats = stats
        self.child = None

    def start(self) -> "EmbeddedRun":
        self.child = launch(self._argv, bpf=self._bpf, env=self._env, cwd=self._cwd, user=self._user, ignored=self._ignored, daemonize=self._daemonize)
        try:
            # the worker will be our child: naming ourselves covers it
            self.child.allow_tracer(os.getpid())
            self._start_worker("launch", [self.child.pid], self._want_stats)
        except BaseException:
            self.child.kill()
            self.child.wait()
            raise
        self.child.release()
        if self.sync:
            # the exec happened (or failed): from here on the worker may
            # hold the tracee until we ack its records (release() itself
            # waits for the exec, which a held tracee would never do)
            self.ack(0)
        return self

    def close(self) -> None:
        """Kill the command (if still running) and reap the worker."""
        if self._ctl_w >= 0 and not self._eof:
            self.send(_wire.Ctl.KILL)
        self._close_fds()
        self._finish_worker()

    def status(self) -> int:
        """The command's os.waitpid status (waits for it)."""
        st = self.child.wait()
        return st

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        if self.child is not None:
            self.child.wait()


class EmbeddedAttach(_Session):
    """Trace running `pids` (every thread); ``close()`` detaches cleanly."""

    def __init__(self, pids, *, plan: bytes, drop=False, session: int = 0, flush_ms: int = 20,
                 batch_bytes: int = 65536, stats: bool = False, bpf: bytes | None = None, worker_options: dict | None = None, worker=None):
        super().__init__(plan, drop, False, session, flush_ms, batch_bytes, worker_options, worker)
        self._pids = [int(p) for p in pids]
        self._want_stats = stats
        self._inject = bytes(bpf) if bpf else b""
        self._passthru_r = -1
        # True once the worker stayed on as the processes' pass-through tracer
        # (attach --seccomp-bpf, then a detach): it is not waited for
        self.passthru = False

    def start(self) -> "EmbeddedAttach":
        if self._inject:
            # the worker injects the filter; a byte on this pipe says it
            # outlives our detach as a pass-through tracer
            self._passthru_r, w = os.pipe()
            self._worker_options.update(inject_bpf=self._inject, passthru_fd=w)
        try:
            self._start_worker("attach", self._pids, self._want_stats)
        except BaseException:
            if self._passthru_r >= 0:
                os.close(self._passthru_r)
                self._passthru_r = -1
            raise
        return self

    def detach(self) -> None:
        """Ask the worker to detach; frames() then runs to the end."""
        self.send(_wire.Ctl.DETACH)

    def close(self) -> None:
        if self._ctl_w >= 0 and not self._eof:
            self.send(_wire.Ctl.DETACH)
            # drain so the worker is never blocked writing while detaching
            for _ in self.frames():
                pass
        self._close_fds()
        if self._passthru_r >= 0:
            # written (or closed) right after the worker ended our stream
            self.passthru = os.read(self._passthru_r, 1) == b"P"
            os.close(self._passthru_r)
            self._passthru_r = -1
        if self.passthru:
            if self._stats_r >= 0:  # written when it ends, not now
                os.close(self._stats_r)
                self._stats_r = -1
            return
        self._finish_worker()

    def status(self):
        return None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

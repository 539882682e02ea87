"""Embedded mode: trace without a daemon, the worker a child of this process.

`EmbeddedRun` forks the command (client/_launch.py), starts the worker
(`tracerd.native.spawn_worker`, or a worker forked earlier by
`tracerd.native.fork_worker` passed as `worker=`), waits until the worker has
seized the command, then releases it. `EmbeddedAttach` starts a worker on
running pids. Both drive it through the worker channel
(`tracerd.native._channel`, as the daemon does) and hand out its frames as
``(first_seq, count, payload)``: the payload a memoryview of the whole frame
(`tracerd._wire.frame_of`), each header parsed once.
"""

from __future__ import annotations

import os

from tracerd import _wire
from tracerd._errors import TracerError

from ._launch import launch, read_to_eof

_READ = 1 << 20  # as much as the pipe holds (tracerd.native._channel.PIPE_SIZE)
_SYNC_READ = 1 << 16


def prefork_worker():
    """A worker forked now (tracerd.native.fork_worker) for a session made
    later with `worker=`; None when that is not possible (the session then
    spawns one). Fork before loading much: the worker keeps a copy-on-write
    image of this process."""
    from tracerd.native import fork_worker

    return fork_worker()


class _Session:
    def __init__(self, plan: bytes, drop: bool, colocate: bool, tuning: dict, worker_options: dict | None = None, worker=None):
        from tracerd.native._channel import KEYS, WorkerConfig  # the worker entry point's side only

        # the session's config; WorkerConfig's defaults are the one place for
        # what is not said here (flush_ms, batch_bytes: as the daemon's).
        # worker_options: more config keys, and a spawned worker's own
        # (memory_limit, creds), passed beside the config
        opts = {k: v for k, v in {**tuning, **(worker_options or {})}.items() if v is not None}
        self.config = WorkerConfig(plan=bytes(plan), drop=drop, colocate=colocate, **{k: v for k, v in opts.items() if k in KEYS})
        self._extra = {k: v for k, v in opts.items() if k not in KEYS}
        self._worker = None
        self._pending = worker  # a ForkedWorker waiting for its config, or None
        self._ch = None  # the Channel, once started
        self._out_r = -1
        self.sync = False  # set before start(): the worker waits for ack() before each resume
        self.entry_lines = ()  # with sync: (pers, nr) whose entry is printed before the call runs
        self._frames = _wire.FrameSplitter()
        self._eof = False
        self.worker_status = None
        self.stats = None

    def _start_worker(self, mode: str, pids: list[int], want_stats: bool = False, passthru: bool = False, starter=None) -> None:
        from tracerd.native._channel import Channel

        self.config.mode = mode
        self.config.pids = list(pids)
        if self.sync:
            # sync mode (native/tracer.h's ack_fd): the worker resumes a
            # tracee only after ack() says its records are printed
            self.config.entry_lines = [(int(p), int(n)) for p, n in self.entry_lines]
        ch = self._ch = Channel(self.config, stats=want_stats, ack=self.sync, passthru=passthru)
        pending, self._pending = self._pending, None
        if pending is not None:
            starter = pending.start
        self._worker = ch.start(starter, self._extra)
        self._out_r = ch.out_fd
        try:
            ch.read_ready()
        except TracerError:
            self._close_fds()
            self.worker_status = self._worker.wait()
            raise

    def frames(self):
        """Yield ``(first_seq, count, payload)`` until the worker's stream ends."""
        splitter = self._frames
        while True:
            yield from splitter.frames()
            fd = self._out_r
            if self._eof or fd < 0:
                return
            # sync mode: one small frame per read; a 1 MiB read buffer would
            # be mapped and unmapped each time (malloc's mmap threshold)
            chunk = os.read(fd, _SYNC_READ if self.sync else _READ)
            if not chunk:
                self._eof = True
                if splitter.pending:
                    raise TracerError("the tracer worker's stream ended inside a frame")
                return
            splitter.feed(chunk)

    def records(self):
        """Every record, decoded (tests and simple consumers)."""
        for _first, _count, payload in self.frames():
            yield from _wire.iter_records(payload)

    def ack(self, next_seq: int) -> None:
        """Sync mode: every record before `next_seq` is printed (the worker
        may resume the tracee it holds)."""
        if self._ch is not None:
            self._ch.ack(next_seq)

    def send(self, op: int, arg: int = 0) -> None:
        if self._ch is not None:
            self._ch.control(op, arg)

    @property
    def _running(self) -> bool:
        """Started, and the stream not over yet."""
        return self._ch is not None and self._ch.ctl_fd >= 0 and not self._eof

    def _close_fds(self):
        """Close the frame, control and ack pipes (stats and pass-through stay)."""
        self._out_r = -1
        if self._ch is not None:
            self._ch.close_fds("ctl_fd", "out_fd", "ack_fd")

    def abandon_worker(self) -> None:
        """Let go of a forked worker that was never started."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.abandon()

    def _finish_worker(self):
        self.abandon_worker()
        if self._worker is not None and self.worker_status is None:
            self.worker_status = self._worker.wait()
        fd = self._ch.take("stats_fd") if self._ch is not None else -1
        if fd >= 0:
            import msgpack

            os.set_blocking(fd, True)  # the worker is gone: EOF follows its counters
            data = read_to_eof(fd)
            self.stats = msgpack.unpackb(data) if data else None


class EmbeddedRun(_Session):
    """Run `argv` under the tracer: ``start()``, iterate ``frames()``, then
    ``status()`` for the command's wait status; ``close()`` kills it early."""

    def __init__(self, argv, *, bpf: bytes, plan: bytes, env=None, cwd=None, drop=False, colocate=False,
                 session: int | None = None, flush_ms: int | None = None, batch_bytes: int | None = None, stats: bool = False,
                 worker_options: dict | None = None, worker=None, user=None, ignored=(), follow=True, daemonize: int = 0):
        super().__init__(plan, drop, colocate, {"session": session, "flush_ms": flush_ms, "batch_bytes": batch_bytes}, worker_options, worker)
        if not follow:  # no filter: the command alone, plain syscall stops
            self.config.no_follow = True
        self._daemonize = daemonize
        if daemonize:
            self.config.daemonized = True  # the caller's process: never killed, left pass-through
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
            starter = None
            if self._daemonize:
                # -D: the tracer is an orphan, as strace's (the reaper's
                # child, in our process group or session): the command names
                # it its ptracer before it gets its config and seizes
                from functools import partial

                from tracerd.native._worker import spawn_orphan_worker

                starter = partial(spawn_orphan_worker, before_config=self.child.allow_tracer)
            else:
                # the worker will be our child: naming ourselves covers it
                self.child.allow_tracer(os.getpid())
            self._start_worker("launch", [self.child.pid], self._want_stats, starter=starter)
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
        if self._running:
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

    def __init__(self, pids, *, plan: bytes, drop=False, session: int | None = None, flush_ms: int | None = None,
                 batch_bytes: int | None = None, stats: bool = False, bpf: bytes | None = None, worker_options: dict | None = None, worker=None):
        super().__init__(plan, drop, False, {"session": session, "flush_ms": flush_ms, "batch_bytes": batch_bytes}, worker_options, worker)
        self._pids = [int(p) for p in pids]
        self._want_stats = stats
        self._inject = bytes(bpf) if bpf else b""
        self._passthru_r = -1
        # True once the worker stayed on as the processes' pass-through tracer
        # (attach --seccomp-bpf, then a detach): it is not waited for
        self.passthru = False

    def start(self) -> "EmbeddedAttach":
        if self._inject:
            # the worker injects the filter; a byte on the pass-through pipe
            # says it outlives our detach as a pass-through tracer
            self.config.inject_bpf = self._inject
        try:
            self._start_worker("attach", self._pids, self._want_stats, passthru=bool(self._inject))
        except BaseException:
            if self._ch is not None:
                self._ch.close_fds("passthru_fd")
            raise
        self._passthru_r = self._ch.take("passthru_fd")
        return self

    def detach(self) -> None:
        """Ask the worker to detach; frames() then runs to the end."""
        self.send(_wire.Ctl.DETACH)

    def close(self) -> None:
        if self._running:
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
            if self._ch is not None:  # the counters are written when it ends, not now
                self._ch.close()
            return
        self._finish_worker()

    def status(self):
        return None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

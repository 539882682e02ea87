"""The consumer's end of a worker: one way to start one and talk to it.

The embedded client (client/_embedded.py) and the daemon (daemon/_session.py)
both drive the worker of native/_worker.py through this module:

- `WorkerConfig`: the session's config, one class holding every key with
  its default (docs/protocol.md, "Worker config"). It travels as a msgpack map
  (`to_wire()`) and the worker reads it back with `WorkerConfig.from_wire()`,
  which refuses unknown keys, before copying it into a `struct tr_config`
  (native/_config.py: the keys, defaults and C forms, whence the struct is
  generated).
- `Channel`: makes the pipes (frames, control, ready; stats, ack and
  pass-through when asked), sizes the frame pipe, starts the worker with the
  config (spawned, forked earlier, or warm: anything called as
  ``spawn_worker(config, pass_fds)``), closes the worker's ends, and holds
  the consumer's: `read_ready()` (blocking) or `ready_error()` on what an
  asynchronous reader got, `control()`, `close_ctl()`.
- Frames are cut by `tracerd._wire.FrameSplitter`, which parses each header
  once.

Imports only the standard library and the base: the worker imports it too.
"""

from __future__ import annotations

import fcntl
import os

from tracerd._errors import TracerError

from ._config import FIELDS, choices

PIPE_SIZE = 1 << 20  # the frame pipe: room for one maximum frame
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # linux/fcntl.h
READY_MAX = 4096  # a ready message longer than this is cut (one line is expected)

# Every key of the config, its default and its C form: native/_config.py
# (docs/protocol.md, "Worker config", says what each is).
_FIELDS = {k: default for k, (default, _form, _doc) in FIELDS.items()}
KEYS = frozenset(_FIELDS)
FD_KEYS = tuple(k for k in _FIELDS if k.endswith("_fd"))


class WorkerConfig:
    """A worker's config, one field per key of `_FIELDS`, with its default.

    A dataclass in all but the import: the worker imports this module, and
    a spawned worker's start should not pay for `dataclasses` (and the
    `inspect` it pulls in)."""

    __slots__ = tuple(_FIELDS)

    def __init__(self, **kw):
        unknown = set(kw) - KEYS
        if unknown:
            raise TracerError(f"unknown worker config key {sorted(unknown)[0]!r}")
        for k, default in _FIELDS.items():
            setattr(self, k, kw.get(k, default))

    def __eq__(self, other) -> bool:
        return type(other) is WorkerConfig and self.to_wire() == other.to_wire()

    def __repr__(self) -> str:
        return "WorkerConfig(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in _FIELDS) + ")"

    def to_wire(self) -> dict:
        """The msgpack map the worker reads (`from_wire`)."""
        d = {k: getattr(self, k) for k in _FIELDS}
        d["pids"] = [int(p) for p in self.pids]
        d["entry_lines"] = [[int(p), int(n)] for p, n in self.entry_lines]
        d["plan"] = bytes(self.plan)
        d["inject_bpf"] = bytes(self.inject_bpf)
        return d

    @classmethod
    def from_wire(cls, d: dict) -> "WorkerConfig":
        """Check a config map (unknown keys, mode, pids, wait); TracerError
        with one line."""
        cfg = cls(**d)
        if cfg.mode not in choices("mode"):
            raise TracerError(f"unknown worker mode {cfg.mode!r}")
        if not cfg.pids:
            raise TracerError("no pid to trace")
        if cfg.mode == "launch" and len(cfg.pids) != 1:
            raise TracerError("launch mode takes exactly one pid")
        if not (isinstance(cfg.pid_level, int) and 0 <= cfg.pid_level <= 32):
            raise TracerError(f"bad pid_level {cfg.pid_level!r}")
        if cfg.wait not in choices("wait"):
            raise TracerError(f"unknown wait mode {cfg.wait!r}")
        return cfg


def ready_error(msg: bytes) -> str | None:
    """What the worker said on its ready pipe: None for ready (b"\\0"), else
    the one line to report (b"E" + message; nothing: it died first)."""
    if msg == b"\0":
        return None
    if msg[:1] == b"E":
        return msg[1:READY_MAX].decode("utf-8", "replace").strip() or "the tracer failed"
    return "the tracer exited before it was ready"


class Channel:
    """Pipes to and from one worker, and its start.

    ``Channel(config, stats=..., ack=..., passthru=...)`` makes the pipes and
    writes the worker's ends into `config`; ``start(starter, extra)`` hands
    the worker its config; the consumer's ends are the attributes `out_fd`
    (frames), `ctl_fd` (control), `ready_fd`, `stats_fd`, `ack_fd`,
    `passthru_fd` (-1 when not asked for). All are close-on-exec here."""

    def __init__(self, config: WorkerConfig, *, stats: bool = False, ack: bool = False, passthru: bool = False):
        self.config = config
        self.out_fd = self.ctl_fd = self.ready_fd = self.stats_fd = self.ack_fd = self.passthru_fd = -1
        self._theirs: list[int] = []
        try:
            self.out_fd, config.out_fd = self._pipe(read_ours=True)
            try:
                fcntl.fcntl(config.out_fd, F_SETPIPE_SZ, PIPE_SIZE)
            except OSError:
                pass  # above /proc/sys/fs/pipe-max-size for non-root: a smaller pipe, more wake-ups
            config.ctl_fd, self.ctl_fd = self._pipe(read_ours=False)
            self.ready_fd, config.ready_fd = self._pipe(read_ours=True)
            if stats:
                # the worker's counters at its end: a few hundred bytes, read
                # once it is gone (non-blocking: never wait on a live one)
                self.stats_fd, config.stats_fd = self._pipe(read_ours=True)
                os.set_blocking(self.stats_fd, False)
            if ack:
                config.ack_fd, self.ack_fd = self._pipe(read_ours=False)
            if passthru:
                self.passthru_fd, config.passthru_fd = self._pipe(read_ours=True)
        except BaseException:
            self.close()
            raise

    def _pipe(self, *, read_ours: bool) -> tuple[int, int]:
        r, w = os.pipe2(os.O_CLOEXEC)
        self._theirs.append(w if read_ours else r)
        return r, w

    def start(self, starter=None, extra: dict | None = None):
        """Start the worker: ``starter(config_map, pass_fds=...)`` (default
        spawn_worker; a ForkedWorker's `start`, a warm worker) with the
        config and `extra` keys (a spawned worker's `creds`,
        `memory_limit`). The worker's ends are closed here, whatever
        happens; on failure the consumer's too. Returns what starter does."""
        if starter is None:
            from ._worker import spawn_worker as starter
        theirs, self._theirs = self._theirs, []
        try:
            return starter({**self.config.to_wire(), **(extra or {})}, pass_fds=tuple(theirs))
        except BaseException:
            self.close()
            raise
        finally:
            for fd in theirs:
                os.close(fd)

    def read_ready(self) -> None:
        """Block until the worker is ready (every pid seized); TracerError
        with the worker's one line otherwise. The ready pipe is closed."""
        fd, self.ready_fd = self.ready_fd, -1
        msg = b""
        try:
            while len(msg) <= READY_MAX:
                b = os.read(fd, 4096)
                if not b:
                    break
                msg += b
        finally:
            os.close(fd)
        err = ready_error(msg)
        if err is not None:
            raise TracerError(err)

    def control(self, op: int, arg: int = 0) -> bool:
        """Send a control message (docs/protocol.md); False when the worker
        no longer reads them."""
        if self.ctl_fd < 0:
            return False
        from tracerd._wire import CONTROL

        try:
            os.write(self.ctl_fd, CONTROL.pack(op, arg))
            return True
        except OSError:
            return False

    def close_ctl(self) -> None:
        """EOF on the control pipe: the consumer is gone (the worker detaches
        or kills)."""
        self.close_fds("ctl_fd")

    def ack(self, next_seq: int) -> None:
        """Sync mode: every record before `next_seq` is printed."""
        if self.ack_fd >= 0:
            try:
                os.write(self.ack_fd, next_seq.to_bytes(8, "little"))
            except OSError:  # the worker is gone
                self.close_fds("ack_fd")

    def take(self, name: str) -> int:
        """Hand one of the consumer's fds over (the caller closes it)."""
        fd = getattr(self, name)
        setattr(self, name, -1)
        return fd

    def close_fds(self, *names: str) -> None:
        """Close these of the consumer's fds (by attribute name) if still held."""
        for name in names:
            fd = getattr(self, name)
            if fd >= 0:
                setattr(self, name, -1)
                os.close(fd)

    def close(self) -> None:
        """Close every fd still held (the worker's ends too, before a start)."""
        self.close_fds("out_fd", "ctl_fd", "ready_fd", "stats_fd", "ack_fd", "passthru_fd")
        theirs, self._theirs = self._theirs, []
        for fd in theirs:
            os.close(fd)

"""The worker process: runs the native loop on a config dict.

Imports nothing but the standard library, msgpack and the cffi extension (no
trio). Two ways to start it:

- ``spawn_worker``: ``python -I -m tracerd.native`` with the config, a
  msgpack map, on stdin (the daemon's way: a fresh interpreter that holds
  nothing of its parent's, started isolated: in "/", with a minimal
  environment, and -I so that neither the directory nor PYTHON* variables
  decide what is imported). Given ``creds``, it takes the owner's ids before
  it seizes anything (see ``_become``).
- ``fork_worker``: fork the calling process early, before the config is
  known, and hand it the config and its fds later over a socketpair
  (SCM_RIGHTS). The embedded client's way: a fresh interpreter costs ~45 ms
  of start-up (Python, tracerd, msgpack, the cffi module) that a fork taken
  while tracectl is still small saves, its import of the cffi module
  overlapping with the client's own set-up.
"""

from __future__ import annotations

import gc
import os
import resource
import signal
import socket
import struct
import sys
import time

import msgpack

from tracerd._errors import NativeMissing, TracerError

from ._channel import FD_KEYS, WorkerConfig
from ._config import fill

# The config is WorkerConfig (native/_channel.py): its keys and defaults are
# there, once (docs/protocol.md, "Worker config").
STATS = ("stops", "seccomp_stops", "syscall_stops", "records", "frames", "bytes", "lost", "splits", "tasks_max", "tasks_total", "root_status",
         "tampered", "tamper_setregs")


def stop_latency_edges_ns() -> list[int]:
    """Upper edges (ns, inclusive) of the stop-latency buckets but the last
    (which holds everything longer): 2^TR_LAT_SHIFT, then doubling."""
    from ._tracer import lib

    return [1 << (lib.TR_LAT_SHIFT + i) for i in range(lib.TR_LAT_BUCKETS - 1)]


def _native():
    try:
        from . import _tracer
    except ImportError as exc:  # not built: say how to build it
        raise NativeMissing(str(exc)) from None
    return _tracer


def worker_main(config: dict) -> int:
    """Run the loop in this process until every task is gone or detached.
    `config`: a WorkerConfig's map (`to_wire()`, as it came on stdin or over
    the socket).

    Returns the worker's exit status: 0, or 1 after a failure (reported on
    ready_fd before the loop started, or as the message printed on stderr)."""
    try:
        cfg = WorkerConfig.from_wire(config)
        native = _native()
    except (TracerError, TypeError) as exc:
        _fail_ready(config.get("ready_fd", -1), str(exc))
        return 1
    ffi, lib = native.ffi, native.lib
    # The consumer decides when we end (ctl EOF, DETACH, KILL): a terminal's
    # ^C or ^\ reaches the whole foreground group, and strace running a
    # command ignores them too. A dead consumer shows as EPIPE, not SIGPIPE.
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)
    # the config's third form, what the C loop reads: the struct generated
    # from the same table, filled key by key (native/_config.py)
    c, _keep = fill(ffi, cfg)
    st = ffi.new("struct tr_stats *")
    err = ffi.new("char[]", 512)
    cpu0 = time.process_time_ns()
    r = lib.tr_run(c, st, err, 512)
    if cfg.stats_fd >= 0:
        stats = {k: getattr(st, k) for k in STATS}
        # stop latency: counts per log2 bucket (edges: stop_latency_edges_ns) and their sum
        stats["stop_ns_hist"] = list(st.stop_ns_hist)
        stats["stop_ns_sum"] = st.stop_ns_sum
        stats["cpu_ns"] = time.process_time_ns() - cpu0  # the loop's own CPU (user + system)
        stats["peak_rss_kb"] = _peak_rss_kb()
        try:
            os.write(cfg.stats_fd, msgpack.packb(stats))
        except OSError:
            pass
        os.close(cfg.stats_fd)
    if r < 0:
        msg = ffi.string(err).decode("utf-8", "replace")
        if msg:  # empty: reported on ready_fd, the consumer says it
            print(f"tracerd worker: {msg}", file=sys.stderr)
        return 1
    return 0


def _peak_rss_kb() -> int:
    """This process's peak resident memory since its exec (VmHWM; ru_maxrss
    would include what the process was before its exec), or -1."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return -1


def _fail_ready(fd: int, msg: str) -> None:
    if fd is None or fd < 0:
        print(f"tracerd worker: {msg}", file=sys.stderr)
        return
    try:
        os.write(fd, b"E" + msg.encode())
        os.close(fd)
    except OSError:
        pass


# What a spawned worker's environment holds: nothing the caller's environment
# (or a user's) could use to change what the interpreter loads or does.
SPAWN_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8"}


def spawn_worker(config: dict, pass_fds=()):
    """Start ``python -I -m tracerd.native`` with `config` on its stdin;
    returns the subprocess.Popen.

    Every fd the config names (out_fd, ctl_fd, ready_fd, stats_fd) must be in
    pass_fds; nothing else is inherited. Besides worker_main's keys the config
    may hold ``creds`` ([uid, gid, [groups]]: the worker becomes that user
    before anything else), ``memory_limit`` (bytes: RLIMIT_AS and
    RLIMIT_DATA, soft and hard) and ``mode`` "passthru" (tracerd.native's
    pass-through tracer, no records: _passthru.py)."""
    import subprocess  # only here: the forked worker never needs it

    # -I: no current directory, script directory or user site on sys.path,
    # no PYTHON* variables; cwd "/": nothing relative resolves where the
    # caller stood (a user-writable directory must not supply our modules)
    proc = subprocess.Popen(
        [sys.executable, "-I", "-m", "tracerd.native"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,  # the client's stdout is not ours to hold open
        pass_fds=tuple(pass_fds),
        close_fds=True,
        cwd="/",
        env=dict(SPAWN_ENV),
    )
    if config is None:  # the caller writes it (spawn_orphan_worker)
        return proc
    _send_config(proc, config)
    return proc


def _send_config(proc, config: dict) -> None:
    """The config, msgpack on the worker's stdin (a worker already gone
    reports itself through its ready fd)."""
    try:
        proc.stdin.write(msgpack.packb(config, use_bin_type=True))
        proc.stdin.close()
    except BrokenPipeError:
        pass


class OrphanWorker:
    """A worker whose parent has exited (spawn_orphan_worker): not our child,
    so it is not waited for; wait() blocks on its pidfd until it has gone and
    returns None (its status went to the reaper that adopted it)."""

    def __init__(self, pid: int):
        self.pid = pid
        try:
            self._pidfd = os.pidfd_open(pid)
        except OSError:  # already gone
            self._pidfd = -1

    def wait(self):
        if self._pidfd >= 0:
            import select

            p = select.poll()
            p.register(self._pidfd, select.POLLIN)
            while not p.poll():
                pass
            os.close(self._pidfd)
            self._pidfd = -1
        return None


def spawn_orphan_worker(config: dict, pass_fds=(), before_config=None) -> OrphanWorker:
    """spawn_worker() from a middle process that exits at once: the worker is
    adopted by the nearest reaper (init or a subreaper), as strace -D's
    tracer is. `before_config(pid)` runs in the middle process before the
    worker gets its config (which it waits for before doing anything): the
    command can name the worker its ptracer (Yama) before being seized."""
    r, w = os.pipe()
    mid = os.fork()
    if mid == 0:  # the middle process: never returns
        code = 1
        try:
            os.close(r)
            proc = spawn_worker(None, pass_fds=pass_fds)
            if before_config is not None:
                before_config(proc.pid)
            _send_config(proc, config)
            os.write(w, proc.pid.to_bytes(4, "little"))
            code = 0
        except BaseException:
            pass
        finally:
            os._exit(code)
    os.close(w)
    got = b""
    try:
        while len(got) < 4:
            b = os.read(r, 4 - len(got))
            if not b:
                break
            got += b
    finally:
        os.close(r)
        while True:
            try:
                os.waitpid(mid, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                break
    if len(got) < 4:
        from tracerd._errors import TracerError

        raise TracerError("the tracer worker could not be started")
    return OrphanWorker(int.from_bytes(got, "little"))


def main() -> int:
    data = sys.stdin.buffer.read()
    try:
        config = msgpack.unpackb(data, raw=False)
    except Exception as exc:  # any malformed input: one line, exit 1
        print(f"tracerd worker: bad config on stdin: {exc}", file=sys.stderr)
        return 1
    if not isinstance(config, dict):
        print("tracerd worker: bad config on stdin: not a map", file=sys.stderr)
        return 1
    # everything is imported before the worker takes its owner's ids: the
    # interpreter and this package may live where that user cannot read
    # (a venv under /root), and nothing is loaded from disk after that
    passthru = config.get("mode") == "passthru"
    if passthru:
        from ._passthru import passthru_main
    else:
        try:
            _native()
        except NativeMissing:
            pass  # worker_main reports it on ready_fd
    if not _take_owner(config):
        return 1
    if passthru:
        return passthru_main(config)
    return worker_main(config)


def _take_owner(config: dict) -> bool:
    """The session owner's memory ceiling and ids (config's `memory_limit`
    and `creds`), before any seize and with no thread started; False (the
    failure said on ready_fd) when they cannot be taken."""
    try:
        _limit_memory(config.pop("memory_limit", None))
        _become(config.pop("creds", None))
    except (OSError, ValueError, TypeError) as exc:
        _fail_ready(config.get("ready_fd", -1), f"cannot take the session owner's credentials: {exc}")
        return False
    return True


def _limit_memory(limit) -> None:
    """The per-session memory ceiling of a non-root owner's worker: set while
    still root, soft and hard, so the owner (who may signal the worker once
    it runs under their uid) cannot raise it."""
    if limit is None:
        return
    limit = int(limit)
    for res in (resource.RLIMIT_AS, resource.RLIMIT_DATA):
        resource.setrlimit(res, (limit, limit))


def _become(creds) -> None:
    """Take the session owner's uid, gid and groups, all of them (real,
    effective, saved), so no capability remains, permitted ones included:
    from here the kernel judges every seize, memory read and later setid
    exec of a tracee by the owner's credentials alone (ptrace_link keeps the
    seizing task's credentials; a setid exec under a tracer without
    CAP_SYS_PTRACE is downgraded). Done in a fresh interpreter before any
    seize and before any thread exists, so the process-wide calls are
    enough. The worker is non-dumpable afterwards (the kernel's rule for a
    process whose ids changed): the owner cannot ptrace it."""
    if creds is None:
        return
    uid, gid, groups = creds
    uid, gid, groups = int(uid), int(gid), [int(g) for g in groups]
    if uid == 0:
        raise ValueError("refusing to become uid 0")
    os.setgroups(groups)
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid):
        raise OSError("the ids did not change")
    # the capability sets must be empty now (the kernel clears them when
    # every uid leaves 0); check rather than trust
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("CapPrm:", "CapEff:", "CapAmb:")) and int(line.split()[1], 16):
                raise OSError(f"capabilities remain ({line.strip()})")


_LEN = struct.Struct("<I")


class ForkedWorker:
    """A worker forked by `fork_worker`, waiting for `start(config, pass_fds)`.

    Shaped like the subprocess.Popen `spawn_worker` returns, as far as its
    users go: `pid`, `returncode`, `poll()`, `wait()`, `kill()`."""

    def __init__(self, pid: int, sock: socket.socket):
        self.pid = pid
        self.returncode = None
        self._sock = sock

    def start(self, config: dict, pass_fds=()) -> "ForkedWorker":
        """Hand the worker its config and fds (same contract as spawn_worker:
        every fd the config names is in pass_fds). The caller still closes
        its own copies. A worker that died meanwhile shows as EOF on its
        ready_fd (the caller's copy of which it must close), as with spawn."""
        fds = [int(fd) for fd in pass_fds]
        data = msgpack.packb({"config": config, "fds": fds}, use_bin_type=True)
        sock, self._sock = self._sock, None
        if sock is None:
            raise TracerError("this worker was already started or abandoned")
        try:
            socket.send_fds(sock, [_LEN.pack(len(data))], fds)
            sock.sendall(data)
        except OSError:
            pass  # it died: the caller sees its ready pipe close
        finally:
            sock.close()
        return self

    def abandon(self) -> None:
        """Not needed after all: the worker exits quietly; reaped here."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            self.wait()

    def poll(self):
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        while self.returncode is None:
            try:
                _, status = os.waitpid(self.pid, 0)
            except InterruptedError:
                continue
            except ChildProcessError:  # reaped elsewhere
                self.returncode = 0
                break
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def fork_worker() -> ForkedWorker | None:
    """Fork a worker now; it loads the native loop and waits for its config
    (ForkedWorker.start). None when this process cannot fork safely (other
    threads run: a forked child would hold their locks): use spawn_worker.

    Fork early, while the process holds little: the worker keeps a
    copy-on-write image of it. Signal handlers set in Python are reset to
    the default in the worker, stdin and stdout become /dev/null, and every fd but
    0-2 is closed there, so it holds what a spawned worker holds."""
    if "threading" in sys.modules and sys.modules["threading"].active_count() > 1:
        return None
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except (OSError, ValueError, AttributeError):
            pass
    try:
        pid = os.fork()
    except OSError:  # EAGAIN, ENOMEM: spawn_worker will say it properly
        parent.close()
        child.close()
        return None
    if pid == 0:  # the worker: never returns
        status = 1
        try:
            parent.close()
            status = _forked_main(child)
        except BaseException as exc:  # one line, as the spawned worker's main does
            try:
                print(f"tracerd worker: {exc}", file=sys.stderr)
            except BaseException:
                pass
        finally:
            try:
                sys.stderr.flush()
            finally:
                os._exit(status)
    child.close()
    return ForkedWorker(pid, parent)


def _forked_main(sock: socket.socket) -> int:
    # what the parent made stays out of every collection here: a pass over
    # it would write to each object and copy the pages shared with the parent
    gc.freeze()
    gc.enable()  # as in a fresh interpreter (the client may hold it off while starting)
    for signo in signal.valid_signals():
        try:
            if callable(signal.getsignal(signo)):
                signal.signal(signo, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
    # as worker_main will: a terminal's ^C or ^\ is for the client, which
    # then closes our socket (an exit before start) or the ctl pipe
    for signo in (signal.SIGINT, signal.SIGQUIT):
        signal.signal(signo, signal.SIG_IGN)
    # stdin and stdout too: the client's pipeline must see EOF when the
    # command closes them, not when the worker ends (strace holds neither)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        if null != fd:
            os.dup2(null, fd)
    if null > 1:
        os.close(null)
    keep = sock.fileno()
    os.closerange(3, keep)
    os.closerange(keep + 1, 1 << 20)
    try:
        _native()  # load the cffi module while the parent prepares the config
    except NativeMissing:
        pass  # worker_main reports it on ready_fd
    hdr, fds, _flags, _addr = socket.recv_fds(sock, _LEN.size, 16)
    if not hdr:
        return 0  # abandoned before start: nothing to say
    try:
        while len(hdr) < _LEN.size:
            more = sock.recv(_LEN.size - len(hdr))
            if not more:
                return 1
            hdr += more
        (n,) = _LEN.unpack(hdr)
        data = bytearray()
        while len(data) < n:
            more = sock.recv(min(n - len(data), 1 << 20))
            if not more:
                return 1
            data += more
    finally:
        sock.close()
    msg = msgpack.unpackb(bytes(data), raw=False)
    config, theirs = msg["config"], msg["fds"]
    if len(theirs) != len(fds):
        raise TracerError(f"expected {len(theirs)} fds from the client, got {len(fds)}")
    ours = dict(zip(theirs, fds))
    missing = None
    for k in FD_KEYS:
        fd = config.get(k, -1)
        if fd is not None and fd >= 0:
            if fd in ours:
                config[k] = ours[fd]
            else:
                missing = missing or f"{k} {fd} was not passed to the worker"
                config[k] = -1
    if missing:
        _fail_ready(config.get("ready_fd", -1), missing)
        return 1
    # a worker started ahead of need (the daemon's warm and idle workers)
    # takes its session owner's ids here, as a spawned one does in main()
    if not _take_owner(config):
        return 1
    return worker_main(config)

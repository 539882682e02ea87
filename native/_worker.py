"""The worker process: runs the native loop on a config dict.

Imports nothing but the standard library, msgpack and the cffi extension (no
trio): the daemon and the embedded client both start it as
``python -m tracerd.native`` with the config, a msgpack map, on stdin.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import msgpack

from tracerd._errors import NativeMissing, TracerError

# Config keys and their defaults (docs/protocol.md, "Worker config").
DEFAULTS = {
    "mode": "launch",
    "pids": (),
    "plan": b"",
    "out_fd": -1,
    "ctl_fd": -1,
    "ready_fd": -1,
    "session": 0,
    "flush_ms": 20,
    "batch_bytes": 65536,
    "drop": False,
    "colocate": False,
    # optional: how long a non-empty batch may wait for more records when
    # the loop is about to block (0 = flush at once)
    "linger_us": 10000,
    # optional: "poll" (signalfd + ctl fd + timerfd in one poll) or
    # "blocking" (block in wait4; ticks by SIGALRM)
    "wait": "blocking",
    # optional: the worker writes a msgpack map of counters here at the end
    "stats_fd": -1,
    # optional, attach mode: a seccomp filter (bpfgen's compile_filter bytes)
    # injected into every seized process (attach --seccomp-bpf)
    "inject_bpf": b"",
    # optional, with inject_bpf: b"P" is written here when the consumer has
    # detached and the worker stays on as a pass-through tracer
    "passthru_fd": -1,
}
STATS = ("stops", "seccomp_stops", "syscall_stops", "records", "frames", "bytes", "lost", "splits", "tasks_max", "tasks_total")


def _native():
    try:
        from . import _tracer
    except ImportError as exc:  # not built: say how to build it
        raise NativeMissing(str(exc)) from None
    return _tracer


def _check(config: dict) -> dict:
    unknown = set(config) - set(DEFAULTS)
    if unknown:
        raise TracerError(f"unknown worker config key {sorted(unknown)[0]!r}")
    cfg = {**DEFAULTS, **config}
    if cfg["mode"] not in ("launch", "attach"):
        raise TracerError(f"unknown worker mode {cfg['mode']!r}")
    if not cfg["pids"]:
        raise TracerError("no pid to trace")
    if cfg["mode"] == "launch" and len(cfg["pids"]) != 1:
        raise TracerError("launch mode takes exactly one pid")
    return cfg


def worker_main(config: dict) -> int:
    """Run the loop in this process until every task is gone or detached.

    Returns the worker's exit status: 0, or 1 after a failure (reported on
    ready_fd before the loop started, or as the message printed on stderr)."""
    try:
        cfg = _check(config)
        native = _native()
    except TracerError as exc:
        _fail_ready(config.get("ready_fd", -1), str(exc))
        return 1
    ffi, lib = native.ffi, native.lib
    # The consumer decides when we end (ctl EOF, DETACH, KILL): a terminal's
    # ^C or ^\ reaches the whole foreground group, and strace running a
    # command ignores them too. A dead consumer shows as EPIPE, not SIGPIPE.
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)
    pids = ffi.new("int[]", [int(p) for p in cfg["pids"]])
    plan = ffi.from_buffer(bytes(cfg["plan"]))
    c = ffi.new("struct tr_config *")
    c.mode = lib.TR_MODE_ATTACH if cfg["mode"] == "attach" else lib.TR_MODE_LAUNCH
    c.pids = pids
    c.npids = len(cfg["pids"])
    c.plan = plan
    c.plan_len = len(cfg["plan"])
    c.out_fd = cfg["out_fd"]
    c.ctl_fd = cfg["ctl_fd"]
    c.ready_fd = cfg["ready_fd"]
    c.session = cfg["session"] & 0xFFFFFFFF
    c.flush_ms = cfg["flush_ms"]
    c.batch_bytes = cfg["batch_bytes"]
    c.drop = bool(cfg["drop"])
    c.colocate = bool(cfg["colocate"])
    c.linger_us = int(cfg["linger_us"])
    if cfg["wait"] not in ("poll", "blocking"):
        _fail_ready(cfg["ready_fd"], f"unknown wait mode {cfg['wait']!r}")
        return 1
    c.wait_blocking = cfg["wait"] == "blocking"
    inject = ffi.from_buffer(bytes(cfg["inject_bpf"]))
    c.inject_bpf = inject
    c.inject_bpf_len = len(cfg["inject_bpf"])
    c.passthru_fd = cfg["passthru_fd"]
    st = ffi.new("struct tr_stats *")
    err = ffi.new("char[]", 512)
    r = lib.tr_run(c, st, err, 512)
    if cfg["stats_fd"] >= 0:
        stats = {k: getattr(st, k) for k in STATS}
        try:
            os.write(cfg["stats_fd"], msgpack.packb(stats))
        except OSError:
            pass
        os.close(cfg["stats_fd"])
    if r < 0:
        msg = ffi.string(err).decode("utf-8", "replace") or os.strerror(-r)
        print(f"tracerd worker: {msg}", file=sys.stderr)
        return 1
    return 0


def _fail_ready(fd: int, msg: str) -> None:
    if fd is None or fd < 0:
        print(f"tracerd worker: {msg}", file=sys.stderr)
        return
    try:
        os.write(fd, b"E" + msg.encode())
        os.close(fd)
    except OSError:
        pass


def spawn_worker(config: dict, pass_fds=()) -> subprocess.Popen:
    """Start ``python -m tracerd.native`` with `config` on its stdin.

    Every fd the config names (out_fd, ctl_fd, ready_fd, stats_fd) must be in
    pass_fds; nothing else is inherited."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracerd.native"],
        stdin=subprocess.PIPE,
        pass_fds=tuple(pass_fds),
        close_fds=True,
    )
    data = msgpack.packb(config, use_bin_type=True)
    try:
        proc.stdin.write(data)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    return proc


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
    return worker_main(config)

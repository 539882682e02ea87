"""The exec catcher's process: ``python -m tracerd.native._exec_catcher``
with its config (a msgpack map) on stdin. Places the fanotify marks, says
so on ready_fd (``\\0``, or ``E`` and one line), then runs the C responder
(catcher.c) until the daemon's end of ctl_fd closes.

A process of its own, not a thread of the daemon: a stopped or stuck
daemon must never hold the host's execs (docs/rules.md).

Config: ctl_fd, ready_fd, daemon_pid, hold_ms, rules (maps: id, exe
[dev, ino] or None, uid (-1: any), comm, cgroup, unit), marks ([path,
"inode"|"filesystem"] pairs).
"""

from __future__ import annotations

import os
import signal
import sys

import msgpack


def _fail(fd: int, msg: str) -> int:
    try:
        os.write(fd, b"E" + msg.encode())
    except OSError:
        print(f"tracerd catcher: {msg}", file=sys.stderr)
    return 1


def run(cfg: dict) -> int:
    from . import _catcher

    ffi, lib = _catcher.ffi, _catcher.lib
    ready = cfg["ready_fd"]
    # the daemon decides when we end (EOF on ctl_fd); a terminal's ^C goes to
    # it, and it ends us by closing the socket
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    # Every exec on a filesystem-marked filesystem waits for us: on a busy
    # host, for our turn on a CPU more than for our work (~50 us). A higher
    # priority (CAP_SYS_NICE) shortens that wait; without it, as we are.
    try:
        os.setpriority(os.PRIO_PROCESS, 0, -10)
    except OSError:
        pass
    fan = lib.tc_init()
    if fan < 0:
        return _fail(ready, f"fanotify_init: {os.strerror(-fan)} (the exec catcher needs CAP_SYS_ADMIN and CONFIG_FANOTIFY_ACCESS_PERMISSIONS)")
    for path, kind in cfg["marks"]:
        r = lib.tc_mark(fan, path.encode(), lib.TC_MARK_FILESYSTEM if kind == "filesystem" else lib.TC_MARK_INODE)
        if r < 0:
            return _fail(ready, f"fanotify_mark({path}, {kind}): {os.strerror(-r)}")
    rules = ffi.new("struct tc_rule[]", max(1, len(cfg["rules"])))
    for i, r in enumerate(cfg["rules"]):
        c = rules[i]
        c.id = r["id"]
        if r.get("exe"):
            c.has_exe = 1
            c.dev, c.ino = r["exe"]
        c.uid = r.get("uid", -1)
        c.comm = r.get("comm", "").encode()[:15]
        c.cgroup = r.get("cgroup", "").encode()[:511]
        c.unit = r.get("unit", "").encode()[:255]
    conf = ffi.new("struct tc_config *")
    conf.fan_fd = fan
    conf.ctl_fd = cfg["ctl_fd"]
    conf.daemon_pid = cfg["daemon_pid"]
    conf.hold_ms = cfg["hold_ms"]
    conf.rules = rules
    conf.nrules = len(cfg["rules"])
    st = ffi.new("struct tc_stats *")
    err = ffi.new("char[]", 256)
    os.write(ready, b"\0")
    os.close(ready)
    r = lib.tc_run(conf, st, err, 256)
    if r < 0:
        print(f"tracerd catcher: {ffi.string(err).decode()}", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    try:
        cfg = msgpack.unpackb(sys.stdin.buffer.read(), raw=False)
    except Exception as exc:
        print(f"tracerd catcher: bad config on stdin: {exc}", file=sys.stderr)
        return 1
    return run(cfg)


if __name__ == "__main__":
    sys.exit(main())

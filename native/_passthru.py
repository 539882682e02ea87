"""The re-attaching pass-through tracer: a process that keeps an injected
seccomp filter (attach --seccomp-bpf) but lost its tracer (its pass-through
worker was killed, or died with a previous daemon) fails every traced call
with ENOSYS. The daemon starts this, under the session owner's credentials,
to seize such processes again and pass their calls through until they exit.

No second injection: a plain PTRACE_SEIZE with PTRACE_O_TRACESECCOMP (the
filter is already in place and is inherited by children, so forks, vforks
and clones are followed too). Every stop is resumed at once: seccomp and
event stops with no signal, signal-delivery stops with their signal, group
stops with PTRACE_LISTEN (so a stopped process stays stopped, as without a
tracer). Nothing is recorded.

Python through ctypes, not the C loop: this runs only to rescue processes,
each of its stops costs a few microseconds more than the C loop's, and it
needs none of that loop's record machinery.

Config keys (a msgpack map on stdin, see _worker.main): mode "passthru",
pids (processes to seize, with all their threads), ready_fd (b"\\0" once
every one is seized, else b"E" and a one-line reason).
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import sys

PTRACE_CONT = 7
PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_LISTEN = 0x4208
# include/uapi/linux/ptrace.h
O_TRACEFORK, O_TRACEVFORK, O_TRACECLONE, O_TRACESECCOMP = 0x2, 0x4, 0x8, 0x80
EVENT_STOP = 128
WALL = 0x40000000  # __WALL: every tracee, clones included
STOP_SIGNALS = {signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU}

_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.restype = ctypes.c_long
_libc.ptrace.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p)


def _ptrace(req: int, tid: int, data: int = 0) -> int:
    r = _libc.ptrace(req, tid, None, ctypes.c_void_p(data))
    return -ctypes.get_errno() if r < 0 else 0


def _threads(pid: int) -> list[int]:
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []


def seize_all(pids) -> tuple[set[int], str]:
    """Seize every thread of every pid (threads started meanwhile too).
    Returns (seized tids, error line or "")."""
    opts = O_TRACEFORK | O_TRACEVFORK | O_TRACECLONE | O_TRACESECCOMP
    seized: set[int] = set()
    for pid in pids:
        r = _ptrace(PTRACE_SEIZE, pid, opts)
        if r == -errno.ESRCH:
            continue  # gone meanwhile: nothing to rescue
        if r < 0:
            return seized, f"passthru: ptrace(PTRACE_SEIZE, {pid}): {os.strerror(-r)}"
        seized.add(pid)
        while True:  # a thread may be cloned while we read the list
            new = [t for t in _threads(pid) if t not in seized]
            if not new:
                break
            for tid in new:
                if _ptrace(PTRACE_SEIZE, tid, opts) == 0:
                    seized.add(tid)
                else:
                    seized.add(tid)  # exited meanwhile (ESRCH): do not retry
    return seized, ""


def loop() -> int:
    """Resume every stop until no tracee is left."""
    while True:
        try:
            tid, status = os.waitpid(-1, WALL)
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue
        if not os.WIFSTOPPED(status):
            continue  # exited or killed
        sig = os.WSTOPSIG(status)
        event = status >> 16
        if event == EVENT_STOP:
            if sig in STOP_SIGNALS:
                _ptrace(PTRACE_LISTEN, tid)  # a group stop: stay stopped
            else:
                _ptrace(PTRACE_CONT, tid)  # a new child's first stop
        elif event:
            _ptrace(PTRACE_CONT, tid)  # seccomp, fork, clone, exec, exit
        else:
            _ptrace(PTRACE_CONT, tid, sig)  # a signal: deliver it


def passthru_main(config: dict) -> int:
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    ready = int(config.get("ready_fd", -1))
    pids = [int(p) for p in config.get("pids", ())]
    seized, err = seize_all(pids)
    if err or not seized:
        for tid in seized:
            _ptrace(PTRACE_DETACH, tid)
        msg = err or "passthru: no process left to seize"
        if ready >= 0:
            os.write(ready, b"E" + msg.encode())
        else:
            print(f"tracerd worker: {msg}", file=sys.stderr)
        return 1
    if ready >= 0:
        os.write(ready, b"\0")
        os.close(ready)
    return loop()

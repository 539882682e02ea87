"""A stalled watcher under the drop policy: the daemon's RSS must stay within
10% of its idle RSS while a fast tracee runs and the watcher reads nothing.

    .venv/bin/python bench/daemon_stall.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_common import TmpDaemon, build_spin, cpu_ns, make_plan, rss_kb  # noqa: E402

from tracerd.client import _remote  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--control", action="store_true", help="no stalled watcher (the RSS drift of the session alone)")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    spin = build_spin(tmp)
    d = TmpDaemon()
    tracee = subprocess.Popen([spin])
    try:
        # idle: the daemon with one live session and its owner reading
        owner = _remote.RemoteAttach(d.path, [tracee.pid], plan=make_plan(["openat", "close"]))
        owner.start()
        frames = owner.frames()
        counted = [0]
        stop = threading.Event()

        def read_owner():
            for _f, c, _p in frames:
                counted[0] += c
                if stop.is_set():
                    break

        t = threading.Thread(target=read_owner, daemon=True)
        t.start()
        time.sleep(2)
        idle = rss_kb(d.proc.pid)
        if not a.control:
            stalled = _remote.Client(d.path)
            stalled.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            stalled.request("watch", {"session": owner.session, "policy": "drop"})
        samples = []
        c0, n0, t0 = cpu_ns(d.proc.pid), counted[0], time.monotonic()
        while time.monotonic() - t0 < a.seconds:
            time.sleep(1)
            samples.append(rss_kb(d.proc.pid))
        print("rss samples:", samples, file=sys.stderr)
        n1 = counted[0]
        dropped = _remote.Client(d.path).request("list")["sessions"][0]["dropped"]
        stop.set()
        print(json.dumps({
            "seconds": a.seconds,
            "idle_rss_kb": idle,
            "max_rss_kb": max(samples),
            "max_over_idle": round(max(samples) / idle, 3),
            "owner_rec_s": round((n1 - n0) / (time.monotonic() - t0)),
            "dropped_for_stalled": dropped,
            "daemon_cpu_s": round((cpu_ns(d.proc.pid) - c0) / 1e9, 2),
        }))
    finally:
        tracee.kill()
        tracee.wait()
        d.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

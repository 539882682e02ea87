"""--format=perfetto and recordings through the daemon: attach and watch."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from daemon_helpers import tracectl


def _cmd(sock):
    return [sys.executable, "-c", "import sys; from tracerd.client import main; sys.exit(main())", "--socket", sock]


def _trace(path):
    from perfetto.protos.perfetto.trace.perfetto_trace_pb2 import Trace, TrackEvent

    t = Trace()
    t.ParseFromString(open(path, "rb").read())
    begins = [p.track_event.name for p in t.packet if p.HasField("track_event") and p.track_event.type == TrackEvent.TYPE_SLICE_BEGIN]
    procs = {p.track_descriptor.process.process_name for p in t.packet if p.HasField("track_descriptor") and p.track_descriptor.HasField("process")}
    return begins, procs


def test_attach_and_watch_write_perfetto_through_the_daemon(daemon, sleeper_bin, tmp_path):
    child = subprocess.Popen([sleeper_bin])
    a_out, w_out, rec = tmp_path / "attach.pftrace", tmp_path / "watch.pftrace", tmp_path / "watch.mp"
    att = subprocess.Popen([*_cmd(daemon.path), "attach", "-e", "trace=openat,close", "--format=perfetto", "-o", str(a_out), "-p", str(child.pid)], stderr=subprocess.PIPE)
    watchers = []
    try:
        sid = None
        for _ in range(200):  # until the session is listed (bounded: ~10 s)
            r = tracectl("ls", "--json", socket_path=daemon.path)
            sid = next((s["session"] for s in map(json.loads, r.stdout.splitlines()) if child.pid in s["pids"]), None)
            if sid is not None:
                break
            time.sleep(0.05)
        assert sid is not None
        for fmt, out in (("perfetto", w_out), ("msgpack", rec)):
            watchers.append(subprocess.Popen([*_cmd(daemon.path), "watch", "--policy", "block", f"--format={fmt}", "-o", str(out), str(sid)], stderr=subprocess.PIPE))
        for _ in range(600):  # until both watches are subscribed (bounded: ~30 s under load)
            r = tracectl("ls", "--json", socket_path=daemon.path)
            if any(s["session"] == sid and s["subscribers"] >= 3 for s in map(json.loads, r.stdout.splitlines())):
                break
            time.sleep(0.05)
        time.sleep(1.0)  # the spinner opens and closes /dev/null every 2 ms
    finally:
        att.terminate()  # detach (then tracectl ends by the same signal, as strace): the session ends, and so do the watches
        assert att.wait(timeout=30) == -15, att.stderr.read()
        for w in watchers:
            assert w.wait(timeout=30) == 0, w.stderr.read()
        child.kill()
        child.wait()
    for path in (a_out, w_out):
        begins, procs = _trace(path)
        assert begins.count("openat") >= 10 and begins.count("close") >= 10 and set(begins) == {"openat", "close"}
        assert procs == {"spin"}
    r = subprocess.run([*_cmd(daemon.path), "replay", "-c", "-w", str(rec)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "openat" in r.stderr and "total" in r.stderr, r.stderr

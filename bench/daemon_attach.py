"""Attach overhead: a process doing open+close of /dev/null in a loop, timed by
itself, untraced / attached through the daemon (trace=openat,close) /
`strace -p` with the same filter. Alternating rounds, medians (a single run
here is ±30% noisy).

    .venv/bin/python bench/daemon_attach.py [--rounds 5] [--iters 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_common import TmpDaemon, build_spin, make_plan  # noqa: E402

from tracerd.client import _remote  # noqa: E402


def workload(spin, iters):
    return subprocess.Popen([spin, str(iters)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def finish(p) -> float:
    p.stdin.write("g")
    p.stdin.flush()
    out = p.communicate(timeout=300)[0]
    return float(out.strip())


def untraced(spin, iters, _d):
    return finish(workload(spin, iters))


def _traced(p, src):
    """Run the workload `p` under an attach source, draining its frames."""
    src.start()  # returns once every thread is seized
    t = threading.Thread(target=lambda: sum(c for _f, c, _p in src.frames()))
    t.start()
    r = finish(p)
    t.join(timeout=60)
    src.close()
    return r


def daemon_attach(spin, iters, d):
    p = workload(spin, iters)
    return _traced(p, _remote.RemoteAttach(d.path, [p.pid], plan=make_plan(["openat", "close"])))


def embedded_attach(spin, iters, _d):
    """The same worker without the daemon: isolates the daemon's share."""
    from tracerd.client._embedded import EmbeddedAttach

    p = workload(spin, iters)
    return _traced(p, EmbeddedAttach([p.pid], plan=make_plan(["openat", "close"])))


def strace_attach(spin, iters, _d):
    p = workload(spin, iters)
    s = subprocess.Popen(["strace", "-p", str(p.pid), "-e", "trace=openat,close", "-o", "/dev/null"], stderr=subprocess.PIPE, text=True)
    line = s.stderr.readline()  # "strace: Process N attached"
    assert "attached" in line, line
    r = finish(p)
    s.wait(timeout=60)
    return r


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iters", type=int, default=20000)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    spin = build_spin(tmp)
    d = TmpDaemon()
    kinds = {"untraced": untraced, "daemon_attach": daemon_attach, "embedded_attach": embedded_attach, "strace_p": strace_attach}
    res = {k: [] for k in kinds}
    try:
        for _ in range(a.rounds):
            for k, fn in kinds.items():
                res[k].append(fn(spin, a.iters, d))
    finally:
        d.close()
    med = {k: statistics.median(v) for k, v in res.items()}
    print(json.dumps({
        "ns_per_iter_median": {k: round(v, 1) for k, v in med.items()},
        "daemon_vs_strace": round(med["daemon_attach"] / med["strace_p"], 3),
        "daemon_vs_embedded": round(med["daemon_attach"] / med["embedded_attach"], 3),
        "rounds": a.rounds,
        "iters": a.iters,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())

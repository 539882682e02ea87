"""Fan-out: one traced process, the owner plus 1, 4 and 16 watchers (block
policy, each its own process reading frames without decoding). Reports
records/s per subscriber, loss (gaps in sequence numbers; must be 0 under
block) and the daemon's CPU per million records.

    .venv/bin/python bench/daemon_fanout.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_common import PY, TmpDaemon, build_spin, cpu_ns, make_plan  # noqa: E402

from tracerd.client import _remote  # noqa: E402

WATCHER = r"""
import json, sys, time
from tracerd.client import _remote
from tracerd import _protocol as P
c = _remote.Client(sys.argv[1])
c.request("watch", {"session": int(sys.argv[2]), "policy": "block"})
print("ready", flush=True)
n = gaps = 0; nxt = None; t0 = None
for ev in c.events():
    if isinstance(ev, P.Records):
        if t0 is None: t0 = time.monotonic()
        if nxt is not None and ev.first_seq != nxt: gaps += 1
        nxt = ev.first_seq + ev.count; n += ev.count
    elif isinstance(ev, P.End):
        break
print(json.dumps({"records": n, "gaps": gaps, "secs": time.monotonic() - (t0 or time.monotonic())}))
"""


def run(nwatch: int, seconds: float, spin: str) -> dict:
    d = TmpDaemon()
    tracee = subprocess.Popen([spin])
    try:
        owner = _remote.RemoteAttach(d.path, [tracee.pid], plan=make_plan(["openat", "close"]))
        owner.start()
        frames = owner.frames()
        next(frames)
        watchers = [subprocess.Popen([PY, "-c", WATCHER, d.path, str(owner.session)], stdout=subprocess.PIPE, text=True) for _ in range(nwatch)]
        for w in watchers:
            assert w.stdout.readline() == "ready\n"
        c0, t0 = cpu_ns(d.proc.pid), time.monotonic()
        n = gaps = 0
        nxt = None
        for first, count, _payload in frames:
            if nxt is not None and first != nxt:
                gaps += 1
            nxt = first + count
            n += count
            if time.monotonic() - t0 >= seconds:
                break
        c1, t1 = cpu_ns(d.proc.pid), time.monotonic()
        owner.close()
        for first, count, _payload in frames:
            pass
        owner.close()
        results = [json.loads(w.communicate(timeout=60)[0].splitlines()[-1]) for w in watchers]
    finally:
        tracee.kill()
        tracee.wait()
        d.close()
    rate = n / (t1 - t0)
    return {
        "watchers": nwatch,
        "owner_rec_s": round(rate),
        "watcher_rec_s_min": round(min((r["records"] / r["secs"] for r in results if r["secs"]), default=0)),
        "gaps": gaps + sum(r["gaps"] for r in results),
        "daemon_cpu_s_per_M": round((c1 - c0) / 1e9 / (n / 1e6), 3) if n else None,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--watchers", default="0,1,4,16")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        spin = build_spin(d)
        for nw in [int(x) for x in a.watchers.split(",")]:
            print(json.dumps(run(nw, a.seconds, spin)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

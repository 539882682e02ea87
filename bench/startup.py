"""Start-up of `run -o /dev/null -- /bin/true` against strace's, in one run.

    python bench/startup.py [--runs N] [--daemon] [--levers]
    (bench/workloads.py prints the same figures after its workloads)

The tools alternate run by run (this 2-core machine is shared: a slow
moment must not land on one tool only); medians of wall time and of CPU
(user + system of the whole reaped tree: tracectl's front end, its worker
and /bin/true; strace and /bin/true; through the daemon, the daemon's CPU
meanwhile is added, its session worker's included once reaped). On a loaded
machine every ms of CPU costs several of wall, so compare the CPU column.

tracectl keeps its on-disk cache in a directory of the run's own (filled by
a warm-up run): one user's steady state. `--levers` adds tracectl with one
start-up lever off at a time (each run by a small runner that turns it off
in-process), and the floor: the venv's interpreter doing nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
TRACECTL = os.path.join(os.path.dirname(PY), "tracectl")
CMD = ["-o", "/dev/null", "--", "/bin/true"]

# runners with one lever off; each then runs tracectl's main() as the program
LEVERS = {
    "without the argv cache": "import tracerd.client._cli as c; c.CACHE_ARGS = frozenset()",
    "without the quick exit": "import tracerd.client._cli as c; c.QUICK_EXIT = False",
    "without the early fork": "import tracerd.client._cli as c; c.PREFORK = frozenset()",
    "without any of them (the front end before them)": "import tracerd.client._cli as c; c.CACHE_ARGS = c.PREFORK = frozenset(); c.QUICK_EXIT = False",
}


def lever_cmd(code: str, args: list[str]) -> list[str]:
    """tracectl ARGS, run as the program by a runner that first runs `code`
    (one of LEVERS)."""
    return [PY, "-c", f"{code}; import sys; sys.argv[0] = 'tracectl'; from tracerd.client import main; sys.exit(main())", *args]


def timed(cmd: list[str], daemon_pid: int | None = None) -> tuple[float, float, float]:
    """(wall s, CPU s of the run's tree plus the daemon's, the daemon's part)."""
    sys.path.insert(0, HERE)
    from workloads import timed as t, tree_cpu

    d0 = tree_cpu(daemon_pid) if daemon_pid else 0.0
    w, c = t(cmd, daemon_pid)
    return w, c, (tree_cpu(daemon_pid) - d0) if daemon_pid else 0.0


def tools(daemon_path: str | None, levers: bool) -> dict[str, list[str]]:
    t = {
        "strace": ["strace", *CMD],
        "tracectl": [PY, TRACECTL, "--embedded", "run", *CMD],
    }
    if daemon_path:
        t["tracectl (daemon)"] = [PY, TRACECTL, "--socket", daemon_path, "run", *CMD]
    if levers:
        for name, code in LEVERS.items():
            t[f"tracectl, {name}"] = lever_cmd(code, ["--embedded", "run", *CMD])
        t["python -c pass (the venv's)"] = [PY, "-c", "pass"]
    return t


def measure(runs: int = 21, daemon: bool = False, levers: bool = False, daemon_obj=None):
    """{tool: (median wall s, median CPU s, min wall s, median daemon CPU s, lower quartile of CPU s)}."""
    sys.path.insert(0, HERE)
    d = daemon_obj
    own = False
    if daemon and d is None:
        from daemon_common import TmpDaemon

        d, own = TmpDaemon(), True
    try:
        ts = tools(d.path if d else None, levers)
        dpid = {"tracectl (daemon)": d.proc.pid} if d else {}
        for k, cmd in ts.items():  # warm-up: caches, page cache, the daemon's warm worker
            timed(cmd, dpid.get(k))
        res = {k: [] for k in ts}
        for _ in range(runs):
            for k, cmd in ts.items():
                res[k].append(timed(cmd, dpid.get(k)))
        return {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v), min(x[0] for x in v), statistics.median(x[2] for x in v), sorted(x[1] for x in v)[len(v) // 4]) for k, v in res.items()}
    finally:
        if own:
            d.close()


def report(med: dict, runs: int) -> None:
    s_w, s_c, _, _, s_q = med["strace"]
    print(f"Start-up, `run -o /dev/null -- /bin/true`: medians of {runs} alternating runs, load {os.getloadavg()[0]:.1f}")
    print("(CPU q1: the lower quartile, less moved by the load than the median)")
    print("| tool | wall (min) | CPU | CPU q1 | wall / strace | CPU / strace |")
    print("|---|---|---|---|---|---|")
    for k, (w, c, m, d, q) in med.items():
        dd = f" (the daemon's {d * 1000:.1f}, a warm worker's start included)" if d else ""
        print(f"| {k} | {w * 1000:.1f} ms ({m * 1000:.1f}) | {c * 1000:.1f} ms{dd} | {q * 1000:.1f} ms | {w / s_w:.2f} | {c / s_c:.2f} |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="bench.startup", description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--daemon", action="store_true", help="also through a private daemon")
    ap.add_argument("--levers", action="store_true", help="also with one start-up lever off at a time, and the interpreter alone")
    a = ap.parse_args(argv)
    if os.geteuid() != 0 or not shutil.which("strace"):
        print("bench.startup: needs root and strace", file=sys.stderr)
        return 2
    # as scripts/setup does: an edited source without its .pyc would be
    # compiled again at every start (PYTHONDONTWRITEBYTECODE may be set)
    root = os.path.dirname(HERE)
    subprocess.run([PY, "-m", "compileall", "-q", *(os.path.join(root, d) for d in ("base", "bpfgen", "native", "client", "daemon"))], stdout=subprocess.DEVNULL, check=False)
    tmp = tempfile.mkdtemp(prefix="tracerd-startup-")
    os.environ["XDG_CACHE_HOME"] = os.path.join(tmp, "cache")
    try:
        report(measure(a.runs, a.daemon, a.levers), a.runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

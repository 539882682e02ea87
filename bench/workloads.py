"""Whole runs of real programs, everything traced, against strace in one run.

    python bench/workloads.py [--rounds N] [--daemon] [--only NAME,...] [--startup N]
    (also the first of bench/run's other benchmarks)

What a user times: each workload is a real command run whole under
`strace -f -o FILE` and `tracectl --embedded run -f -o FILE` (and, with
`--daemon`, through a private daemon on a temporary socket), the tools
alternating round by round (this 2-core machine is shared: one tool's slow
round must not land on the other's), medians and ratios printed.

Besides wall time, per workload: CPU of the whole process tree (the tracee's
included; rusage of the reaped children), and of the tracer alone (that minus
the untraced run's median; through the daemon, the daemon's CPU and its
worker's are added). tracectl uses an on-disk cache of its own for
the run (filled by a warm-up round). Then start-up (`run -o /dev/null -- /bin/true`,
many interleaved runs) and memory: PSS (/proc/PID/smaps_rollup) summed over
the tracer's own processes (tracectl: front end + worker; strace: itself)
while they trace `sleep`.

The commands are real programs (`/usr/bin/python3`, not a `python3` that a
PATH may make a shell shim); tracectl is the venv's entry point, run by the
venv's interpreter. Needs root, strace, gcc, git, tar.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from memory import children, cmdline  # noqa: E402 (bench/ is not a package)
PY = sys.executable
TRACECTL = os.path.join(os.path.dirname(PY), "tracectl")

GCC_SRC = r"""#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
struct item { char name[64]; long size; struct item *next; };
static struct item *push(struct item *h, const char *n, long s) {
	struct item *i = calloc(1, sizeof *i);
	snprintf(i->name, sizeof i->name, "%s", n); i->size = s; i->next = h; return i;
}
int main(int argc, char **argv) {
	struct item *h = NULL; struct stat st;
	for (int i = 1; i < argc; i++) if (!stat(argv[i], &st)) h = push(h, argv[i], st.st_size);
	for (struct item *i = h; i; i = i->next) printf("%-40s %ld\n", i->name, i->size);
	return 0;
}
"""


def workloads(tmp: str) -> dict[str, list[str]]:
    src = os.path.join(tmp, "w.c")
    with open(src, "w") as f:
        f.write(GCC_SRC)
    py3 = shutil.which("python3", path="/usr/bin") or "/usr/bin/python3"
    return {
        "find": ["find", "/usr/share/doc", "/usr/include", "-name", "*.h"],
        "python3 imports": [py3, "-c", "import json, email.parser, http.client, decimal, asyncio, argparse"],
        "gcc -c": ["gcc", "-O2", "-c", src, "-o", os.path.join(tmp, "w.o")],
        "git status": ["git", "-C", ROOT, "status", "--porcelain"],
        "200 x /bin/true": ["sh", "-c", "for i in $(seq 200); do /bin/true; done"],
        "tar /usr/share/doc": ["tar", "-cf", os.path.join(tmp, "doc.tar"), "/usr/share/doc"],
    }


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its reaped children (/proc/PID/stat
    utime, stime, cutime, cstime): the daemon's share of a session, its
    worker included once reaped."""
    with open(f"/proc/{pid}/stat") as f:
        v = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in v[11:15]) / os.sysconf("SC_CLK_TCK")


def timed(cmd: list[str], daemon_pid: int | None = None) -> tuple[float, float]:
    """(wall s, CPU s of the whole reaped tree) of one run; with
    `daemon_pid`, the daemon's CPU meanwhile is added (its worker is its
    child, not ours; tick resolution, so compare medians)."""
    d0 = tree_cpu(daemon_pid) if daemon_pid else 0.0
    t = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    w = time.monotonic() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode not in (0, 1):  # find/git may say 1 for unreadable bits; anything else is a broken run
        raise RuntimeError(f"{cmd[:6]}... exited {p.returncode}")
    if daemon_pid:
        for _ in range(100):  # the session's worker reaped: its CPU counted
            if not [c for c in children(daemon_pid) if b"tracerd.native" in cmdline(c) and b"_idle" not in cmdline(c)]:
                break
            time.sleep(0.005)
    return w, ru.ru_utime + ru.ru_stime + ((tree_cpu(daemon_pid) - d0) if daemon_pid else 0.0)


def geomean(xs):
    xs = [x for x in xs if x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="bench.workloads", description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", help="comma-separated workload names (default: all)")
    ap.add_argument("--daemon", action="store_true", help="also through a private daemon (temporary socket)")
    ap.add_argument("--startup", type=int, default=21, metavar="N", help="start-up runs per tool (default 21; 0: skip)")
    a = ap.parse_args(argv)
    if os.geteuid() != 0 or not shutil.which("strace"):
        print("bench.workloads: needs root and strace", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="tracerd-workloads-")
    # tracectl's on-disk cache (table, filters, plans) of its own: one user's
    # steady state, not a cache other checkouts' test suites evict meanwhile
    # (the warm-up rounds below fill it)
    os.environ["XDG_CACHE_HOME"] = os.path.join(tmp, "cache")
    daemon = None
    try:
        wl = workloads(tmp)
        if a.only:
            names = [n.strip() for n in a.only.split(",")]
            wl = {k: v for k, v in wl.items() if k in names}
        trace = os.path.join(tmp, "out.trace")
        tools = {
            "untraced": [],
            "strace": ["strace", "-f", "-o", trace, "--"],
            "tracectl": [PY, TRACECTL, "--embedded", "run", "-f", "-o", trace, "--"],
        }
        if a.daemon:
            sys.path.insert(0, HERE)
            from daemon_common import TmpDaemon

            daemon = TmpDaemon()
            tools["tracectl (daemon)"] = [PY, TRACECTL, "--socket", daemon.path, "run", "-f", "-o", trace, "--"]
        for cmd in wl.values():  # warm the page cache and tracectl's own caches
            for pre in tools.values():
                timed(pre + cmd)
        res = {(w, t): [] for w in wl for t in tools}
        dpid = {"tracectl (daemon)": daemon.proc.pid} if daemon is not None else {}
        for _ in range(a.rounds):
            for w, cmd in wl.items():
                for t, pre in tools.items():
                    res[w, t].append(timed(pre + cmd, dpid.get(t)))
        med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for k, v in res.items()}
        traced = [t for t in tools if t not in ("untraced", "strace")]
        print(f"Whole runs, everything traced (-f -o FILE): medians of {a.rounds} alternating rounds, load {os.getloadavg()[0]:.1f}")
        hdr = "| workload | untraced | strace | " + " | ".join(traced) + " | " + " | ".join(f"{t} / strace" for t in traced) + " | tracer CPU, " + " | ".join(f"{t} / strace" for t in traced) + " |"
        print(hdr)
        print("|" + "---|" * (hdr.count("|") - 1))
        ratios = {t: [] for t in traced}
        cpu_ratios = {t: [] for t in traced}
        for w in wl:
            base_cpu = med[w, "untraced"][1]
            s_w, s_c = med[w, "strace"]
            row = [w, f"{med[w, 'untraced'][0]:.3f} s", f"{s_w:.3f} s"] + [f"{med[w, t][0]:.3f} s" for t in traced]
            for t in traced:
                r = med[w, t][0] / s_w
                ratios[t].append(r)
                row.append(f"**{r:.2f}**")
            for t in traced:
                own_s, own_t = max(s_c - base_cpu, 1e-4), max(med[w, t][1] - base_cpu, 1e-4)
                cpu_ratios[t].append(own_t / own_s)
                row.append(f"{own_t / own_s:.2f} ({own_t * 1000:.0f} vs {own_s * 1000:.0f} ms)")
            print("| " + " | ".join(row) + " |")
        for t in traced:
            print(f"{t}: geomean wall / strace {geomean(ratios[t]):.2f} (max {max(ratios[t]):.2f}), "
                  f"tracer CPU / strace's {geomean(cpu_ratios[t]):.2f}")
        if a.startup:
            import startup

            startup.report(startup.measure(a.startup, daemon_obj=daemon), a.startup)
        import memory

        med, _ = memory.measure(rounds=3, daemon_obj=daemon, quiet=True)
        print(f"\nMemory while tracing `sleep 1` (-f -o FILE), PSS summed over the tracer's processes, medians of 3 rounds (bench/memory.py): "
              + ", ".join(f"{k} {v['own'] / 1024:.1f} MB" + (f" (+ its session worker {v['worker'] / 1024:.1f} MB)" if "worker" in v else "") for k, v in med.items()))
    finally:
        if daemon is not None:
            daemon.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

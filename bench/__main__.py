"""`python -m bench` (or bench/run): every benchmark, against strace, one table.

Each workload runs under every tool in alternating rounds (a 1-second loop
is +-30% noisy on this 2-core machine: one tool's slow round does not land on
the other's) and the table shows medians and ratios. The tracees time their
own loops with CLOCK_MONOTONIC so start-up (python, exec, ld.so) is not
counted; fork-heavy runs are timed whole, as a user would see them.

Needs root, gcc and strace. Options: --rounds N (default 5), --quick,
--native-only (skip the other parts' scripts, which run after our table:
bench_table.py and bench/daemon_*.py, each printing its own figures).
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
ROOT = os.path.dirname(HERE)
BIN = os.path.join(HERE, ".bin")
PY = sys.executable

LOOP_C = r"""#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
/* loop KIND N OUT: N calls of KIND, the loop's ns written to OUT */
int main(int argc, char **argv) {
	long n = atol(argv[2]);
	int chd = !strcmp(argv[1], "chdir");
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		if (chd) syscall(SYS_chdir, ".");
		else syscall(SYS_getppid);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	FILE *f = fopen(argv[3], "w");
	fprintf(f, "%lld\n", (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
	fclose(f);
	return 0;
}
"""

TASKS_C = r"""#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
/* tasks N: N children that wait until stdin closes */
int main(int argc, char **argv) {
	int n = atoi(argv[1]), p[2];
	pipe(p);
	for (int i = 0; i < n; i++) {
		if (!fork()) { char c; close(p[1]); read(p[0], &c, 1); _exit(0); }
	}
	close(p[0]);
	printf("up\n"); fflush(stdout);
	char c; read(0, &c, 1);
	close(p[1]);
	while (wait(NULL) > 0) ;
	return 0;
}
"""


def build():
    os.makedirs(BIN, exist_ok=True)
    out = {}
    for name, src in (("loop", LOOP_C), ("tasks", TASKS_C)):
        c = os.path.join(BIN, name + ".c")
        exe = os.path.join(BIN, name)
        with open(c, "w") as f:
            f.write(src)
        subprocess.run(["gcc", "-O2", "-o", exe, c], check=True)
        out[name] = exe
    return out


def tracectl(*args):
    return [os.path.join(os.path.dirname(PY), "tracectl"), "--embedded", "run", *args]


def drain_main(expr, argv, colocate=False):
    """The worker alone: run argv traced with -e expr, count the records,
    decode nothing (separates the loop's cost from the consumer's)."""
    from tracerd.bpfgen import Qualifiers, build_plan, compile_filter
    from tracerd.client._embedded import EmbeddedRun

    q = Qualifiers()
    q.qualify(expr)
    # the plan tracectl builds for the same options (an abbreviated execve's
    # environment is counted, not fetched)
    plan = build_plan(q.trace, abbrev=q.abbrev)
    run = EmbeddedRun(argv, bpf=compile_filter(q.trace), plan=plan, colocate=colocate).start()
    n = 0
    for _first, count, _payload in run.frames():
        n += count
    run.close()
    st = run.status()
    return os.waitstatus_to_exitcode(st)


def drain(*args, colocate=False):
    return [PY, "-m", "bench", *(["--colocate"] if colocate else []), "--drain", *args]


def timed_loop(cmd_prefix, exe, kind, n):
    with tempfile.NamedTemporaryFile("r", delete=True) as tf:
        subprocess.run([*cmd_prefix, exe, kind, str(n), tf.name], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tf.seek(0)
        return int(tf.read()) / 1e9


def wall(cmd):
    t = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - t


def alternate(rounds, variants):
    """variants: name -> callable() -> seconds. Returns name -> median."""
    res = {k: [] for k in variants}
    for _ in range(rounds):
        for k, fn in variants.items():
            res[k].append(fn())
    return {k: statistics.median(v) for k, v in res.items()}, res


def worker_rss(exe, ntasks):
    sys.path.insert(0, os.path.join(ROOT, "tests", "native"))
    from tracerd.bpfgen import Qualifiers, build_plan, compile_filter
    from tracerd.client._embedded import EmbeddedRun

    q = Qualifiers()
    q.qualify("trace=read,wait4")
    bpf, plan = compile_filter(q.trace), build_plan(q.trace)
    r_in, w_in = os.pipe()
    os.set_inheritable(r_in, True)
    run = EmbeddedRun([exe, str(ntasks)], bpf=bpf, plan=plan)
    # the command's stdin is our pipe: it holds its children until we close it
    saved = os.dup(0)
    os.dup2(r_in, 0)
    try:
        run.start()
    finally:
        os.dup2(saved, 0)
        os.close(saved)
        os.close(r_in)
    import threading

    recs = [0]

    def drain():
        for _f, c, _p in run.frames():
            recs[0] += c

    th = threading.Thread(target=drain, daemon=True)
    th.start()
    # wait until every child is up (the tasks program's children are traced)
    deadline = time.monotonic() + 60
    wpid = run._worker.pid
    rss = 0
    while time.monotonic() < deadline:
        kids = subprocess.run(["pgrep", "-c", "-P", str(run.child.pid)], capture_output=True, text=True).stdout.strip()
        if kids and int(kids) >= ntasks:
            break
        time.sleep(0.05)
    time.sleep(0.2)
    with open(f"/proc/{wpid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    os.close(w_in)
    th.join(60)
    run.close()
    run.status()
    return rss / 1024.0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="bench")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="shorter loops (noisier)")
    ap.add_argument("--native-only", action="store_true", help="skip the other parts' benchmarks (bench/daemon_*.py, bench_table.py)")
    ap.add_argument("--drain", metavar="EXPR", help=argparse.SUPPRESS)
    ap.add_argument("--colocate", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("cmd", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.drain:
        return drain_main(a.drain, [c for c in a.cmd if c != "--"], a.colocate)
    if os.geteuid() != 0 or not shutil.which("strace") or not shutil.which("gcc"):
        print("bench: needs root, strace and gcc", file=sys.stderr)
        return 1
    exe = build()
    loop = exe["loop"]
    R = a.rounds
    n_untraced = 300000 if a.quick else 2000000
    n_traced = 20000 if a.quick else 60000
    n_forks = 500 if a.quick else 2000
    rows = []

    def row(name, med, base, lower_is_better=True, unit="s"):
        rows.append((name, med, base, unit))

    # 1. untraced calls: chdir loop while tracing only fchdir
    med, _ = alternate(R, {
        "native": lambda: timed_loop([], loop, "chdir", n_untraced),
        "strace": lambda: timed_loop(["strace", "-f", "--seccomp-bpf", "-o", "/dev/null", "-e", "trace=fchdir"], loop, "chdir", n_untraced),
        "tracectl": lambda: timed_loop(tracectl("-f", "-o", "/dev/null", "-e", "trace=fchdir"), loop, "chdir", n_untraced),
    })
    rate = {k: n_untraced / v for k, v in med.items()}
    print(f"untraced chdir calls/s: native {rate['native']:.0f}  strace {rate['strace']:.0f}  tracectl {rate['tracectl']:.0f}")
    rows.append(("untraced calls/s, tracectl / strace --seccomp-bpf (target >= 1.0)", rate["tracectl"] / rate["strace"]))
    rows.append(("untraced calls/s, tracectl / native (target >= 0.93)", rate["tracectl"] / rate["native"]))
    rows.append(("untraced calls/s, strace / native (reference)", rate["strace"] / rate["native"]))

    # 2. traced getppid loop, output decoded to strace text into /dev/null
    med, _ = alternate(R, {
        "strace": lambda: timed_loop(["strace", "-f", "--seccomp-bpf", "-o", "/dev/null", "-e", "trace=getppid"], loop, "getppid", n_traced),
        "tracectl": lambda: timed_loop(tracectl("-f", "-o", "/dev/null", "-e", "trace=getppid"), loop, "getppid", n_traced),
        "colocate": lambda: timed_loop(tracectl("-f", "--colocate", "-o", "/dev/null", "-e", "trace=getppid"), loop, "getppid", n_traced),
        "strace1cpu": lambda: timed_loop(["taskset", "-c", "0", "strace", "-f", "--seccomp-bpf", "-o", "/dev/null", "-e", "trace=getppid"], loop, "getppid", n_traced),
        "worker": lambda: timed_loop(drain("trace=getppid", "--"), loop, "getppid", n_traced),
        "worker_colocate": lambda: timed_loop(drain("trace=getppid", "--", colocate=True), loop, "getppid", n_traced),
    })
    us = {k: v / n_traced * 1e6 for k, v in med.items()}
    print("traced getppid us/call: " + "  ".join(f"{k} {v:.1f}" for k, v in us.items()))
    rows.append(("traced getppid time, tracectl / strace (target <= 1.0)", us["tracectl"] / us["strace"]))
    rows.append(("traced getppid time, tracectl --colocate / strace (target <= 0.5)", us["colocate"] / us["strace"]))
    rows.append(("traced getppid time, tracectl --colocate / strace on one CPU (reference)", us["colocate"] / us["strace1cpu"]))
    rows.append(("traced getppid time, worker alone (no decoding) / strace", us["worker"] / us["strace"]))
    rows.append(("traced getppid time, worker alone --colocate / strace", us["worker_colocate"] / us["strace"]))

    # 3. fork-heavy: n x /bin/true under sh, whole wall time
    script = f"for i in $(seq {n_forks}); do /bin/true; done"
    med, _ = alternate(max(3, R // 2), {
        "native": lambda: wall(["sh", "-c", script]),
        "strace": lambda: wall(["strace", "-f", "-o", "/dev/null", "sh", "-c", script]),
        "strace_bpf": lambda: wall(["strace", "-f", "--seccomp-bpf", "-o", "/dev/null", "sh", "-c", script]),
        "tracectl": lambda: wall(tracectl("-f", "-o", "/dev/null", "sh", "-c", script)),
        "worker": lambda: wall(drain("trace=all", "--", "sh", "-c", script)),
    })
    print("fork-heavy wall s: " + "  ".join(f"{k} {v:.2f}" for k, v in med.items()))
    rows.append((f"{n_forks} x /bin/true wall, tracectl / strace -f (target <= 1.0)", med["tracectl"] / med["strace"]))
    rows.append((f"{n_forks} x /bin/true wall, tracectl / strace -f --seccomp-bpf (reference)", med["tracectl"] / med["strace_bpf"]))
    rows.append((f"{n_forks} x /bin/true wall, worker alone (no decoding) / strace -f", med["worker"] / med["strace"]))

    # 4. worker memory with 1000 tasks
    rss = worker_rss(exe["tasks"], 1000)
    print(f"worker RSS with 1000 tasks: {rss:.1f} MB")
    rows.append(("worker RSS MB tracing 1000 tasks (target < 20)", rss))

    # 5. the consumer alone: records -> strace text, per record (replayed captures)
    sys.path.insert(0, HERE)
    import bench_decode

    for name in bench_decode.CAPTURES:
        med, n, _ = bench_decode.measure(name, R, 64)
        print(f"consumer decode {name}: {med:.2f} us/record ({n} records)")
        rows.append((f"consumer decode, {name} capture, us/record (bench_decode.py)", med))

    print()
    w = max(len(r[0]) for r in rows)
    for name, v in rows:
        print(f"{name:<{w}}  {v:6.2f}")
    if not a.native_only:
        others()
    return 0


# The other parts' benchmarks, each a script with its own output: run as
# they are, one after the other (never alongside ours: they would share CPUs).
OTHERS = [
    ("whole runs of real programs vs strace -f, start-up, memory (PSS)", ["workloads.py", "--rounds", "3", "--daemon", "--startup", "0"]),
    ("start-up vs strace, embedded and through the daemon, each lever off in turn", ["startup.py", "--daemon", "--levers"]),
    ("memory (PSS of the tracer's processes) vs strace, -k and the daemon too", ["memory.py", "--daemon", "--stack"]),
    ("bpfgen: table load, qualify, compile, plan", ["bench_table.py"]),
    ("daemon: attach overhead, daemon vs embedded vs strace -p", ["daemon_attach.py"]),
    ("attach --seccomp-bpf: untraced calls under an injected filter vs plain attach and strace -p", ["attach_inject.py", "--rounds", "3"]),
    ("run without -f: plain stops, no filter, vs strace without -f and vs --seccomp-bpf", ["run_nofollow.py", "--rounds", "3"]),
    ("daemon: fan-out to watchers", ["daemon_fanout.py", "--seconds", "2"]),
    ("daemon: a stalled watcher", ["daemon_stall.py", "--seconds", "5"]),
    ("daemon: standing rules, unmatched execs and exec-to-traced latency", ["daemon_rules.py", "--rounds", "3"]),
]


def others():
    for title, (script, *args) in OTHERS:
        path = os.path.join(HERE, script)
        if not os.path.exists(path):
            continue
        print(f"\n== {title} ({script})", flush=True)
        r = subprocess.run([PY, path, *args], cwd=ROOT)
        if r.returncode:
            print(f"bench: {script} exited with {r.returncode}")


if __name__ == "__main__":
    sys.exit(main())

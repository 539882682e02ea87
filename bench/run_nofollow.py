"""`tracectl run` without -f: the command alone, plain syscall stops, no
filter (as strace without -f), against strace without -f, and against the
filter kept with --seccomp-bpf.

Two loops, timed by the tracee itself (CLOCK_MONOTONIC around the loop, so
start-up is not counted), in alternating rounds, medians:
- untraced: chdir(".") calls while only fchdir is traced: without a filter
  every call stops twice (entry and exit), as under strace without -f;
- traced: getppid calls, each printed (to /dev/null).

Needs root, gcc and strace. `python bench/run_nofollow.py [--rounds N] [--quick]`
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def _bench_main():
    """bench/__main__.py's helpers (loaded under another name: this script
    is __main__ when run)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_main", os.path.join(HERE, "__main__.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_b = _bench_main()
alternate, build, timed_loop, tracectl = _b.alternate, _b.build, _b.timed_loop, _b.tracectl


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="run_nofollow")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args(argv)
    if os.geteuid() != 0 or not shutil.which("strace") or not shutil.which("gcc"):
        print("run_nofollow: needs root, strace and gcc", file=sys.stderr)
        return 1
    loop = build()["loop"]
    n_untraced = 20000 if a.quick else 100000
    n_traced = 10000 if a.quick else 40000
    rows = []
    for kind, n, expr in (("chdir", n_untraced, "trace=fchdir"), ("getppid", n_traced, "trace=getppid")):
        med, _ = alternate(a.rounds, {
            "native": lambda: timed_loop([], loop, kind, n),
            "strace": lambda: timed_loop(["strace", "-o", "/dev/null", "-e", expr], loop, kind, n),
            "tracectl": lambda: timed_loop(tracectl("-o", "/dev/null", "-e", expr), loop, kind, n),
            "tracectl_bpf": lambda: timed_loop(tracectl("--seccomp-bpf", "-o", "/dev/null", "-e", expr), loop, kind, n),
            "strace_f_bpf": lambda: timed_loop(["strace", "-f", "--seccomp-bpf", "-o", "/dev/null", "-e", expr], loop, kind, n),
        })
        us = {k: v / n * 1e6 for k, v in med.items()}
        what = "untraced chdir (only fchdir traced)" if kind == "chdir" else "traced getppid"
        print(f"{what}, us/call: " + "  ".join(f"{k} {v:.2f}" for k, v in us.items()))
        rows.append((f"{what}: tracectl (no -f) / strace (no -f)", us["tracectl"] / us["strace"]))
        rows.append((f"{what}: tracectl --seccomp-bpf (no -f) / strace (no -f)", us["tracectl_bpf"] / us["strace"]))
        rows.append((f"{what}: tracectl (no -f) / tracectl --seccomp-bpf", us["tracectl"] / us["tracectl_bpf"]))
        rows.append((f"{what}: strace (no -f) / strace -f --seccomp-bpf (reference)", us["strace"] / us["strace_f_bpf"]))
    print()
    w = max(len(r[0]) for r in rows)
    for name, v in rows:
        print(f"{name:<{w}}  {v:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

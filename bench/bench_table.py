"""How long loading the syscall table takes (goal: well under 100 ms), and
what the rest of bpfgen costs on top: parsing a few -e expressions, compiling
the filter, building the fetch plan. Each figure is the median of fresh
interpreter runs (the table is cached per process). Prints; asserts nothing.

    .venv/bin/python bench/bench_table.py [RUNS]
"""

from __future__ import annotations

import statistics
import subprocess
import sys

CHILD = r"""
import time
t0 = time.perf_counter()
import pyseccomp
t1 = time.perf_counter()
from tracerd.bpfgen import Qualifiers, build_plan, compile_filter, load_table
t2 = time.perf_counter()
load_table()
t3 = time.perf_counter()
q = Qualifiers(); q.qualify("trace=%file,%network"); q.qualify("signal=!SIGCHLD")
t4 = time.perf_counter()
bpf = compile_filter(q.trace)
t5 = time.perf_counter()
plan = build_plan(q.trace)
t6 = time.perf_counter()
q2 = Qualifiers(); bpf_all = compile_filter(q2.trace)
t7 = time.perf_counter()
print((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3, (t4 - t3) * 1e3, (t5 - t4) * 1e3, (t6 - t5) * 1e3, (t7 - t6) * 1e3, len(bpf_all) // 8)
"""

LABELS = (
    "import pyseccomp (libseccomp)",
    "import tracerd.bpfgen",
    "load_table() (TOML + libseccomp numbers)",
    "Qualifiers + 2 expressions",
    "compile_filter(%file,%network)",
    "build_plan(%file,%network)",
    "compile_filter(all)",
)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", CHILD], check=True, capture_output=True, text=True).stdout
        samples.append([float(x) for x in out.split()])
    print(f"bpfgen timings, median of {runs} fresh processes (ms):")
    for i, label in enumerate(LABELS):
        col = [s[i] for s in samples]
        print(f"  {label:<42} {statistics.median(col):8.2f}   (min {min(col):.2f}, max {max(col):.2f})")
    print(f"  trace=all program: {int(samples[0][-1])} instructions")


if __name__ == "__main__":
    main()

"""What one hostile execve costs the worker in memory, and what a plain one
costs in CPU.

    python bench/fetch_memory.py [--runs N] [--peak S:N ...] [--no-cpu]

Peak: a tracee execs /bin/true with N argv pointers, all to one string of S
characters, traced with `-s S` (execve only): the kernel refuses the call
(E2BIG) but the tracer reads the arguments first. Prints the worker's peak
resident memory (`peak_rss_kb` of its stats) and how many strings the record
kept. Default pairs: 32:16384 (the baseline), 16384:16384, 65536:16384, 65536:65536.

CPU: `sh -c 'for i in $(seq 300); do /bin/true; done'` traced with -f and
everything (strace's default set), each run's worker loop CPU (stats
`cpu_ns`) and the consumer's CPU in decoding the same records (a fresh
Decoder per run), medians of --runs. Needs root (ptrace) and gcc.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "native"))

MANY_ARGV = r"""#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	int n = atoi(argv[1]), len = atoi(argv[2]);
	char **v = calloc(n + 1, sizeof(*v)), *s = malloc(len + 1);

	memset(s, 'a', len);
	s[len] = 0;
	for (int i = 0; i < n; i++)
		v[i] = s;
	execve("/bin/true", v, (char *[]){ NULL });
	return 0;
}
"""


def _build(d: str) -> str:
    src, exe = os.path.join(d, "many_argv.c"), os.path.join(d, "many_argv")
    with open(src, "w") as f:
        f.write(MANY_ARGV)
    subprocess.run(["gcc", "-O2", "-o", exe, src], check=True)
    return exe


def peak(exe: str, strsize: int, n: int) -> tuple[int, int, int]:
    """(worker peak_rss_kb, strings kept, records lost as too large)."""
    from native_helpers import calls, run_traced
    from _plans import nr_of
    from tracerd import _wire

    recs, _, stats = run_traced([exe, str(n), str(strsize)], ["execve"], strsize=strsize)
    kept = 0
    for r in calls(recs, nr_of("execve"))[1:]:
        for p, a, v in _wire.field(r, "mem"):
            if (p, a) == (0, 1) and isinstance(v, list):
                kept = len(v) - 1
    errors = sum(1 for r in recs if r[0] == _wire.Rec.ERROR)
    return stats["peak_rss_kb"], kept, errors


def cpu_run() -> tuple[float, float]:
    """(worker loop CPU ms, consumer decode CPU ms) of one fork loop."""
    from tracerd import _wire
    from tracerd.bpfgen import build_plan, compile_filter
    from tracerd.client._cli import build_parser
    from tracerd.client._embedded import EmbeddedRun
    from tracerd.client._options import resolve
    from tracerd.client.decode import Decoder

    cmd = ["sh", "-c", "for i in $(seq 300); do /bin/true; done"]
    o = resolve(build_parser("run").parse_args(["run", "-f", *cmd]))
    bpf = compile_filter(o.trace)
    plan = build_plan(o.trace, strsize=o.plan_strsize, cpu_time=o.cpu_time, abbrev=o.plan_abbrev)
    run = EmbeddedRun(cmd, bpf=bpf, plan=plan, stats=True).start()
    try:
        payloads = [p for _, _, p in run.frames()]
    finally:
        run.close()
    dec = Decoder(o.decode)
    t0 = time.process_time()
    for p in payloads:
        for rec in _wire.iter_records(p):
            if rec[0] == _wire.Rec.SYSCALL:
                dec.call(rec)
    return run.stats["cpu_ns"] / 1e6, (time.process_time() - t0) * 1e3


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--peak", nargs="*", default=["32:16384", "16384:16384", "65536:16384", "65536:65536"])
    ap.add_argument("--no-cpu", action="store_true")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        exe = _build(d)
        for pair in a.peak:
            s, n = (int(x) for x in pair.split(":"))
            rss, kept, errors = peak(exe, s, n)
            print(f"-s {s}, {n} pointers: worker peak RSS {rss / 1024:.1f} MB, {kept} strings kept, {errors} records lost")
    if not a.no_cpu:
        w, c = zip(*(cpu_run() for _ in range(a.runs)))
        print(f"fork loop (300 execs), medians of {a.runs}: worker loop CPU {statistics.median(w):.1f} ms "
              f"(min {min(w):.1f}), consumer decode CPU {statistics.median(c):.1f} ms (min {min(c):.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

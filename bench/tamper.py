"""Tampering costs, against strace and the untraced call, in one run:

- ns per injected call: a loop of N chdir(".") calls, every one failed with
  ENOENT by `-e inject=chdir:error=ENOENT`, under `tracectl run` and under
  strace (its default syscall stops, and --seccomp-bpf -f); the same loop
  traced without injection next to it, for what the injection itself adds;
- ns per --in-kernel faulted call: the same loop under
  `tracectl run --in-kernel -e trace=none -e fault=chdir:error=ENOENT`
  against the loop untraced (chdir(".") succeeding natively).

The tracee times its own loop (CLOCK_MONOTONIC), so start-up is not counted;
variants alternate round by round and the table shows medians.
Run: .venv/bin/python bench/tamper.py [--rounds N] [--calls N]. Needs root,
gcc and strace.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.join(HERE, ".bin")
TRACECTL = os.path.join(os.path.dirname(sys.executable), "tracectl")

LOOP_C = r"""#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
/* chdirloop N OUT [getppid]: N chdir(".") (or getppid) calls, the loop's
 * ns written to OUT */
int main(int argc, char **argv) {
	long n = atol(argv[1]);
	int ppid = argc > 3;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		if (ppid)
			syscall(SYS_getppid);
		else
			syscall(SYS_chdir, ".");
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	FILE *f = fopen(argv[2], "w");
	fprintf(f, "%lld\n", (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
	fclose(f);
	return 0;
}
"""


def build() -> str:
    os.makedirs(BIN, exist_ok=True)
    src, exe = os.path.join(BIN, "chdirloop.c"), os.path.join(BIN, "chdirloop")
    with open(src, "w") as f:
        f.write(LOOP_C)
    subprocess.run(["gcc", "-O2", "-o", exe, src], check=True)
    return exe


def per_call(prefix, exe, n, extra=()) -> float:
    """ns per call of the loop run under `prefix`."""
    with tempfile.NamedTemporaryFile("r") as tf:
        subprocess.run([*prefix, exe, str(n), tf.name, *extra], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tf.seek(0)
        return int(tf.read()) / n


INJECT = ["-e", "trace=chdir", "-e", "inject=chdir:error=ENOENT"]
TRACE = ["-e", "trace=chdir"]
FAULT = ["--in-kernel", "-e", "trace=none", "-e", "fault=chdir:error=ENOENT"]
FAULT_PPID = ["--in-kernel", "-e", "trace=none", "-e", "fault=getppid:error=EPERM"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=20000, help="calls per traced run (the untraced and --in-kernel runs make 100x more)")
    a = ap.parse_args(argv)
    exe = build()
    n, fast = a.calls, a.calls * 100
    tr = [TRACECTL, "--embedded", "run", "-o", "/dev/null"]
    st = ["strace", "-o", "/dev/null"]
    variants = {
        "injected: tracectl run": (tr + INJECT, n),
        "injected: strace": (st + INJECT, n),
        "injected: strace --seccomp-bpf -f": (st + ["--seccomp-bpf", "-f"] + INJECT, n),
        "traced only: tracectl run": (tr + TRACE, n),
        "traced only: strace": (st + TRACE, n),
        "faulted in kernel: tracectl run --in-kernel": (tr + FAULT, fast),
        "untraced (chdir succeeds)": ([], fast),
        "getppid faulted in kernel (--in-kernel)": (tr + FAULT_PPID, fast, ["getppid"]),
        "getppid untraced": ([], fast, ["getppid"]),
    }
    res: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(a.rounds):
        for k, (prefix, calls, *extra) in variants.items():
            res[k].append(per_call(prefix, exe, calls, *extra))
    med = {k: statistics.median(v) for k, v in res.items()}
    print(f"{'variant':46} {'ns/call':>10}  (median of {a.rounds}; min..max)")
    for k, v in med.items():
        print(f"{k:46} {v:10.0f}  ({min(res[k]):.0f}..{max(res[k]):.0f})")
    print()
    print(f"injected call, tracectl / strace:               {med['injected: tracectl run'] / med['injected: strace']:.2f}")
    print(f"injected call, tracectl / strace --seccomp-bpf: {med['injected: tracectl run'] / med['injected: strace --seccomp-bpf -f']:.2f}")
    print(f"injection's own cost (tracectl, injected - traced): {med['injected: tracectl run'] - med['traced only: tracectl run']:.0f} ns")
    print(f"--in-kernel faulted chdir - untraced chdir: {med['faulted in kernel: tracectl run --in-kernel'] - med['untraced (chdir succeeds)']:.0f} ns (the faulted call is not executed)")
    print(f"--in-kernel faulted getppid - untraced getppid: {med['getppid faulted in kernel (--in-kernel)'] - med['getppid untraced']:.0f} ns")
    return 0


if __name__ == "__main__":
    sys.exit(main())

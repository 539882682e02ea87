"""Untraced-call cost of a running process under attach: no tracer, `tracectl
attach --seccomp-bpf` (the filter injected: untraced calls never stop),
plain `tracectl attach` (every call stops, filtered in the loop) and
`strace -p`, tracing only getppid while the process loops on getpid.
Alternating rounds, medians (a single run here is +-30% noisy).

    .venv/bin/python bench/attach_inject.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TRACECTL = [sys.executable, "-c", "import sys; from tracerd.client import main; sys.exit(main())", "--embedded"]

# waits for "N\n" on stdin, makes N getpid calls, prints ns per call
RATE_C = r"""#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(void)
{
	char line[64];
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof line, stdin)) {
		long n = atol(line);
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (long i = 0; i < n; i++)
			syscall(SYS_getpid);
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
		fflush(stdout);
	}
	return 0;
}
"""
# calls per run: the stopping tracers are ~100x slower per call
CALLS = {"none": 2_000_000, "inject": 2_000_000, "plain": 100_000, "strace": 100_000}


def build() -> str:
    d = os.path.join(HERE, ".bin")
    os.makedirs(d, exist_ok=True)
    src, exe = os.path.join(d, "rate.c"), os.path.join(d, "rate")
    with open(src, "w") as f:
        f.write(RATE_C)
    subprocess.run(["gcc", "-O2", "-o", exe, src], check=True)
    return exe


def one(rate: str, mode: str) -> float:
    p = subprocess.Popen([rate], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert p.stdout.readline() == b"ready\n"
    t = None
    if mode != "none":
        if mode == "strace":
            argv = ["strace", "-e", "trace=getppid", "-p", str(p.pid)]
        else:
            argv = [*TRACECTL, "attach", "-e", "trace=getppid", str(p.pid)] + (["--seccomp-bpf"] if mode == "inject" else [])
        t = subprocess.Popen(argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
        line = t.stderr.readline()  # "... Process N attached": every thread is seized
        assert b"attached" in line, line
    p.stdin.write(f"{CALLS[mode]}\n".encode())
    p.stdin.flush()
    ns = float(p.stdout.readline())
    if t is not None:
        t.send_signal(signal.SIGINT)
        t.stderr.read()
        t.wait()
    p.stdin.close()  # the tracee exits; an injected one's pass-through tracer with it
    p.wait()
    return ns


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="attach_inject")
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args(argv)
    if os.geteuid() != 0 or not shutil.which("strace") or not shutil.which("gcc"):
        print("attach_inject: needs root, strace and gcc", file=sys.stderr)
        return 1
    rate = build()
    res = {m: [] for m in CALLS}
    for _ in range(a.rounds):
        for m in CALLS:  # alternating: each round sees the machine's state once per mode
            res[m].append(one(rate, m))
    med = {m: statistics.median(v) for m, v in res.items()}
    for m, v in res.items():
        print(f"{m:7s} {med[m]:10.1f} ns per untraced call   (runs: {', '.join(f'{x:.0f}' for x in v)})")
    print(f"attach --seccomp-bpf / strace -p: {med['inject'] / med['strace']:.4f}  (extra ns per untraced call: {med['inject'] - med['none']:.0f})")
    print(f"plain attach / strace -p:         {med['plain'] / med['strace']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

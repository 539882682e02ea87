"""`python bench/shared_stderr.py`: what strace's order on a shared stderr
costs (tracectl run without -o: the worker holds each traced call's tracee
until its line is printed) against tracectl batched (TRACECTL_SYNC=0, the
lines of a frame written together) and strace, all printing to stderr
(redirected to /dev/null: the terminal's own speed is not measured).

A C loop makes N getppid+close calls (2N lines); each tool runs it in
alternating rounds; the table shows median wall seconds and ratios to
strace. Needs root, gcc and strace.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

LOOP = r"""#include <unistd.h>
#include <stdlib.h>
int main(int c, char **v) { int n = atoi(v[1]); for (int i = 0; i < n; i++) { getppid(); close(-1); } return 0; }
"""


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    n = sys.argv[2] if len(sys.argv) > 2 else "10000"
    d = tempfile.mkdtemp()
    src, prog = os.path.join(d, "loop.c"), os.path.join(d, "loop")
    with open(src, "w") as f:
        f.write(LOOP)
    subprocess.run(["gcc", "-O1", "-o", prog, src], check=True)
    tracectl = [sys.executable, "-c", "import sys; from tracerd.client import main; sys.exit(main())", "--embedded", "run"]
    tools = {
        "strace": (["strace", prog, n], {}),
        "tracectl shared stderr (sync)": ([*tracectl, prog, n], {}),
        "tracectl batched (TRACECTL_SYNC=0)": ([*tracectl, prog, n], {"TRACECTL_SYNC": "0"}),
        "tracectl -o FILE": ([*tracectl, "-o", os.devnull, prog, n], {}),
        "strace -o FILE": (["strace", "-o", os.devnull, prog, n], {}),
    }
    times: dict = {k: [] for k in tools}
    for _ in range(rounds):
        for name, (argv, env) in tools.items():
            t0 = time.monotonic()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **env}, check=True)
            times[name].append(time.monotonic() - t0)
    base = statistics.median(times["strace"])
    print(f"{2 * int(n)} traced calls, {rounds} rounds, median wall seconds (ratio to strace to stderr)")
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"  {name:<36} {m:7.3f}  {m / base:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

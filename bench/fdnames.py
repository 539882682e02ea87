"""What naming fds at the stop costs a traced call (-y, -yy), against strace.

    python bench/fdnames.py [--rounds N] [--calls N]

A tracee calls fcntl(fd, F_GETFD) N times (one fd argument, nothing else
to fetch) on a regular file, then on a listening TCP socket, timing its own
loop (CLOCK_MONOTONIC). Each is traced with -e trace=fcntl by strace -f
--seccomp-bpf, by tracectl (embedded, -o /dev/null) and by its worker alone
(records counted, not decoded: the cost at the stop), plain, with -y and
with -yy, in alternating rounds; medians. Prints us per call, what -y/-yy
add to a call and the tracectl / strace ratios. Needs root, gcc and strace.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

import importlib.util

HERE = os.path.dirname(os.path.abspath(__file__))
# bench/__main__.py's helpers (alternating rounds, self-timed loops), loaded
# under another name: this script is __main__ itself
_spec = importlib.util.spec_from_file_location("bench_main", os.path.join(HERE, "__main__.py"))
_bm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_bm)
alternate, tracectl = _bm.alternate, _bm.tracectl

LOOP_C = r"""#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
/* fdloop file|sock N OUT: N fcntl(fd, F_GETFD), the loop's ns and the
 * process's CPU ns to OUT */
int main(int argc, char **argv) {
	long n = atol(argv[2]);
	int fd;
	struct timespec a, b;
	if (!strcmp(argv[1], "sock")) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		fd = socket(AF_INET, SOCK_STREAM, 0);
		bind(fd, (struct sockaddr *)&sa, sizeof(sa));
		listen(fd, 1);
	} else {
		fd = open("/etc/hostname", O_RDONLY);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		fcntl(fd, F_GETFD);
	clock_gettime(CLOCK_MONOTONIC, &b);
	FILE *f = fopen(argv[3], "w");
	fprintf(f, "%lld\n", (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
	/* and its own CPU (the tracer's is what its parent's children used, less this) */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	fprintf(f, "%lld\n", b.tv_sec * 1000000000LL + b.tv_nsec);
	fclose(f);
	return 0;
}
"""


def build(d: str) -> str:
    src, exe = os.path.join(d, "fdloop.c"), os.path.join(d, "fdloop")
    with open(src, "w") as f:
        f.write(LOOP_C)
    subprocess.run(["gcc", "-O2", "-o", exe, src], check=True)
    return exe


def drain_main(fds: str, argv: list[str]) -> int:
    """The worker alone, with the plan tracectl builds for -e trace=fcntl
    and these --decode-fds sets: records counted, never decoded."""
    from tracerd.bpfgen import Qualifiers, build_plan, compile_filter
    from tracerd.client._embedded import EmbeddedRun

    q = Qualifiers()
    q.qualify("trace=fcntl")
    sets = frozenset(f for f in fds.split(",") if f)
    run = EmbeddedRun(argv, bpf=compile_filter(q.trace, fds=bool(sets)), plan=build_plan(q.trace, fds=sets), stats=True).start()
    for _ in run.frames():
        pass
    run.close()
    st = run.status()
    with open(argv[-1], "a") as f:
        f.write(f"{run.stats['cpu_ns']}\n")  # the worker loop's own CPU
    return os.waitstatus_to_exitcode(st)


def measure(cmd, exe, kind, n) -> tuple[float, float]:
    """(the loop's wall s, the tracer's CPU s): the worker's own count when
    it reports one, else every child's CPU less the tracee's."""
    import resource

    with tempfile.NamedTemporaryFile("r", delete=True) as tf:
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([*cmd, exe, kind, str(n), tf.name], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        tf.seek(0)
        vals = [int(x) for x in tf.read().split()]
    if len(vals) > 2:
        return vals[0] / 1e9, vals[2] / 1e9
    used = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return vals[0] / 1e9, used - vals[1] / 1e9


FDS = {"plain": "", "-y": "path", "-yy": "path,socket,dev,pidfd"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="fdnames")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--drain", metavar="SETS", help=argparse.SUPPRESS)
    ap.add_argument("cmd", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.drain is not None:
        return drain_main(a.drain, [c for c in a.cmd if c != "--"])
    n = a.calls
    with tempfile.TemporaryDirectory() as d:
        exe = build(d)
        for kind in ("file", "sock"):
            variants, cpu = {}, {}

            def one(key, cmd):
                def fn():
                    w, c = measure(cmd, exe, kind, n)
                    cpu.setdefault(key, []).append(c)
                    return w
                variants[key] = fn

            for y in ("", "-y", "-yy"):
                opts = [*([y] if y else []), "-e", "trace=fcntl"]
                one(f"strace {y or 'plain'}", ["strace", "-f", "--seccomp-bpf", "-o", "/dev/null", *opts])
                one(f"tracectl {y or 'plain'}", tracectl("-f", "-o", "/dev/null", *opts))
                one(f"worker {y or 'plain'}", [sys.executable, os.path.abspath(__file__), "--drain", FDS[y or "plain"], "--"])
            med, _ = alternate(a.rounds, variants)
            us = {k: v / n * 1e6 for k, v in med.items()}
            cus = {k: statistics.median(v) / n * 1e6 for k, v in cpu.items()}
            print(f"{kind}: tracer CPU us/call " + "  ".join(f"{k} {v:.2f}" for k, v in cus.items() if not k.startswith("tracectl")))
            for y in ("-y", "-yy"):
                print(f"  {kind} {y}: tracer CPU added per call: strace {cus['strace ' + y] - cus['strace plain']:+.2f} us, "
                      f"worker {cus['worker ' + y] - cus['worker plain']:+.2f} us; worker {y} / strace {y} = {cus['worker ' + y] / cus['strace ' + y]:.2f}")
            print(f"{kind}: wall us/call " + "  ".join(f"{k} {v:.2f}" for k, v in us.items()))
            for y in ("-y", "-yy"):
                print(f"  {kind} {y}: adds {us['strace ' + y] - us['strace plain']:+.2f} us/call to strace, "
                      f"{us['tracectl ' + y] - us['tracectl plain']:+.2f} to tracectl, "
                      f"{us['worker ' + y] - us['worker plain']:+.2f} to the worker alone; "
                      f"tracectl {y} / strace {y} = {us['tracectl ' + y] / us['strace ' + y]:.2f}, "
                      f"worker {y} / strace {y} = {us['worker ' + y] / us['strace ' + y]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

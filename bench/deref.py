"""What second-level memory and fds inside structs (the fetch plan's DEREF,
FD_AT and COND ops) cost a traced call, and that calls without them pay
nothing.

    python bench/deref.py [--rounds N] [--calls N]

A tracee makes N calls of one kind, timing nothing itself: pselect6 with a
{sigmask, sigsetsize} (one DEREF), clone3 refused with 2 set_tids (three
DEREFs: set_tid at entry, pidfd and parent_tid at exit), seccomp
SET_MODE_FILTER refused with a 4-instruction program under -v (a COND and a
DEREF), ioctl(-1, SECCOMP_IOCTL_NOTIF_ADDFD) under -y (a COND and an FD_AT),
and, as the control, ioctl(-1, FIONREAD) (the COND only, which does not
match) and fcntl(F_GETFD) (no new op at all). Each runs under the worker
alone (records counted, not decoded) with the plan tracectl builds, and
with the same plan less its DEREF/FD_AT/COND ops (what the plan was
before), in alternating rounds. Prints, per call, the worker loop's CPU
(stats cpu_ns) and the record bytes (frame payloads), medians of the
rounds. Needs root and gcc.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

LOOP_C = r"""#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv) {
	long n = atol(argv[2]);
	const char *k = argv[1];
	uint64_t mask = 1, ca[11] = { 0xbad0000000000000ULL };
	int tids[2] = { 7, 8 };
	struct { void *p; size_t n; } sp = { &mask, 8 };
	struct timespec ts = { 0, 0 };
	struct sock_filter f[] = { BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4), BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
				   BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4), BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0) };
	struct sock_fprog prog = { 4, f };
	struct seccomp_notif_addfd add = { .id = 1, .srcfd = 0 };
	int v;
	ca[8] = (uintptr_t) tids;
	ca[9] = 2;
	for (long i = 0; i < n; i++) {
		if (!strcmp(k, "pselect6")) {
			ts.tv_nsec = 0;
			syscall(SYS_pselect6, 0, NULL, NULL, NULL, &ts, &sp);
		} else if (!strcmp(k, "clone3"))
			syscall(SYS_clone3, ca, sizeof(ca));
		else if (!strcmp(k, "seccomp"))
			syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
		else if (!strcmp(k, "addfd"))
			syscall(SYS_ioctl, -1, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
		else if (!strcmp(k, "fionread"))
			syscall(SYS_ioctl, -1, FIONREAD, &v);
		else
			syscall(SYS_fcntl, 0, F_GETFD);
	}
	return 0;
}
"""

# kind -> (the call traced, -y, -v)
KINDS = {
    "pselect6": ("pselect6", False, False),
    "clone3": ("clone3", False, False),
    "seccomp": ("seccomp", False, True),
    "addfd": ("ioctl", True, False),
    "fionread": ("ioctl", True, False),
    "fcntl": ("fcntl", True, False),
}
NEW_OPS = (10, 11, 12)  # Op.DEREF, FD_AT, COND


def strip(plan: bytes) -> bytes:
    """The plan less its DEREF/FD_AT/COND ops: what it was before them."""
    from tracerd._wire import PLAN_ENTRY, PLAN_HEADER, PLAN_OP
    from tracerd.bpfgen import parse_plan

    p = parse_plan(plan)
    out = [PLAN_HEADER.pack(b"TRFP", p["version"], len(p["entries"]), p["strsize"], p["flags"])]
    for e in p["entries"]:
        ops = [o for o in e["ops"] if o["kind"] not in NEW_OPS]
        out.append(PLAN_ENTRY.pack(e["pers"], len(ops), e["flags"], e["nr"]))
        out += [PLAN_OP.pack(o["phase"], o["kind"], o["arg"], o["len"], o["size"]) for o in ops]
    return b"".join(out)


def drain(exe: str, kind: str, n: int, old: bool) -> tuple[float, float, int]:
    """(worker CPU s, record bytes, records) of one run under the worker alone."""
    from tracerd.bpfgen import Qualifiers, build_plan, compile_filter
    from tracerd.client._embedded import EmbeddedRun

    name, y, v = KINDS[kind]
    q = Qualifiers()
    q.qualify("trace=" + name)
    fds = frozenset({"path"}) if y else frozenset()
    plan = build_plan(q.trace, fds=fds, abbrev=frozenset() if v else q.trace)
    if old:
        plan = strip(plan)
    run = EmbeddedRun([exe, kind, str(n)], bpf=compile_filter(q.trace, fds=bool(fds)), plan=plan, stats=True).start()
    size = recs = 0
    for _first, count, payload in run.frames():
        size += len(payload)
        recs += count
    run.close()
    run.status()
    return run.stats["cpu_ns"] / 1e9, size, recs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="deref")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=20000)
    a = ap.parse_args(argv)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "native"))
    n = a.calls
    with tempfile.TemporaryDirectory() as d:
        src, exe = os.path.join(d, "loop.c"), os.path.join(d, "loop")
        with open(src, "w") as f:
            f.write(LOOP_C)
        subprocess.run(["gcc", "-O2", "-o", exe, src], check=True)
        print(f"{'call':10} {'CPU us/call before':>19} {'after':>8} {'bytes/rec before':>17} {'after':>8}")
        for kind in KINDS:
            res = {False: [], True: []}
            for _ in range(a.rounds):
                for old in (True, False):
                    res[old].append(drain(exe, kind, n, old))
            cpu = {o: statistics.median(r[0] for r in res[o]) / n * 1e6 for o in res}
            byt = {o: statistics.median(r[1] / max(r[2], 1) for r in res[o]) for o in res}
            print(f"{kind:10} {cpu[True]:19.2f} {cpu[False]:8.2f} {byt[True]:17.0f} {byt[False]:8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

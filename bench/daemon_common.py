"""Shared bits of the daemon benchmarks: a daemon on a temporary socket, small
C workloads, plans built from tracerd._wire, /proc sampling."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from tracerd import _wire

PY = sys.executable
NR = {"openat": 257, "close": 3, "getppid": 110}

SPIN_C = r"""
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
/* spin [N]: open+close /dev/null forever (or N times after a byte on stdin,
   then print ns per iteration) */
int main(int argc, char **argv) {
    if (argc < 2) { for (;;) { int fd = open("/dev/null", O_RDONLY); if (fd >= 0) close(fd); } }
    long n = atol(argv[1]); char c;
    if (read(0, &c, 1) != 1) return 1;
    struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) { int fd = open("/dev/null", O_RDONLY); if (fd >= 0) close(fd); }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
    return 0;
}
"""


def build_spin(d: str) -> str:
    src = os.path.join(d, "spin.c")
    with open(src, "w") as f:
        f.write(SPIN_C)
    out = os.path.join(d, "spin")
    subprocess.run(["gcc", "-O2", "-o", out, src], check=True)
    return out


def make_plan(names) -> bytes:
    nrs = sorted(NR[n] for n in names)
    ents = b"".join(_wire.PLAN_ENTRY.pack(_wire.Pers.X86_64, 0, _wire.EntryFlag.EXIT, nr) for nr in nrs)
    return _wire.PLAN_HEADER.pack(_wire.PLAN_MAGIC, _wire.PLAN_VERSION, len(nrs), 32, 0) + ents


class TmpDaemon:
    def __init__(self, extra=()):
        self.dir = tempfile.mkdtemp(prefix="tracerd-bench-")
        self.path = os.path.join(self.dir, "tracerd.sock")
        self.proc = subprocess.Popen([PY, "-m", "tracerd.daemon", "--socket", self.path, "--log-level", "warning", *extra], stderr=subprocess.DEVNULL)
        while True:
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(self.path)
                break
            except OSError:
                time.sleep(0.02)
            finally:
                s.close()

    def close(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


def cpu_ns(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

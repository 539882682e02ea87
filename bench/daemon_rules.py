"""What standing rules cost (issue 10's rules benchmarks).

1. Processes no rule matches: 2000 x `/bin/true` under `sh -c` (a shell
   loop) on a filesystem a rule marks vs the same binaries on one it does not
   (which is what running without the rule costs), in short interleaved
   bursts, medians. The rule matches by comm (or `--match uid`) on something
   no process has, so the exec catcher puts a *filesystem* mark on the
   filesystem the exec'd binaries live on, as a rule without `exe` does, and
   every exec there passes through the catcher (an exec permission event,
   answered ALLOW at once). The binaries are copies on private tmpfs mounts
   and the mark goes on one of them, never on a filesystem the host runs
   from: on a host with `filesystems = ["/"]` each dynamically linked exec
   also makes a second event, for the loader (its opening is an exec open
   too), answered without reading anything of the process.
2. Exec-to-traced latency of a matched process: a parent takes
   CLOCK_MONOTONIC, forks, and the child execs the matched program, whose
   main() takes it again; the difference, with the rule (mode ptrace and
   mode seccomp-bpf) minus without, is what catching costs a matched exec
   (it is held until its worker has seized it; with seccomp-bpf the filter
   is also injected before its first instruction). main() also checks
   TracerPid, so a figure counts only execs that were in fact traced.

    .venv/bin/python bench/daemon_rules.py [--rounds 5] [--execs 2000] [--caught 20]

Needs root (fanotify exec permission events), gcc, sh, mount.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

PY = sys.executable

# exec_lat TARGET N GAP_MS: N times fork + exec TARGET (which reports), GAP_MS apart
LAT_C = r"""#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
int main(int argc, char **argv)
{
	int n = atoi(argv[2]), gap = atoi(argv[3]);
	for (int i = 0; i < n; i++) {
		struct timespec a;
		char t0[32];
		clock_gettime(CLOCK_MONOTONIC, &a);
		snprintf(t0, sizeof t0, "%lld", a.tv_sec * 1000000000LL + a.tv_nsec);
		pid_t p = fork();
		if (p == 0) {
			execl(argv[1], argv[1], t0, (char *)NULL);
			_exit(127);
		}
		waitpid(p, NULL, 0);
		usleep(gap * 1000);
	}
	return 0;
}
"""

# target T0: prints "ns_since_T0 traced(0/1)" as its first act in main()
TARGET_C = r"""#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
int main(int argc, char **argv)
{
	struct timespec b;
	char line[256];
	int traced = 0;
	clock_gettime(CLOCK_MONOTONIC, &b);
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "TracerPid:", 10))
			traced = atoi(line + 10) != 0;
	if (f)
		fclose(f);
	printf("%lld %d\n", b.tv_sec * 1000000000LL + b.tv_nsec - atoll(argv[1]), traced);
	return 0;
}
"""


def build(d: str, name: str, src: str) -> str:
    out = os.path.join(d, name)
    subprocess.run(["gcc", "-O2", "-o", out, "-x", "c", "-"], input=src.encode(), check=True)
    return out


class Daemon:
    """One daemon for the whole run; its rules switched by SIGHUP (a reload:
    the catcher and its marks come and go with them)."""

    def __init__(self, work: str):
        self.cfg = os.path.join(work, "rules.toml")
        self.write("")
        self.sock = os.path.join(work, "s", "tracerd.sock")
        self.proc = subprocess.Popen([PY, "-m", "tracerd.daemon", "--socket", self.sock, "--config", self.cfg], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"daemon did not start: {self.proc.stderr.read().decode()}")
            time.sleep(0.05)

    def write(self, text: str) -> None:
        with open(self.cfg + ".new", "w") as f:
            f.write(text)
        os.chmod(self.cfg + ".new", 0o644)
        os.replace(self.cfg + ".new", self.cfg)

    def rules(self) -> tuple[list, dict]:
        r = subprocess.run([PY, "-c", "import sys; from tracerd.client import main; sys.exit(main())", "--socket", self.sock, "rules", "--json"], capture_output=True, text=True, timeout=30)
        lines = [json.loads(x) for x in r.stdout.splitlines()]
        return lines[:-1], lines[-1]["catcher"]

    def load(self, text: str, names: list[str]) -> None:
        """Reload with `text`; wait until exactly `names` are in force (and
        the catcher is there when a rule is, gone when none is)."""
        self.write(text)
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            rules, cat = self.rules()
            if [r["name"] for r in rules] == names and bool(cat.get("pid")) == bool(names):
                time.sleep(0.5)  # idle workers started
                return
            time.sleep(0.1)
        raise SystemExit(f"the reload did not take: {rules} {cat}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.communicate(timeout=30)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loop_seconds(sh: str, true: str, n: int) -> float:
    script = f"i=0; while [ $i -lt {n} ]; do {true}; i=$((i+1)); done"
    t = time.perf_counter()
    subprocess.run([sh, "-c", script], check=True)
    return time.perf_counter() - t


def exec_latencies(lat: str, target: str, n: int, gap_ms: int) -> list[tuple[float, bool]]:
    out = subprocess.run([lat, target, str(n), str(gap_ms)], capture_output=True, text=True, check=True, timeout=600).stdout
    return [(int(ns) / 1000.0, traced == "1") for ns, traced in (line.split() for line in out.splitlines())]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--execs", type=int, default=2000)
    ap.add_argument("--caught", type=int, default=20, help="matched execs per latency run (0: skip)")
    ap.add_argument("--match", choices=("comm", "uid", "exe"), default="comm", help="what the unmatched rule matches on (comm: the path passed is read per exec; uid: the status; exe: another file, an inode mark: no event at all)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("needs root (fanotify exec permission events)", file=sys.stderr)
        return 1
    work = tempfile.mkdtemp(prefix="tracerd-bench-rules-")
    fs = os.path.join(work, "fs")
    plain = os.path.join(work, "plain")  # the same binaries on a filesystem no rule marks
    for m in (fs, plain):
        os.mkdir(m)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=0755", "tracerd-bench-rules", m], check=True)
    d = None
    try:
        shutil.copy("/bin/sh", os.path.join(plain, "sh"))
        shutil.copy("/bin/true", os.path.join(plain, "true"))
        sh, true = os.path.join(fs, "sh"), os.path.join(fs, "true")
        shutil.copy("/bin/sh", sh)
        shutil.copy("/bin/true", true)
        lat = build(work, "exec_lat", LAT_C)
        target = build(fs, "target", TARGET_C)
        comm = f"trdb-{os.getpid()}"  # nothing on the host carries it: the rule matches nothing
        d = Daemon(work)
        catcher = "[catcher]\nidle_workers = 2\nhold_ms = 2000\n"

        # 1. execs no rule matches. The rule stays loaded (a filesystem mark
        # on `fs`); the same loop runs alternately from `fs` (every exec an
        # event at the catcher) and from `plain` (no mark: as without the
        # rule), in short interleaved bursts so that both see the same load
        # on this shared machine. A uid no process has: the scan at load
        # finds nothing either.
        match = {"comm": f'comm = "{comm}"', "uid": "uid = 2147483000", "exe": f'exe = "{target}"'}[a.match]
        d.load(catcher + f'filesystems = ["{fs}"]\n[[rule]]\nname = "unmatched"\n{match}\nmode = "ptrace"\n', ["unmatched"])
        cat = d.rules()[1]
        burst = max(1, a.execs // 4)
        marked, unmarked = [], []
        ev0, cpu0 = cat.get("events", 0), cpu_seconds(cat["pid"])
        loop_seconds(sh, true, 50)  # warm
        loop_seconds(os.path.join(plain, "sh"), os.path.join(plain, "true"), 50)
        for i in range(a.rounds * 4):
            for on in ((True, False) if i % 2 == 0 else (False, True)):
                if on:
                    marked.append(loop_seconds(sh, true, burst))
                else:
                    unmarked.append(loop_seconds(os.path.join(plain, "sh"), os.path.join(plain, "true"), burst))
        cpu = cpu_seconds(cat["pid"]) - cpu0
        time.sleep(1.1)  # the catcher's counters come once a second
        events = d.rules()[1].get("events", 0) - ev0
        m_with, m_without = statistics.median(marked) * a.execs / burst, statistics.median(unmarked) * a.execs / burst
        print(f"unmatched execs ({a.match} rule): {a.execs} x true under sh -c: unmarked {m_without:.3f} s, under the rule's mark {m_with:.3f} s: {m_with / m_without:.3f}x "
              f"(per exec {(m_with - m_without) / a.execs * 1e6:+.1f} us; {events} exec events at the catcher, its CPU {cpu / max(events, 1) * 1e6:.1f} us per event; "
              f"{len(marked)} interleaved bursts of {burst} each, medians)")

        # 2. exec-to-traced latency of a matched exec
        if a.caught <= 0:
            return 0
        res = {}
        for mode in ("none", "ptrace", "seccomp-bpf"):
            if mode == "none":
                d.load("", [])
            else:
                d.load(catcher + f'[[rule]]\nname = "m"\nexe = "{target}"\nmode = "{mode}"\ntrace = "-e trace=execve"\n', ["m"])
            got = exec_latencies(lat, target, a.caught, 400)
            traced = [us for us, t in got if t]
            res[mode] = (statistics.median([us for us, _ in got]), len(traced), len(got))
        base = res["none"][0]
        print(f"exec to main(): untraced {base:.0f} us (median of {res['none'][2]})")
        for mode in ("ptrace", "seccomp-bpf"):
            med, nt, n = res[mode]
            print(f"exec to main(), caught by a rule, {mode}: {med:.0f} us: exec-to-traced latency {med - base:+.0f} us ({nt}/{n} traced at main())")
    finally:
        if d is not None:
            d.stop()
        for m in (fs, plain):
            subprocess.run(["umount", "-l", m], check=False)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

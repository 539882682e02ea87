"""Memory of the tracer's own processes during a run, against strace's, in one run.

    python bench/memory.py [--rounds N] [--daemon] [--stack] [--detail] [--seconds S]
    (bench/workloads.py prints one round of it; bench/run runs it whole)

Each round traces the same command (`sleep S`, `-f -o FILE`) under strace
and under tracectl (embedded; with `--daemon`, also through a private daemon
on a temporary socket), the tools alternating, and reads
/proc/PID/smaps_rollup of every process of the tracer once the command is
asleep: PSS (proportional set size: a page shared by N processes counts
1/N in each, so a forked worker's pages shared with its front end are
counted once in the sum, which RSS would count twice) summed over them.

The tracer's processes: the tool's process and all its descendants but the
traced command (tracectl: front end + worker; strace: itself). Through the
daemon: the client (front end) alone, then the session's worker (a child of
the daemon), and the daemon itself apart (a service that is there whatever
runs). Medians over rounds; tracectl's on-disk cache is a directory of the
run's own, filled by a warm-up round. `--stack` adds tracectl with `-k` (libdw and
libelf mapped: what a run without -k no longer pays). `--detail` prints,
for the last round, each tracectl process's PSS by mapping (smaps),
largest first: what the megabytes hold.

Needs root and strace.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from tracerd.daemon._auth import tracer_of

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
TRACECTL = os.path.join(os.path.dirname(PY), "tracectl")


def pss_kb(pid: int, field: str = "Pss:") -> int:
    """A smaps_rollup figure in kB: "Pss:" (default), "Pss_Anon:", "Pss_File:"."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    out = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children(p)
    return out


def comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def by_mapping(pid: int) -> dict[str, int]:
    """PSS kB of one process by mapping name (file, [heap], [anon], ...)."""
    out: dict[str, int] = {}
    name = "?"
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                head = line.split(None, 1)[0]
                if "-" in head and not head.endswith(":"):
                    parts = line.split(None, 5)
                    name = parts[5].strip() if len(parts) > 5 else "[anon]"
                elif head == "Pss:":
                    out[name] = out.get(name, 0) + int(line.split()[1])
    except OSError:
        pass
    return out


def wait_for(pred, timeout: float = 10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.01)
    raise RuntimeError("bench.memory: the traced command did not start")


def sample(cmd: list[str], seconds: float, daemon_pid: int | None = None, detail: bool = False):
    """Run `cmd` (whose command is `sleep SECONDS`), and once the command
    sleeps, read the tracer's processes. Returns {part: kB} (part "own": the
    tool's tree but the command; through the daemon also "worker" and
    "daemon"), and with `detail` {pid label: by_mapping}."""
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # the command exec'd sleep and the tracer holds it (TracerPid): past start-up
        def tracee():
            for q in descendants(p.pid)[1:]:
                if comm(q) == "sleep" and tracer_of(q):
                    return q
            if daemon_pid:
                for q in descendants(daemon_pid):
                    if comm(q) == "sleep" and tracer_of(q):
                        return q
            return None

        t = wait_for(tracee)
        time.sleep(min(0.3, seconds / 3))  # the front end into its loop
        own = [q for q in descendants(p.pid) if q != t]
        parts = {"own": sum(pss_kb(q) for q in own), "anon": sum(pss_kb(q, "Pss_Anon:") for q in own)}
        procs = {f"{comm(q)} {q}": q for q in own}
        if daemon_pid:
            tracer = tracer_of(t)
            parts["worker"] = pss_kb(tracer)
            parts["daemon"] = pss_kb(daemon_pid)
            procs[f"worker {tracer}"] = tracer
        maps = {k: by_mapping(q) for k, q in procs.items()} if detail else None
        return parts, maps
    finally:
        p.wait(seconds + 30)


def tools(out: str, daemon_path: str | None, stack: bool, levers: bool = False) -> dict[str, list[str]]:
    t = {
        "strace": ["strace", "-f", "-o", out, "--"],
        "tracectl": [PY, TRACECTL, "--embedded", "run", "-f", "-o", out, "--"],
    }
    if levers:
        sys.path.insert(0, HERE)
        from startup import LEVERS, lever_cmd

        for name in ("without the argv cache", "without the early fork", "without any of them (the front end before them)"):
            t[f"tracectl, {name}"] = lever_cmd(LEVERS[name], ["--embedded", "run", "-f", "-o", out, "--"])
    if stack:
        t["tracectl -k"] = [PY, TRACECTL, "--embedded", "run", "-f", "-k", "-o", out, "--"]
    if daemon_path:
        t["tracectl (daemon)"] = [PY, TRACECTL, "--socket", daemon_path, "run", "-f", "-o", out, "--"]
    return t


def measure(rounds: int = 5, seconds: float = 1.0, daemon: bool = False, stack: bool = False, detail: bool = False, quiet: bool = False, daemon_obj=None, levers: bool = False):
    """{tool: {part: median kB}} over `rounds` alternating rounds (and the
    last round's by-mapping detail when asked). `daemon_obj`: a running
    TmpDaemon to use (else one of its own with `daemon`)."""
    tmp = tempfile.mkdtemp(prefix="tracerd-memory-")
    d, own = daemon_obj, False
    try:
        if daemon and d is None:
            sys.path.insert(0, HERE)
            from daemon_common import TmpDaemon

            d, own = TmpDaemon(), True
        out = os.path.join(tmp, "mem.trace")
        ts = tools(out, d.path if d else None, stack, levers)
        sleep = ["/bin/sleep", str(seconds)]
        dpid = {"tracectl (daemon)": d.proc.pid} if d else {}
        for k, pre in ts.items():  # warm: caches, page cache
            sample(pre + sleep, seconds, dpid.get(k))
        res: dict[str, dict[str, list[int]]] = {k: {} for k in ts}
        maps = {}
        for r in range(rounds):
            for k, pre in ts.items():
                parts, m = sample(pre + sleep, seconds, dpid.get(k), detail and r == rounds - 1)
                for part, v in parts.items():
                    res[k].setdefault(part, []).append(v)
                if m:
                    maps[k] = m
                if not quiet:
                    print(f"  round {r + 1} {k}: " + ", ".join(f"{p} {v / 1024:.1f} MB" for p, v in parts.items()), flush=True)
        return {k: {p: statistics.median(v) for p, v in parts.items()} for k, parts in res.items()}, maps
    finally:
        if own:
            d.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="bench.memory", description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=1.0, help="the traced sleep (default 1)")
    ap.add_argument("--daemon", action="store_true", help="also through a private daemon")
    ap.add_argument("--stack", action="store_true", help="also tracectl -k (libdw loaded)")
    ap.add_argument("--levers", action="store_true", help="also tracectl with bench/startup.py's levers off (argv cache, early fork)")
    ap.add_argument("--detail", action="store_true", help="PSS by mapping of each tracectl process (last round)")
    ap.add_argument("--top", type=int, default=25, help="mappings shown per process with --detail")
    a = ap.parse_args(argv)
    if os.geteuid() != 0 or not shutil.which("strace"):
        print("bench.memory: needs root and strace", file=sys.stderr)
        return 2
    # tracectl's on-disk cache in a directory of the run's own (filled by the
    # warm-up round): one user's steady state, which other checkouts sharing
    # ~/.cache cannot evict meanwhile (a table rebuilt is ~3 MB more)
    cache = tempfile.mkdtemp(prefix="tracerd-memory-cache-")
    os.environ["XDG_CACHE_HOME"] = cache
    try:
        med, maps = measure(a.rounds, a.seconds, a.daemon, a.stack, a.detail, levers=a.levers)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    base = med["strace"]["own"]
    print(f"\nPSS while tracing `sleep {a.seconds:g}` (-f -o FILE), medians of {a.rounds} alternating rounds, load {os.getloadavg()[0]:.1f}")
    print("(anon: the PSS of anonymous pages, shared only among a tool's own forks; the rest is")
    print(" files, libpython's pages among them, whose share moves with what else runs on the machine)")
    print("| tool | PSS of its own processes | of it anon | / strace |")
    print("|---|---|---|---|")
    for k, parts in med.items():
        extra = ""
        if "worker" in parts:
            extra = f" (client; + session worker {parts['worker'] / 1024:.1f} MB = {(parts['own'] + parts['worker']) / 1024:.1f} MB; the daemon itself {parts['daemon'] / 1024:.1f} MB)"
        print(f"| {k} | {parts['own'] / 1024:.1f} MB{extra} | {parts['anon'] / 1024:.1f} MB | {parts['own'] / base:.2f} |")
    for tool, procs in maps.items():
        if tool == "strace":
            continue
        for label, m in procs.items():
            total = sum(m.values())
            print(f"\n{tool}, {label}: PSS {total / 1024:.1f} MB")
            for name, kb in sorted(m.items(), key=lambda x: -x[1])[: a.top]:
                print(f"  {kb:7d} kB  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

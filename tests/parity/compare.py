"""Parity with strace: run strace and `tracectl run` on the same everyday
commands and report the share of strace's lines tracectl reproduces exactly,
after normalising addresses, pids, random bytes and times.

    python tests/parity/compare.py [--show N] [CMD ...]

Each CMD is a shell command line. Without CMDs, the everyday set below runs.
Needs root (ptrace) and strace. Also imported by test_parity.py.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

COMMANDS = [
    "ls -la",
    "cat /etc/hostname",
    "sh -c 'echo hi | cat'",
    "date",
    "id",
    "stat /",
    "python3 -c pass",
    "mkdir -p d/e && rm -r d",
]

_HEX = re.compile(r"0x[0-9a-f]{5,}")
_PIDLINE = re.compile(r"^(\d+) +")
_SPACES = re.compile(r"\) +=( |$)")
_RANDOM = re.compile(r'(getrandom\()"[^"]*"')
_VARS = re.compile(r"/\* \d+ vars \*/")
# values that change between two runs of the same command
_VOLATILE = [
    (re.compile(r"^(sysinfo\()\{.*\}(\) = .*)$"), r"\1{...}\2"),
    (re.compile(r"(si_[us]time=)\d+( /\* [\d.]+ s \*/)?"), r"\1T"),
    (re.compile(r"^(getppid\(\) = )\d+$"), r"\1PPID"),
    (re.compile(r"/tmp/tmp[\w]+"), "/tmp/TMP"),
    # -v: inodes and times of directories each run creates afresh
    (re.compile(r"\b(st_ino|stx_ino|d_ino|d_off)=\d+"), r"\1=N"),
    (re.compile(r"\b(st_[amc]time(?:_nsec)?)=\d+( /\* [^*]+ \*/)?"), r"\1=T"),
    (re.compile(r"\b(stx_[abcm]time)=\{[^}]*\}( /\* [^*]+ \*/)?"), r"\1=T"),
    (re.compile(r"((?:socket|pipe|UNIX-STREAM|UNIX-DGRAM|TCP|UDP|TCPv6|UDPv6|NETLINK):\[)\d+"), r"\1INODE"),
    (re.compile(r"^(write\(1, )\"[A-Z][a-z][a-z] [A-Z][a-z][a-z] .*\"(, \d+\) = \d+)$"), r"\1DATE\2"),
]


def tracectl() -> list[str]:
    exe = Path(sys.executable).with_name("tracectl")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "tracerd.client"]


def _run(argv: list[str], cwd: str) -> None:
    subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=120)


def _merge(lines: list[str]) -> list[tuple[str, str]]:
    """(pid, line) with `<unfinished ...>`/`<... resumed>` pairs joined, as
    the interleaving differs from run to run."""
    out, pending = [], {}
    for line in lines:
        m = _PIDLINE.match(line)
        pid, text = (m.group(1), line[m.end():]) if m else ("", line)
        if text.endswith(" <unfinished ...>"):
            pending[pid] = text[: -len(" <unfinished ...>")]
            continue
        r = re.match(r"<\.\.\. [\w]+ resumed>(.*)$", text)
        if r and pid in pending:
            text = pending.pop(pid) + r.group(1)
        out.append((pid, text))
    return out


def normalise(lines: list[str]) -> list[str]:
    merged = _merge(lines)
    pids = {p for p, _ in merged if p}
    # numbers that are pids: line prefixes, plus what clone/fork/getpid return
    for _, t in merged:
        m = re.match(r"(?:clone|clone3|fork|vfork|getpid|gettid|set_tid_address)\(.*\) = (\d+)$", t)
        if m:
            pids.add(m.group(1))
    order = {p: f"PID{i}" for i, p in enumerate(sorted(pids, key=int))}
    out = []
    for p, t in merged:
        t = _SPACES.sub(lambda m: ") =" + m.group(1), t)
        t = _HEX.sub("0xADDR", t)
        t = _RANDOM.sub(r'\1"RANDOM"', t)
        t = _VARS.sub("/* N vars */", t)
        for rx, rep in _VOLATILE:
            t = rx.sub(rep, t)
        if pids:
            t = re.sub(r"\b(" + "|".join(sorted(pids, key=len, reverse=True)) + r")\b", lambda m: order[m.group(1)], t)
        out.append((order.get(p, "") + " " if p else "") + t)
    return out


def trace_both(cmd: str, opts: tuple[str, ...] = (), ours: list[str] | None = None) -> tuple[list[str], list[str]]:
    with tempfile.TemporaryDirectory() as d:
        s_out, t_out = os.path.join(d, "strace.txt"), os.path.join(d, "tracectl.txt")
        work = os.path.join(d, "w")
        os.mkdir(work)
        _run(["strace", "-f", "-qq", *opts, "-o", s_out, "sh", "-c", cmd], work)
        _run([*(ours or tracectl()), "--embedded", "run", "-f", "-qq", *opts, "-o", t_out, "sh", "-c", cmd], work)
        s = Path(s_out).read_text(errors="replace").splitlines() if os.path.exists(s_out) else []
        t = Path(t_out).read_text(errors="replace").splitlines() if os.path.exists(t_out) else []
    return normalise(s), normalise(t)


def share(ref: list[str], ours: list[str]) -> tuple[int, int, collections.Counter, collections.Counter]:
    a, b = collections.Counter(ref), collections.Counter(ours)
    common = sum((a & b).values())
    return common, sum(a.values()), a - b, b - a


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", type=int, default=8, help="differing lines to show per command")
    ap.add_argument("--opts", default="", help="strace options given to both, e.g. '-v -yy'")
    ap.add_argument("--tracectl", help="the tracectl command line to compare (default: this venv's), e.g. to measure another build")
    ap.add_argument("commands", nargs="*")
    args = ap.parse_args(argv)
    if shutil.which("strace") is None:
        print("compare: strace is not installed", file=sys.stderr)
        return 1
    total_c = total_n = 0
    for cmd in args.commands or COMMANDS:
        ref, ours = trace_both(cmd, tuple(shlex.split(args.opts)), shlex.split(args.tracectl) if args.tracectl else None)
        c, n, missing, extra = share(ref, ours)
        total_c += c
        total_n += n
        print(f"{c / n if n else 0:6.1%}  {c:4d}/{n:<4d}  {cmd}")
        for line, k in missing.most_common(args.show):
            print(f"        - {k}x {line[:160]}")
        for line, k in extra.most_common(args.show):
            print(f"        + {k}x {line[:160]}")
    print(f"{total_c / total_n if total_n else 0:6.1%}  {total_c:4d}/{total_n:<4d}  TOTAL")
    return 0


if __name__ == "__main__":
    sys.exit(main())

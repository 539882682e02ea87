"""Helpers of the tampering tests: strace 6.1 is the oracle, run on the same
program with the same options; lines are compared exactly (pids renamed in
order of appearance when several tasks are traced)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"
TRACECTL = Path(sys.executable).with_name("tracectl")


def skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root (ptrace)"
    if shutil.which("strace") is None:
        return "strace not installed (the oracle)"
    if shutil.which("gcc") is None:
        return "gcc not installed"
    try:
        import tracerd.native._tracer  # noqa: F401
    except ImportError as exc:
        return f"tracer not built: {exc}"
    return None


def build(outdir: Path) -> Path:
    exe = outdir / "calls"
    subprocess.run(["gcc", "-O1", "-no-pie", "-pthread", "-o", str(exe), str(GOLDEN / "calls.c")], check=True)
    return exe


def normalise(lines: list[str]) -> list[str]:
    """Pids at the start of a line (`-o FILE -f`) become P1, P2, ... in order
    of first appearance (and si_pid= with them); addresses that differ from
    run to run (environment pointers) and CPU times in siginfo are masked."""
    names: dict[str, str] = {}
    out = []
    for line in lines:
        m = re.match(r"^(\d+)( +)(.*)$", line)
        if m:
            p = names.setdefault(m.group(1), f"P{len(names) + 1}")
            line = f"{p} {m.group(3)}"
        line = re.sub(r"0x[0-9a-f]{8,}", "0xADDR", line)  # environment pointers
        line = re.sub(r"si_pid=(\d+)", lambda m: "si_pid=" + names.get(m.group(1), "P?"), line)
        line = re.sub(r"si_([us])time=\d+", r"si_\1time=T", line)
        out.append(line)
    return out


def run_both(tmp: Path, argv: list[str], opts: list[str]) -> tuple[tuple[list[str], str, int], tuple[list[str], str, int]]:
    """(lines, stdout, status) of strace and of `tracectl --embedded run`,
    both with `-o FILE` and `opts`."""
    res = []
    for name, cmd in (("strace", ["strace"]), ("tracectl", [str(TRACECTL), "--embedded", "run"])):
        log = tmp / f"{name}.log"
        p = subprocess.run(cmd + ["-o", str(log), *opts, "--", *argv], capture_output=True, text=True, timeout=60)
        lines = log.read_text().splitlines() if log.exists() else []
        assert "Traceback" not in p.stderr, p.stderr
        res.append((normalise(lines), p.stdout, p.returncode))
    return res[0], res[1]


def exprs(*e: str) -> list[str]:
    return [x for v in e for x in ("-e", v)]

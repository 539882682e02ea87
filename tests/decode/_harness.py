"""Run a command under the real tracer (embedded worker) and decode its
records with the real Decoder; also run it under strace for the reference.

Needs root, the native worker (tracerd.native.spawn_worker) and bpfgen's
compile_filter/build_plan; `skip_reason()` says what is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tracerd import _wire
from tracerd._wire import Pers, Rec

HERE = Path(__file__).parent


def _bpfgen():
    try:
        from tracerd.bpfgen import load_table
    except ImportError:
        return None
    try:
        from tracerd.bpfgen import build_plan, compile_filter
    except ImportError:
        try:
            from tracerd.bpfgen._compile import compile_filter
            from tracerd.bpfgen._plan import build_plan
        except ImportError:
            return None
    return load_table, compile_filter, build_plan


def skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root (ptrace, seccomp)"
    try:
        from tracerd.native import spawn_worker  # noqa: F401
    except ImportError:
        return "tracerd.native lacks spawn_worker (native loop not landed)"
    if _bpfgen() is None:
        return "tracerd.bpfgen lacks compile_filter/build_plan"
    if shutil.which("gcc") is None:
        return "gcc missing"
    return None


def compile_c(src: Path, outdir: Path, extra=()) -> Path:
    exe = outdir / src.stem
    subprocess.run(["gcc", "-O0", "-w", "-o", str(exe), str(src), *extra], check=True)
    return exe


def trace_set(names, pers=Pers.X86_64):
    load_table = _bpfgen()[0]
    t = load_table()
    out = set()
    for n in names:
        sc = t.syscalls[n]
        if pers in sc.numbers:
            out.add((pers, sc.numbers[pers]))
    return frozenset(out)


def records(argv, names, strsize=32, pers=(Pers.X86_64,), fds=()):
    """Every record of `argv` traced on `names` (in each personality of
    `pers`); `fds`: the --decode-fds sets the plan names fds for (-y: path)."""
    from tracerd.client._embedded import EmbeddedRun

    _, compile_filter, build_plan = _bpfgen()
    trace = frozenset().union(*(trace_set(names, p) for p in pers))
    bpf = compile_filter(trace)
    plan = build_plan(trace, strsize=strsize, fds=fds)
    out = []
    with EmbeddedRun(list(argv), bpf=bpf, plan=plan) as run:
        run.start()
        for _first, _count, payload in run.frames():
            out.extend(_wire.iter_records(payload))
        status = run.status()
    return out, status


def lines(decoder, recs, merge: bool = True) -> list[str]:
    """Decoded lines as strace prints them (no pids, no alignment). With
    `merge`, a split call (ENTRY ... EXIT) is printed whole at its exit, as
    strace does when no other process's line came in between: entry text +
    resumed text must then be the whole call."""
    out = []
    pending = {}
    for r in recs:
        t = Rec(r[0])
        tid = _wire.field(r, "tid")
        if t == Rec.SYSCALL:
            out.append(decoder.call(r))
        elif t == Rec.SYSCALL_ENTRY:
            pending[tid] = r
            if not merge:
                out.append(decoder.entry(r) + " <unfinished ...>")
        elif t == Rec.SYSCALL_EXIT:
            e = pending.pop(tid, None)
            if merge and e is not None:
                out.append(decoder.entry(e) + decoder.resumed(r, e))
                continue
            out.append(f"<... {decoder.name(_wire.field(r, 'pers'), _wire.field(r, 'nr'))} resumed>" + decoder.resumed(r, e))
        elif t == Rec.SIGNAL:
            out.append(decoder.signal(r))
    return out


def strace_lines(argv, names, extra=()) -> list[str]:
    """strace's lines for the same command (the reference)."""
    import tempfile

    # -o FILE, not stderr: strace's own warnings (`umovestr: short read`
    # for unreadable memory) go to stderr and would split a line
    with tempfile.NamedTemporaryFile("r", suffix=".strace", errors="replace") as f:
        subprocess.run(["strace", "-qq", "-e", "trace=" + ",".join(names), *extra, "-o", f.name, *argv],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return [unalign(l) for l in f.read().splitlines()]


def unalign(line: str) -> str:
    """strace pads `name(...)` to column 40 before ` = `: undo it (last one only)."""
    import re

    last = None
    for m in re.finditer(r"\) +=( |$)", line):
        last = m
    if last is None:
        return line
    return line[: last.start()] + ") =" + line[last.end() - (1 if last.group(1) else 0):]


def merge_unfinished(lines: list[str]) -> list[str]:
    """Join `X <unfinished ...>` with its `<... name resumed>Y` (one process)."""
    import re

    out, pending = [], None
    for line in lines:
        if line.endswith(" <unfinished ...>"):
            pending = line[: -len(" <unfinished ...>")]
            continue
        m = re.match(r"<\.\.\. \w+ resumed>(.*)$", line)
        if m and pending is not None:
            out.append(pending + m.group(1))
            pending = None
            continue
        out.append(line)
    return out

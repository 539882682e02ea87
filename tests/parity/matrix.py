"""The strace option matrix: everyday strace command lines, each run under
strace 6.1 and under `tracectl --embedded` with the same argv, in the same
kind of scratch directory, and classed by what they print.

    python -m tests.parity.matrix [--only PATTERN] [--show] [--write docs/strace-matrix.md]

Classes (in this order of checks):

- crash: tracectl ended by a Python traceback or did not end in time;
- refused: tracectl refused an option strace accepted (one line, exit 1);
- identical: exit status, stdout, stderr and every file written are equal,
  once `tracectl` is read as `strace` in messages;
- equivalent: equal after compare.py's normalisation (addresses, pids,
  random bytes, inode numbers), times and the time columns of `-c` tables;
- equivalent too: each run twice more, one of tracectl's runs is
  normalised equal to one of strace's (the row has a race, which the first
  runs happened to schedule apart);
- differs (timing): no such pair, and strace's three runs or tracectl's
  differ among themselves (what varies is scheduling or host state);
- differs (documented): not equal, in a way docs/cli.md gives as deliberate
  (the row says why);
- differs: the rest.

Rows marked `own` print tracectl's own text by design (`-V`, `-h`, `-d`,
`--tips`): only their exit status is compared. Needs root and strace; run by
hand (not in CI): about 8 minutes on 2 loaded cores.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import compare

# Fixtures every row's scratch directory starts with.
FIXTURES = {
    "f.txt": b"hello matrix\nsecond line\n",
    "bin.dat": bytes(range(0, 256, 7)) + b"\xff\xfe tail\n",
    "app.log": b"old line\n",
}
PY_SOCK = "import socket; s = socket.socket(); s.close()"
PY_PAIR = "import socket; a, b = socket.socketpair(); a.send(b'x'); b.recv(1)"
PY_GETPID = "import os; os.getpid()"
PY_SIGPID = "import os, signal; signal.signal(signal.SIGUSR1, lambda *a: None); os.getpid()"
PY_UDP = "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect(('127.0.0.1', 9)); s.close()"


@dataclass(frozen=True)
class Row:
    line: str            # strace's argv after `strace`, as a shell would split it
    own: bool = False    # our own text by design: compare the exit status only
    attach: str = ""     # a command started first; `PID` in line is its pid
    settle: float = 0.0  # wait this long after the tracer ends (-D: a grandchild writes on)
    known: str = ""      # a difference docs/cli.md gives as deliberate: why


R = Row
ROWS: list[Row] = [
    # --- basics, output files
    R("true"),
    R("cat f.txt"),
    R("-o out cat f.txt"),
    R("--output=out cat f.txt"),
    R("-f sh -c 'echo hi | cat'"),
    R("-f -o out sh -c 'echo hi | cat'"),
    R("-ff -o out sh -c 'echo hi | cat'"),
    R("--follow-forks --output-separately --output=out sh -c 'true; true'"),
    R("-A -o app.log true"),
    R("--output-append-mode -o app.log cat f.txt"),
    R("-o '|cat' true"),
    R("-o '!cat' true"),
    R("-o /dev/full true", known="strace repeats its message for every lost line, tracectl once per run of failed frames (docs/cli.md, Exit status)"),
    R("/nonexistent-program"),
    R("-e trace=execve -f sh -c 'exec ./f.txt'"),
    R("-e trace=all true"),
    # --- summary
    R("-c true"),
    R("-c -f sh -c 'echo hi | cat'"),
    R("-C cat f.txt"),
    R("-C -S calls -f sh -c 'true; true'"),
    R("-c -w true"),
    R("--summary-only --summary-wall-clock cat f.txt"),
    R("-c -S calls cat f.txt"),
    R("-c -S name cat f.txt"),
    R("-c -S errors ls nonexist"),
    R("-c -S nothing true"),
    R("-c -U name,calls,errors cat f.txt"),
    R("-c -U calls,name -S name true"),
    R("-c -U time-percent,total-time,min-time,max-time,avg-time,calls,errors,name true"),
    R("-c -O 1us true"),
    R("-c -O 1ms true"),
    R("-c -o out true"),
    R("-c -e trace=%file cat f.txt"),
    R("-c -T true"),
    R("-S calls true"),
    R("-U calls true", known="strace adds `Try 'strace -h' for more information.`; tracectl's usage errors are one line (docs/cli.md, Exit status)"),
    R("-w true", known="strace adds `Try 'strace -h' for more information.`; tracectl's usage errors are one line (docs/cli.md, Exit status)"),
    R("--summary --summary-sort-by=name true"),
    # --- trace= classes and sets
    R("-e trace=%file cat f.txt"),
    R("-e trace=file cat f.txt"),
    R(f"-e trace=%network python3 -c \"{PY_SOCK}\""),
    R("-f -e trace=%process sh -c '/bin/true; true'"),
    R("-e trace=%memory true"),
    R("-e trace=%desc cat f.txt"),
    R("-e trace=%signal sh -c 'kill -USR1 $$'"),
    R("-e trace=%ipc true"),
    R("-e trace=%stat cat f.txt"),
    R("-e trace=%lstat ls -l f.txt"),
    R("-e trace=%fstat cat f.txt"),
    R("-e trace=%%stat cat f.txt"),
    R("-e trace=%statfs true"),
    R("-e trace=%%statfs true"),
    R("-e trace=%creds id -u"),
    R("-e trace=%clock sleep 0"),
    R("-e trace=%pure true"),
    R("-e trace=/^open cat f.txt"),
    R("-e 'trace=!mmap,mprotect,munmap' true"),
    R("-e trace=openat,read cat f.txt"),
    R("-e trace=?nosuchcall,read cat f.txt"),
    R("-e trace=nosuchcall true"),
    R("-e trace=none true"),
    R("-e openat cat f.txt"),
    R("--trace=close cat f.txt"),
    R("-e trace=read@64 cat f.txt"),
    # --- status
    R("-e status=failed cat nonexist"),
    R("-e status=successful cat f.txt"),
    R("-e status=unfinished true"),
    R("-e status=none true"),
    R("-e 'status=!failed' cat nonexist"),
    R("-z cat nonexist"),
    R("-Z cat nonexist"),
    R("--failed-only -e trace=%file cat nonexist"),
    # --- signals
    R("-e signal=none sh -c 'kill -USR1 $$'"),
    R("-e signal=SIGUSR1 -e trace=none sh -c 'trap : USR1; kill -USR1 $$'"),
    R("-e 'signal=!SIGUSR1' -e trace=none sh -c 'trap : USR1 USR2; kill -USR1 $$; kill -USR2 $$'"),
    R("-e signal=all -e trace=none sh -c 'kill -TERM $$'"),
    R("-e trace=none sh -c 'kill -SEGV $$'"),
    # --- quiet
    R("-q true"),
    R("-qq true"),
    R("-qq sh -c 'exit 3'"),
    R("-qqq -f sh -c 'true; true'"),
    R("-e quiet=exit true"),
    R("--quiet=attach,personality,exit true"),
    R("--silence=exit true"),
    R("--silent true"),
    # --- abbrev, verbose, raw, read/write
    R("-v -e trace=execve true"),
    R("-v cat f.txt"),
    R("--no-abbrev -e trace=execve true"),
    R("-e abbrev=none -e trace=execve true"),
    R("-e verbose=none -e trace=execve,fstat,newfstatat cat f.txt"),
    R("-e verbose=execve -e trace=execve,fstat,newfstatat cat f.txt"),
    R("-e raw=all cat f.txt"),
    R("-e raw=openat,read cat f.txt"),
    R("-e read=3 cat f.txt"),
    R("-e write=1 cat f.txt"),
    R("-e trace=write -e write=all echo hi"),
    # --- paths and fds
    R("-P f.txt cat f.txt"),
    R("-P f.txt -e trace=read cat f.txt"),
    R("--trace-path=/nonexistent true"),
    R("-y cat f.txt"),
    R("-y -e trace=read cat f.txt"),
    R("-yy -f sh -c 'echo hi | cat'"),
    R("-e decode-fds=path cat f.txt"),
    R("--decode-fds=all cat f.txt"),
    R(f"-yy -e trace=%network python3 -c \"{PY_PAIR}\""),
    R(f"-yy -e trace=%network python3 -c \"{PY_UDP}\""),
    # --- times
    R("-t true"),
    R("-tt true"),
    R("-ttt true"),
    R("-r true"),
    R("-T true"),
    R("-tt -T -e trace=read cat f.txt"),
    R("-t -r true"),
    R("--absolute-timestamps=unix,us true"),
    R("--absolute-timestamps=format:time,precision:ns true"),
    R("--relative-timestamps=ns true"),
    R("--syscall-times=ms true"),
    # --- strings
    R("-s 5 cat f.txt"),
    R("-s 0 cat f.txt"),
    R("-s 1000 cat f.txt"),
    R("--string-limit=4 cat f.txt"),
    R("-x cat bin.dat"),
    R("-xx cat f.txt"),
    R("--strings-in-hex=non-ascii-chars cat bin.dat"),
    R("--strings-in-hex=all -e trace=write echo hi"),
    R("-X raw cat f.txt"),
    R("-X verbose cat f.txt"),
    R("--const-print-style=abbrev cat f.txt"),
    # --- the rest of the man page
    R("-a 60 cat f.txt"),
    R("--columns=0 true"),
    R("-n true"),
    R("--syscall-number -e trace=read cat f.txt"),
    R("-i true"),
    R("-k -e trace=exit_group true"),
    R("-u nobody id"),
    R("-E FOO=bar sh -c 'echo $FOO'"),
    R("-E HOME sh -c 'echo ${HOME-unset}'"),
    R("--env=A=1 -e trace=none sh -c 'echo $A'"),
    R("-f --seccomp-bpf sh -c 'echo hi | cat'"),
    R("-F -e trace=execve sh -c '/bin/true'"),
    R("--secontext true", known="refused by both: Debian's strace 6.1 is built without SELinux, tracectl prints no SELinux contexts (docs/cli.md)"),
    R("--seccomp-bpf true", known="without -f strace drops the filter, tracectl keeps it (docs/cli.md, Children, filter or not)"),
    R("--seccomp-bpf -f -e trace=%file cat f.txt"),
    R("-f -b execve sh -c '/bin/true'"),
    R("-b open true"),
    R("-D -o out true", settle=0.5),
    R("-DD -o out true", settle=0.5),
    R("--daemonize=session -o out true", settle=0.5),
    R("-I 1 true"),
    R("-I never true"),
    R("--interruptible=4 true"),
    R("-Y -f -e trace=exit_group,wait4 sh -c '/bin/true'"),
    R(f"--decode-pids=comm -e trace=getpid python3 -c \"{PY_GETPID}\""),
    R(f"--pidns-translation -e trace=getpid python3 -c \"{PY_GETPID}\""),
    R("-e inject=openat:error=ENOENT cat f.txt"),
    R("-e fault=read:when=2 cat f.txt"),
    R("-e inject=uname:retval=0 -e trace=uname uname"),
    R(f"-e inject=getpid:signal=USR1 -e trace=getpid python3 -c \"{PY_SIGPID}\""),
    R("-e kvm=vcpu true"),
    R("-f -e trace=execve sh -c 'exec ./nonexistent'"),
    # --- attach
    R("-p PID", attach="sleep 2", known="a sleep attached to resumes as `<... resuming interrupted call ...>`; strace 6.1 names the call `read`, whatever it was (docs/cli.md, attach)"),
    R("-p PID -o out", attach="sleep 2", known="a sleep attached to resumes as `<... resuming interrupted call ...>`; strace 6.1 names the call `read`, whatever it was (docs/cli.md, attach)"),
    R("--attach=PID -e trace=none", attach="sleep 2"),
    R("-f -p PID", attach="sh -c 'sleep 2; /bin/true'"),
    # --- our own text by design
    R("-V", own=True),
    R("--version", own=True),
    R("-h", own=True),
    R("-d true", own=True),
    R("--tips true", own=True),
]

_TIMES = [
    (re.compile(r"^(\S+ )?\d\d:\d\d:\d\d(\.\d+)? ", re.M), r"\1T "),
    (re.compile(r"^(\S+ )?\d{9,}(\.\d+)? ", re.M), r"\1T "),
    (re.compile(r"^(\S+ )?\(\+ *\d+\.\d+\) ", re.M), r"\1(+T) "),
    (re.compile(r"^(\S+ )? +\d+\.\d+ ", re.M), r"\1T "),
    (re.compile(r"<\d+\.\d+>"), "<T>"),
    (re.compile(r"\[[0-9a-f?]{16}\]"), "[IP]"),
    (re.compile(r"\[0x[0-9a-f]+\]"), "[0xADDR]"),
]
_PIDISH = [
    re.compile(r"^\[pid +(\d+)((?:<[^>]*>)?)\] ", re.M),
    re.compile(r"\bProcess (\d+) "),
    re.compile(r"\bPID=(\d+)"),
    re.compile(r"\bpid (\d+)\b"),
    re.compile(r"\b(?:clone3?|v?fork|getpid|gettid|set_tid_address)\(.*\) += (0x[0-9a-f]+|\d+)"),
    re.compile(r"\bsi_pid=(\d+)"),
    re.compile(r"\bProcess (\d+)\b"),
]


def tracectl() -> list[str]:
    return [*compare.tracectl(), "--embedded"]


def _summary(text: str) -> str:
    """The time columns of `-c` tables (and the row order, which sorting by
    time makes random) normalised: calls, errors and names are kept."""
    lines = text.split("\n")
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if not re.search(r"\b(calls|syscall)\b", line) or "(" in line:
            out.append(line)
            i += 1
            continue
        heads = [(m.end(), m.group()) for m in re.finditer(r"\S+", line)]
        keep = {end for end, w in heads if w in ("calls", "errors")}
        out.append(line)
        i += 1
        rows = []
        while i < len(lines) and lines[i].strip() and not re.search(r"\bcalls\b", lines[i]):
            row = lines[i]
            row = re.sub(r"(?<!\S)\d+(\.\d+)?(?=\s|$)", lambda m: m.group() if m.end() in keep else "T", row)
            row = " ".join(row.split())
            rows.append(row)
            i += 1
        body = [r for r in rows if not r.startswith("-")]
        total = [r for r in body if r.rstrip().endswith(" total")]
        body = sorted(r for r in body if r not in total)
        out.extend(["--"] + body + total)
    return "\n".join(out)


_NOTE = re.compile(r"strace: Process \d+ (?:attached|detached)\n")


def _adopt(text: str) -> str:
    """strace prints a call's head before a second task shows, without a
    pid; its `<... resumed>` then has one: give the head that pid."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        m = re.match(r"(\w+)\(.* <unfinished \.\.\.>$", line)
        if not m:
            continue
        for later in lines[i + 1 :]:
            r = re.match(rf"(\d+)(?:<[^>]*>)? <\.\.\. {m.group(1)} resumed>", later)
            if r:
                lines[i] = r.group(1) + " " + line
                break
    return "\n".join(lines)


def normalise(text: str, pids: dict[str, str]) -> str:
    # where a note lands among trace lines on a shared stderr is timing
    # (strace's may even cut a line: `vfork(strace: Process N attached`)
    notes = _NOTE.findall(text)
    if notes:
        text = _NOTE.sub("", text) + "".join(sorted(notes))
    text = _PIDISH[0].sub(lambda m: m.group(1) + m.group(2) + " ", text)
    text = _adopt(text)
    text = re.sub(r"(:\[(?:INODE|\d+)->)\d+\]", r"\1INODE]", text)  # a UNIX peer's inode
    for rx, rep in _TIMES:
        text = rx.sub(rep, text)
    text = "\n".join(compare.normalise(text.split("\n")))
    for p, name in pids.items():
        text = re.sub(rf"\b{p}\b", name, text)
    return _summary(text)


@dataclass
class Result:
    rc: int
    stdout: str
    stderr: str
    files: dict[str, str]
    timeout: bool = False

    def blob(self, raw: bool = True) -> str:
        parts = [f"== exit {self.rc}", "== stdout", self.stdout, "== stderr", self.stderr]
        for name in sorted(self.files):
            parts += [f"== file {name}", self.files[name]]
        return "\n".join(parts)


def _run(prog: list[str], row: Row) -> Result:
    with tempfile.TemporaryDirectory() as d:
        for name, data in FIXTURES.items():
            Path(d, name).write_bytes(data)
        target = None
        line = row.line
        if row.attach:
            target = subprocess.Popen(shlex.split(row.attach), cwd=d, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.3)
            line = line.replace("PID", str(target.pid))
        argv = shlex.split(line)
        if prog[0] != "strace" and not argv[0].startswith("-"):
            argv.insert(0, "run")  # tracectl: a first word not an option is a subcommand
        argv = [*prog, *argv]
        p = subprocess.Popen(argv, cwd=d, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True)
        timeout = False
        try:
            out, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            timeout = True
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
        if target is not None:
            try:
                target.wait(timeout=10)
            except subprocess.TimeoutExpired:
                target.kill()
                target.wait()
        if row.settle:
            time.sleep(row.settle)
        files = {}
        for f in sorted(Path(d).iterdir()):
            data = f.read_bytes()
            if FIXTURES.get(f.name) != data:
                files[f.name] = data.decode(errors="replace")
        rc = p.returncode
        return Result(rc, out.decode(errors="replace"), err.decode(errors="replace"), files, timeout)


def _name_swap(text: str) -> str:
    return re.sub(r"(?m)^tracectl: ", "strace: ", text)


def _normal(res: Result, pid: int | None) -> str:
    """One text for a run, normalised; file names ending in a pid renamed."""
    found: list[str] = []
    files = {}
    for name in sorted(res.files, key=lambda n: int(n.rsplit(".", 1)[1]) if re.search(r"\.\d+$", n) else 0):
        m = re.search(r"\.(\d+)$", name)
        if m:
            found.append(m.group(1))
    pids = {}
    if pid:
        pids[str(pid)] = "TARGET"
    for p in found:
        pids.setdefault(p, f"P{len(pids)}")
    blob = res.blob()
    # named in the order they first show (the same in two runs that print alike)
    for _, p in sorted((m.start(1), m.group(1)) for rx in _PIDISH for m in rx.finditer(blob)):
        pids.setdefault(p, f"P{len(pids)}")
    for name, text in res.files.items():
        m = re.search(r"\.(\d+)$", name)
        key = name[: m.start()] + "." + pids[m.group(1)] if m else name
        files[key] = normalise(text, pids)
    r = Result(res.rc, normalise(res.stdout, pids), normalise(res.stderr, pids), files)
    return r.blob()


def _first_diff(a: str, b: str) -> str:
    al, bl = a.split("\n"), b.split("\n")
    for i in range(max(len(al), len(bl))):
        x = al[i] if i < len(al) else "<none>"
        y = bl[i] if i < len(bl) else "<none>"
        if x != y:
            return f"-{x[:110]} / +{y[:110]}"
    return ""


def classify(row: Row, s: Result, t: Result, again=None) -> tuple[str, str]:
    if t.timeout:
        return "crash", "tracectl did not end in 30 s"
    if "Traceback (most recent call last)" in t.stderr:
        return "crash", t.stderr.strip().splitlines()[-1][:160]
    if row.own:
        return ("equivalent", "own text; exit status equal") if s.rc == t.rc else ("differs", f"exit {s.rc} / {t.rc}")
    terr = t.stderr.strip()
    if t.rc == 1 and re.search(r"not supported|refused", terr) and "\n" not in terr and not s.stderr.startswith("strace: "):
        return "refused", terr
    sraw, traw = s.blob(), t.blob()
    traw = _name_swap(traw)
    if sraw == traw:
        return "identical", ""
    pid = None
    sn, tn = _normal(s, pid), _normal(Result(t.rc, t.stdout, _name_swap(t.stderr), t.files), pid)
    if sn == tn:
        return "equivalent", ""
    note = _first_diff(sn, tn)
    if row.known:
        return "differs (documented)", row.known
    if again is not None:
        # both run twice more: ours like one of strace's runs is equivalent
        # (the first was one scheduling of a race); either unlike itself:
        # timing
        theirs, ours, varies = {sn}, {tn}, False
        for _ in range(2):
            s2, t2 = again()
            theirs.add(_normal(s2, pid))
            ours.add(_normal(Result(t2.rc, t2.stdout, _name_swap(t2.stderr), t2.files), pid))
            if theirs & ours:
                return "equivalent", "like another run (the row has a race)"
        if len(theirs) > 1 or len(ours) > 1:
            return "differs (timing)", note
    return "differs", note


def run_row(row: Row) -> tuple[str, str, Result, Result]:
    s = _run(["strace"], row)
    t = _run(tracectl(), row)
    cls, note = classify(row, s, t, again=lambda: (_run(["strace"], row), _run(tracectl(), row)))
    return cls, note, s, t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="rows whose command line contains this")
    ap.add_argument("--show", action="store_true", help="print both normalised outputs of differing rows")
    ap.add_argument("--write", help="write the markdown table to this file")
    args = ap.parse_args(argv)
    if shutil.which("strace") is None or os.geteuid() != 0:
        print("matrix: needs root and strace", file=sys.stderr)
        return 1
    rows = [r for r in ROWS if not args.only or args.only in r.line]
    results = []
    for i, row in enumerate(rows, 1):
        cls, note, s, t = run_row(row)
        results.append((row, cls, note))
        print(f"{i:3d} {cls:17s} strace {row.line}" + (f"\n      {note}" if note else ""), flush=True)
        if args.show and cls.startswith("differs"):
            print(_normal(s, None), "\n-------- ours\n", _normal(t, None), sep="")
    counts: dict[str, int] = {}
    for _, cls, _ in results:
        counts[cls] = counts.get(cls, 0) + 1
    summary = ", ".join(f"{counts.get(c, 0)} {c}" for c in CLASSES)
    print(f"{len(results)} rows: {summary}")
    if args.write:
        Path(args.write).write_text(_markdown(results, summary))
    return 0


CLASSES = ("identical", "equivalent", "differs (timing)", "differs (documented)", "differs", "refused", "crash")


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("`", "'")


def _markdown(results, summary: str) -> str:
    today = datetime.date.today().isoformat()
    out = [
        "# strace option matrix",
        "",
        f"Generated {today} by `python -m tests.parity.matrix --write docs/strace-matrix.md`",
        "(run by hand, as root: strace 6.1 and `tracectl --embedded` given the same argv,",
        "in a scratch directory holding `f.txt`, `bin.dat`, `app.log`). How rows are",
        "classed: the module's docstring (`tests/parity/matrix.py`).",
        "",
        f"**{len(results)} rows: {summary}.**",
        "",
        "| # | strace command line | class | first difference (normalised: -strace / +tracectl) |",
        "| - | - | - | - |",
    ]
    for i, (row, cls, note) in enumerate(results, 1):
        out.append(f"| {i} | `{_cell(row.line)}` | {cls} | {_cell(note)} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())

"""Issue 12's options and output items, end to end against strace 6.1: the
status= filter, split calls whose output argument comes first, options that
were refused (-o |CMD, -e verbose=, -I, -d, --tips, --silence,
--strings-in-hex=, -O, repeated --absolute-timestamps=), a strace command
line without a subcommand, and --format=jsonl's args, -ff files and
summary."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from test_run import NATIVE, STRACE, TRACECTL, run_group, strace, tracectl

pytestmark = [
    pytest.mark.skipif(NATIVE is not None, reason=f"native loop missing: {NATIVE}"),
    pytest.mark.skipif(STRACE is None, reason="strace missing"),
]

# Two threads making, over and over, calls whose output argument comes
# first (or early): their entries and exits interleave, so strace and
# tracectl both split them into `<unfinished ...>` / `<... resumed>`.
SPLIT_C = r"""
#define _GNU_SOURCE
#include <pthread.h>
#include <unistd.h>
#include <fcntl.h>
#include <time.h>
#include <sched.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <sys/time.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/syscall.h>
#include <sys/socket.h>
static void calls(void) {
    char b[8]; getrandom(b, 8, GRND_NONBLOCK);
    struct utsname u; uname(&u);
    int p[2]; pipe2(p, O_CLOEXEC); close(p[0]); close(p[1]);
    struct timeval tv; syscall(SYS_gettimeofday, &tv, 0);
    struct rlimit rl; getrlimit(RLIMIT_NOFILE, &rl);
    struct rusage ru; getrusage(RUSAGE_SELF, &ru);
    struct sysinfo si; sysinfo(&si);
    struct timespec ts; syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    syscall(SYS_clock_getres, CLOCK_MONOTONIC, &ts);
    cpu_set_t cs; sched_getaffinity(0, sizeof cs, &cs);
    char cwd[256]; syscall(SYS_getcwd, cwd, sizeof cwd);
    int sv[2]; socketpair(AF_UNIX, SOCK_STREAM, 0, sv); close(sv[0]); close(sv[1]);
    uid_t r, e, s; getresuid(&r, &e, &s);
}
static void *other(void *a) { for (int i = 0; i < 150; i++) calls(); return a; }
int main(void) {
    pthread_t t; pthread_create(&t, 0, other, 0);
    for (int i = 0; i < 150; i++) calls();
    pthread_join(t, 0);
    return 0;
}
"""
SPLIT_CALLS = ("getrandom", "uname", "pipe2", "gettimeofday", "prlimit64", "getrusage", "sysinfo", "clock_gettime",
               "clock_getres", "sched_getaffinity", "getcwd", "socketpair", "getresuid")

# A failing open, then the program's own message on stderr.
ORDER_C = r"""
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
int main(void) {
    char p[64], m[64];
    for (int i = 0; i < 20; i++) {
        snprintf(p, sizeof p, "/nonexistent-order/%d", i);
        open(p, O_RDONLY);
        int l = snprintf(m, sizeof m, "MSG %d\n", i);
        write(2, m, l);
    }
    return 0;
}
"""


@pytest.fixture(scope="module")
def progs(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc missing")
    d = tmp_path_factory.mktemp("opts")
    out = {}
    for name, src in (("split", SPLIT_C), ("order", ORDER_C)):
        (d / f"{name}.c").write_text(src)
        subprocess.run(["gcc", "-O1", "-pthread", "-o", str(d / name), str(d / f"{name}.c")], check=True)
        out[name] = str(d / name)
    return out


def _shape(line: str) -> str:
    """A line without its pid prefix, with numbers and string contents
    masked (values differ between runs; the shape must not)."""
    line = re.sub(r"^\d+\s+", "", line)
    line = re.sub(r'"(?:[^"\\]|\\.)*"', '"S"', line)
    line = re.sub(r"0x[0-9a-f]+|\d+", "N", line)
    return re.sub(r"\s+", " ", line)


def _split_shapes(text: str) -> dict:
    """call name -> the shapes of its entry (`name(... <unfinished ...>`)
    and resumed (`<... name resumed>...`) lines."""
    got: dict = {}
    for line in text.splitlines():
        m = re.search(r"<\.\.\. (\w+) resumed>", line) or re.search(r"(\w+)\(.*<unfinished \.\.\.>$", line)
        if m and m.group(1) in SPLIT_CALLS:
            got.setdefault(m.group(1), set()).add(_shape(line))
    return got


def test_split_calls_keep_their_output_argument(progs, tmp_path):
    """Every call of the shape `name(OUT, ...)` split by the other thread's
    lines prints its output at `resumed>`, as strace does."""
    s_out, t_out = tmp_path / "s", tmp_path / "t"
    assert strace("-f", "-o", str(s_out), progs["split"]).returncode == 0
    r = tracectl("-f", "-o", str(t_out), progs["split"])
    assert r.returncode == 0, r.stderr
    want, got = _split_shapes(s_out.read_text()), _split_shapes(t_out.read_text())
    # a call split by neither tracer in this run cannot be compared
    both = sorted(set(want) & set(got))
    assert len(both) >= 8, (sorted(want), sorted(got))
    for name in both:
        extra = got[name] - want[name]
        assert not extra, f"{name}: {sorted(extra)} not among strace's {sorted(want[name])}"


def test_status_unfinished_and_none_as_strace():
    for status in ("unfinished", "none", "successful"):
        s = strace("-e", f"status={status}", "sh", "-c", "exit 3")
        t = tracectl(f"--status={status}", "sh", "-c", "exit 3")
        assert t.returncode == s.returncode == 3
        if status == "successful":
            assert "exit_group" not in t.stderr and t.stderr.count("\n") > 3
        assert (status == "unfinished") == ("exit_group(3)" in t.stderr)
        if status != "successful":
            assert t.stderr == s.stderr


def test_pipe_output_into_a_command(tmp_path):
    out = tmp_path / "piped"
    r = tracectl("-o", f"|cat -n > {out}", "-e", "trace=write", "echo", "hi")
    assert r.returncode == 0 and r.stdout == "hi\n"
    assert re.fullmatch(r'\s+1\twrite\(1, "hi\\n", 3\)\s+= 3\n\s+2\t\+\+\+ exited with 0 \+\+\+\n', out.read_text())
    r = tracectl("-o", f"!wc -l > {out}", "-f", "sh", "-c", "echo a; (echo b)")
    s = strace("-o", "!wc -l", "-f", "sh", "-c", "echo a; (echo b)")
    assert int(out.read_text()) > 10 and s.returncode == 0
    r = tracectl("-ff", "-o", "|cat", "true")
    assert r.returncode == 1 and "piping the output and -ff/--output-separately are mutually exclusive" in r.stderr


def test_verbose_set_prints_structures_as_addresses():
    argv = ["-e", "trace=execve,newfstatat,uname,rt_sigaction,wait4", "sh", "-c", "uname >/dev/null; (true &); wait"]
    for verbose in ("none", "!uname", "all"):
        s = strace("-e", f"verbose={verbose}", *argv)
        t = tracectl("-e", f"verbose={verbose}", *argv)
        norm = lambda text: sorted({re.sub(r"0x[0-9a-f]+|\d{3,}", "N", l) for l in text.splitlines() if not l.startswith(("---", "+++", "tracectl:", "strace:"))})  # noqa: E731
        assert norm(t.stderr) == norm(s.stderr), verbose


def test_strings_in_hex_and_its_conflict_with_x():
    for value in ("none", "non-ascii-chars"):  # non-ascii and all are -x and -xx
        s = strace(f"--strings-in-hex={value}", "-e", "trace=write", "printf", "h\\001i\\n")
        t = tracectl(f"--strings-in-hex={value}", "-e", "trace=write", "printf", "h\\001i\\n")
        assert t.stderr == s.stderr, value
    t = tracectl("-x", "--strings-in-hex=all", "true")
    assert t.returncode == 1 and t.stderr == "tracectl: -x and --strings-in-hex cannot be provided simultaneously\n"


def test_absolute_timestamps_repeated_combine():
    t = tracectl("--absolute-timestamps=unix", "--absolute-timestamps=ns", "-e", "trace=exit_group", "true")
    assert re.match(r"\d{10}\.\d{9} exit_group\(0\)", t.stderr), t.stderr
    t = tracectl("--absolute-timestamps=ns", "--absolute-timestamps=format:unix", "-e", "trace=exit_group", "true")
    assert re.match(r"\d{10}\.\d{9} exit_group\(0\)", t.stderr), t.stderr
    t = tracectl("-ttt", "--absolute-timestamps=ms", "true")
    assert t.returncode == 1 and "-t and --absolute-timestamps cannot be provided simultaneously" in t.stderr


def test_debug_tips_silence():
    t = tracectl("-d", "-e", "trace=exit_group", "true")
    assert t.returncode == 0 and "tracectl: debug: traced calls: 1 (exit_group)" in t.stderr
    t = tracectl("--tips=id:2,format:compact", "-e", "trace=none", "true")
    assert "--format=jsonl" in t.stderr and t.stderr.rstrip().endswith("/")
    s = strace("-f", "--silence=attach,exit", "-e", "trace=none", "-e", "signal=none", "sh", "-c", "(true)")
    t = tracectl("-f", "--silence=attach,exit", "-e", "trace=none", "-e", "signal=none", "sh", "-c", "(true)")
    assert t.stderr == s.stderr == ""


def test_interruptible_never_outlives_sigint():
    import os
    import signal

    for flag, survives in (("-I3", True), ("-I2", False)):
        cmd = [*TRACECTL, "--embedded", "run", flag, "-e", "trace=none", "sh", "-c", "echo ready >&2; sleep 2"]
        p = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            # the command runs: tracectl's dispositions are in place
            assert p.stderr.readline() == "ready\n"
            os.kill(p.pid, signal.SIGINT)
            _, err = p.communicate(timeout=20)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        assert (p.returncode == 0 and "+++ exited with 0 +++" in err) == survives, (flag, p.returncode, err)
    assert "invalid -I argument: 'x'" in tracectl("-I", "x", "true").stderr


def test_overhead_with_units_as_strace_reads_it():
    for value in ("1e-3s", "+7"):  # the other forms: test_jsonl_args.py (parsing)
        assert strace("-c", "-O", value, "true").returncode == 0
        t = tracectl("-c", "-O", value, "true")
        assert t.returncode == 0 and "total" in t.stderr, value
    assert tracectl("-c", "-O", "5xs", "true").stderr.startswith("tracectl: invalid -O argument: '5xs'")


def test_strace_command_line_without_subcommand(tmp_path):
    r = run_group([*TRACECTL, "-V"], text=True)
    assert r.returncode == 0 and r.stdout.startswith("tracectl -- version")
    r = run_group([*TRACECTL, "--embedded", "-e", "trace=exit_group", "true"], text=True)
    assert r.returncode == 0 and r.stderr.startswith("exit_group(0)")
    sleeper = subprocess.Popen(["sleep", "2"])
    try:
        r = run_group([*TRACECTL, "--embedded", "-q", "-e", "trace=none", "-p", str(sleeper.pid)], text=True, timeout=30)
        assert r.returncode == 0 and "+++ exited with 0 +++" in r.stderr  # attached, followed to its end
    finally:
        sleeper.kill()
        sleeper.wait()
    r = run_group([*TRACECTL, "syscalls", "%creds"], text=True)
    assert r.returncode == 0 and "setuid" in r.stdout  # subcommands stay subcommands


def test_jsonl_args_by_name_and_schema(tmp_path):
    t = tracectl("--format=jsonl", "-y", "-e", "trace=openat,read,newfstatat", "cat", "/etc/hostname", stdout=subprocess.DEVNULL)
    objs = [json.loads(l) for l in t.stderr.splitlines()]
    assert all(o["schema"] == 2 for o in objs)
    opens = [o for o in objs if o.get("syscall") == "openat" and o["args"]["pathname"] == "/etc/hostname"]
    assert opens and opens[0]["args"]["flags"] == ["O_RDONLY"] and opens[0]["args"]["dirfd"]["fd"] == -100  # AT_FDCWD</cwd>
    assert len(opens[0]["regs"]) == 6
    reads = [o for o in objs if o.get("syscall") == "read" and o["seq"] > opens[0]["seq"] and not o["is_error"]]
    assert reads and reads[0]["args"]["fd"] == {"fd": opens[0]["ret"], "path": "/etc/hostname"}
    assert isinstance(reads[0]["args"]["buf"], str) and isinstance(reads[0]["args"]["count"], int)
    stats = [o for o in objs if o.get("syscall") == "newfstatat" and isinstance(o["args"].get("statbuf"), dict)]
    assert stats and "st_mode" in stats[0]["args"]["statbuf"]


def test_jsonl_ff_one_file_per_task_and_summary(tmp_path):
    base = tmp_path / "t"
    r = tracectl("-ff", "-o", str(base), "--format=jsonl", "-e", "trace=write", "sh", "-c", "echo a; (echo b)")
    assert r.returncode == 0 and r.stdout == "a\nb\n"
    files = sorted(tmp_path.glob("t.*"))
    assert len(files) == 2
    for f in files:
        objs = [json.loads(l) for l in f.read_text().splitlines()]
        assert {o["tid"] for o in objs} == {int(f.suffix[1:])}
        assert objs[-1]["type"] == "exit"
    r = tracectl("-c", "--format=jsonl", "-e", "trace=close,openat", "cat", "/etc/hostname")
    objs = [json.loads(l) for l in r.stderr.splitlines()]
    assert len(objs) == 1 and objs[0]["type"] == "summary" and objs[0]["schema"] == 2
    calls = {c["syscall"]: c for c in objs[0]["tables"][0]["calls"]}
    assert set(calls) == {"close", "openat"} and calls["openat"]["calls"] >= 3 and calls["openat"]["errors"] >= 0
    assert objs[0]["tables"][0]["total"]["calls"] == sum(c["calls"] for c in calls.values())


def test_shared_stderr_keeps_straces_order(progs):
    """The program's message after a failed open follows the open's line
    (strace's order: the line is printed before the tracee runs on), with
    the write traced or not; a traced write's head comes before the data it
    writes, as strace prints it. The whole stderr is strace's."""
    for argv in (["-e", "trace=openat"], ["-e", "trace=openat,write"]):
        s, t = strace(*argv, progs["order"]), tracectl(*argv, progs["order"])
        assert t.returncode == s.returncode == 0
        assert t.stderr == s.stderr
        if "write" in argv[1]:
            assert 'write(2, "MSG 3\\n", 6MSG 3\n)' in t.stderr
        else:
            assert '"/nonexistent-order/3", O_RDONLY) = -1 ENOENT (No such file or directory)\nMSG 3\n' in t.stderr


def _unsplit(text: str) -> str:
    """A -o FILE trace with each split call joined into one line where its
    entry stood (whether a call is cut by another task's line is timing)."""
    out, open_at = [], {}
    for line in text.splitlines():
        pid = line.split(" ", 1)[0]
        if line.endswith(" <unfinished ...>"):
            open_at[pid] = len(out)
            out.append(line[: -len(" <unfinished ...>")])
            continue
        m = re.match(r"^\S+ +<\.\.\. \S+ resumed>(.*)$", line)
        if m and pid in open_at:
            i = open_at.pop(pid)
            out[i] += m.group(1)
            continue
        out.append(line)
    return re.sub(r"\) += ", ") = ", "\n".join(out))  # the padding before ` = ` differs once joined


def test_decode_pids_comm_as_strace(tmp_path):
    """-Y: pid prefixes, pid arguments and returns as N<comm>, into a file
    too (the tracee is held while the name is read, as strace reads it)."""
    argv = ["-Y", "-f", "-e", "trace=getpid,kill,clone,exit_group", "-e", "signal=none", "-qq"]
    cmd = ["sh", "-c", "kill -0 $$; (cat /dev/null)"]
    norm = lambda text: [re.sub(r"\d+<", "N<", re.sub(r"^\d+", "N", re.sub(r"0x[0-9a-f]+", "A", l))) for l in text.splitlines()]  # noqa: E731
    s_out, t_out = tmp_path / "s", tmp_path / "t"
    assert strace("-o", str(s_out), *argv, *cmd).returncode == 0
    assert tracectl("-o", str(t_out), *argv, *cmd).returncode == 0
    # clone's return: the child may have run on to its exec before the
    # parent's line is printed (the worker resumes a new child at once;
    # strace holds it until it handles it): sh or cat, or no name at all
    # when it had ended by then
    want = norm(_unsplit(s_out.read_text()))
    got = [re.sub(r"\) = (N<cat>|\d+)$", ") = N<sh>", l) if "clone(" in l else l for l in norm(_unsplit(t_out.read_text()))]
    assert got == want
    assert any("N<cat> exit_group(0)" in l for l in got) and any(l.startswith("N<sh> kill(N<sh>, 0)") for l in got)


def test_detach_on_execve_as_strace():
    argv = ["-f", "-b", "execve", "-e", "trace=execve,write,exit_group", "-e", "signal=none", "sh", "-c", "/bin/echo hi; echo bye"]
    s, t = strace(*argv), tracectl(*argv)
    assert t.returncode == s.returncode == 0 and t.stdout == s.stdout == "hi\nbye\n"
    norm = lambda text: [re.sub(r"\[pid +N\]", "[pid N]", re.sub(r"0x[0-9a-f]+|\d{2,}", "N", l)) for l in text.splitlines() if "Process" not in l]  # noqa: E731
    want = [l.replace("*/strace: ", "*/") for l in norm(s.stderr)]  # strace's note lands inside its line
    got = norm(t.stderr)
    assert [l for l in got if "detached" in l] == ['[pid N] execve("/bin/echo", ["/bin/echo", "hi"], N /* N vars */ <detached ...>']
    assert got[-3:] == want[-3:] and got[0] == want[0]
    assert "tracectl: Process" in t.stderr and "detached" in t.stderr
    assert tracectl("-b", "open", "true").stderr == "tracectl: Syscall 'open' for -b isn't supported\n"


def test_instruction_pointer_as_strace(tmp_path):
    """-i on a static, non-PIE program: its syscall instructions sit at
    fixed addresses, so strace's and tracectl's ips must be equal."""
    src, prog = tmp_path / "ip.c", tmp_path / "ip"
    src.write_text("#include <unistd.h>\n#include <sys/syscall.h>\nint main(void) { syscall(SYS_getppid); syscall(SYS_getpid); return 0; }\n")
    if subprocess.run(["gcc", "-O1", "-static", "-no-pie", "-o", str(prog), str(src)], capture_output=True).returncode != 0:
        pytest.skip("no static libc")
    argv = ["-i", "-e", "trace=getppid,getpid,exit_group", str(prog)]
    s, t = strace(*argv), tracectl(*argv)
    mask = lambda text: [re.sub(r"= \d+$", "= N", l) for l in text.splitlines()]  # noqa: E731
    assert mask(t.stderr) == mask(s.stderr) and t.stderr.startswith("[0000000000")
    assert t.stderr.rstrip().endswith("[????????????????] +++ exited with 0 +++")


def test_daemonize_the_command_is_the_callers_child():
    """-D/-DD/-DDD: the process the caller started becomes the command (its
    pid is the one the caller waits for, its parent the caller), traced by a
    detached grandchild; the exit status is the command's own."""
    import os

    for flag in ("-D", "-DDD"):
        p = subprocess.Popen([*TRACECTL, "--embedded", "run", flag, "-e", "trace=getpid,getppid", "sh", "-c", "echo $$ $PPID; exit 3"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = p.communicate(timeout=30)
        assert p.returncode == 3 and out.split() == [str(p.pid), str(os.getpid())], (out, err)
        assert err.splitlines() == [f"tracectl: Process {p.pid} attached", f"getpid(){' ' * 32}= {p.pid}", f"getppid(){' ' * 31}= {os.getpid()}", "+++ exited with 3 +++"], err
    assert "Too many -D's (4)" in tracectl("-DDDD", "true").stderr
    assert "invalid --daemonize argument: 'x'" in tracectl("--daemonize=x", "true").stderr

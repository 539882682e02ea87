"""How `tracectl run` behaves as a process among processes: children it did
not fork (CLONE_PARENT, orphans when it is PID 1), programs that ptrace
their own children, a failed exec, the fds a pipeline waits on, threads
that exec. Real tracees, compared with strace 6.1 where strace defines the
behaviour; every wait is bounded."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time

import pytest

from test_run import NATIVE, STRACE, TRACECTL, run_group, strace, tracectl

pytestmark = pytest.mark.skipif(NATIVE is not None, reason=f"native loop or bpf compiler missing: {NATIVE}")
needs_strace = pytest.mark.skipif(STRACE is None, reason="strace is not installed")
needs_root_unshare = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare")


@pytest.fixture(scope="module")
def progs(tmp_path_factory):
    """The small C tracees, compiled once."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc missing")
    d = tmp_path_factory.mktemp("progs")
    srcs = {
        # strace's clone_parent test's shape: the CLONE_PARENT child is our
        # sibling, so wait() fails, and the program spins until the tracer
        # (the real parent) has reaped it
        "clone_parent": r"""
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
static char stack[65536];
static int child(void *a) { (void)a; return 42; }
int main(void) {
	pid_t p = clone(child, stack + sizeof stack, CLONE_PARENT | SIGCHLD, 0);
	if (p < 0) return 1;
	int st;
	if (wait(&st) >= 0) return 2;
	while (!kill(p, 0)) ;
	return errno == ESRCH ? 0 : 3;
}""",
        # a debugger's start: the child asks to be traced by its parent
        "traceme": r"""
#include <signal.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
	pid_t p = fork();
	if (p == 0) {
		if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0) { perror("PTRACE_TRACEME"); _exit(3); }
		raise(SIGSTOP);
		_exit(7);
	}
	int st;
	if (waitpid(p, &st, 0) != p || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP) return 4;
	ptrace(PTRACE_CONT, p, 0, 0);
	if (waitpid(p, &st, 0) != p || !WIFEXITED(st)) return 5;
	return WEXITSTATUS(st) == 7 ? 0 : WEXITSTATUS(st);
}""",
        # a thread that is not the leader execs: it takes the leader's pid
        "thread_exec": r"""
#include <pthread.h>
#include <unistd.h>
static char *argv0[] = { "/bin/true", 0 };
static void *run(void *a) { (void)a; execve(argv0[0], argv0, 0); return 0; }
int main(void) {
	pthread_t t;
	pthread_create(&t, 0, run, 0);
	for (;;) pause();
}""",
    }
    out = {}
    for name, src in srcs.items():
        c = d / f"{name}.c"
        c.write_text(src)
        subprocess.run(["gcc", "-O0", "-pthread", "-o", str(d / name), str(c)], check=True)
        out[name] = str(d / name)
    return out


def _mask(text: str) -> list[str]:
    """What differs between two runs anyway: pids, addresses, the
    environment's size; strace's name for itself."""
    text = text.replace("strace: ", "tracectl: ")
    text = re.sub(r"0x[0-9a-f]+ /\* \d+ vars \*/", "ENV", text)
    text = re.sub(r"0x[0-9a-f]{6,}", "ADDR", text)
    text = re.sub(r"\[pid +\d+\]", "[pid N]", text)
    return re.sub(r"\b\d{3,}\b", "N", text).splitlines()


# -- children tracectl did not fork ------------------------------------------------
@pytest.mark.parametrize("follow", [[], ["-f"]], ids=["plain", "-f"])
def test_clone_parent_child_is_reaped(progs, follow):
    """The CLONE_PARENT child is tracectl's own child: left unreaped, the
    program waits for it forever (it hung before)."""
    args = [*follow, "-e", "trace=none", progs["clone_parent"]]
    ours = tracectl(*args, timeout=30)
    assert ours.returncode == 0, ours.stderr
    if STRACE:
        theirs = strace(*args, timeout=30)
        assert theirs.returncode == 0
        assert sorted(_mask(ours.stderr)) == sorted(_mask(theirs.stderr))


@needs_root_unshare
@pytest.mark.parametrize("follow", [[], ["-f"]], ids=["plain", "-f"])
@pytest.mark.parametrize("mount_proc", [False, True], ids=["host-proc", "mount-proc"])
def test_pid1_reaps_orphans(tmp_path, follow, mount_proc):
    """tracectl as PID 1 of a pid namespace adopts the command's orphans:
    it reaps them, or a program waiting for one to vanish hangs (it did)."""
    pidf = tmp_path / "pid"
    script = f"""sh -c 'sleep 0.2 & echo $! > {pidf}'
p=$(cat {pidf})
while kill -0 $p 2>/dev/null; do sleep 0.05; done
echo gone"""
    pre = ["unshare", "-pf", "--mount-proc"] if mount_proc else ["unshare", "-Urpf"]
    r = run_group([*pre, *TRACECTL, "--embedded", "run", *follow, "-e", "trace=none", "sh", "-c", script], timeout=30, text=True)
    assert (r.returncode, r.stdout) == (0, "gone\n"), r.stderr
    if not follow:  # an untraced child, reaped: strace's words
        assert re.search(r"^tracectl: Exit of unknown pid \d+ ignored$", r.stderr, re.M), r.stderr


# -- programs that ptrace their own children ------------------------------------------
def test_ptrace_using_programs_work_without_f(progs):
    """Without -f the command has no filter and its children are not
    traced: they may be ptraced by it, as under strace."""
    r = tracectl("-e", "trace=none", progs["traceme"])
    assert (r.returncode, r.stderr.splitlines()[-1]) == (0, "+++ exited with 0 +++"), r.stderr
    if STRACE:
        r = tracectl("-e", "trace=none", "-e", "signal=none", STRACE, "-o", "/dev/null", "true")
        assert (r.returncode, r.stderr) == (0, "+++ exited with 0 +++\n")
        r = tracectl("-o", "/dev/null", STRACE, "-f", "-o", "/dev/null", "true")
        assert (r.returncode, r.stderr) == (0, "")
        r = tracectl(STRACE, "-o", "/dev/null", "true")  # the words, every call shown
        assert r.returncode == 0 and r.stderr.splitlines()[-1] == "+++ exited with 0 +++"
        assert re.search(r"^ptrace\(PTRACE_SEIZE, \d+, NULL, ", r.stderr, re.M), r.stderr


def test_with_f_children_are_followed(progs):
    """-f: the filter is inherited, so the child is traced by us and its
    PTRACE_TRACEME fails, exactly as under strace -f."""
    r = tracectl("-f", "-e", "trace=ptrace", progs["traceme"])
    assert r.returncode != 0
    assert re.search(r"^\[pid +\d+\] ptrace\(PTRACE_TRACEME.* = -1 EPERM", r.stderr, re.M), r.stderr
    if STRACE:
        theirs = strace("-f", "-e", "trace=ptrace", progs["traceme"])
        assert theirs.returncode == r.returncode


def test_without_f_every_call_of_the_command_is_seen():
    """The plain stops trace what the filter did: the same lines as strace."""
    args = ["-e", "trace=openat,read,close", "cat", "/etc/hostname"]
    ours = tracectl(*args)
    assert ours.returncode == 0
    if STRACE:
        assert _mask(ours.stderr) == _mask(strace(*args).stderr)


# -- a failed exec ---------------------------------------------------------------------
@needs_strace
def test_failed_exec_line_then_message_then_exit(tmp_path):
    f = tmp_path / "notexec"
    f.write_text("#!/bin/sh\n")
    f.chmod(0o644)
    for args in (["-e", "trace=execve"], [], ["-f"]):
        ours, theirs = tracectl(*args, str(f)), strace(*args, str(f))
        assert ours.returncode == theirs.returncode == 1
        assert _mask(ours.stderr) == _mask(theirs.stderr)
        first, second = _mask(ours.stderr)[:2]
        assert first.startswith(_mask(f'execve("{f}", [')[0]) and first.endswith(" = -1 EACCES (Permission denied)")
        assert second == "tracectl: exec: Permission denied"


# -- the fds a pipeline waits on -------------------------------------------------------------
@pytest.mark.parametrize("follow", [[], ["-f"]], ids=["plain", "-f"])
def test_pipeline_sees_eof_when_the_command_closes_stdout(tmp_path, follow):
    """The command closes its stdout and waits: the reader of tracectl's
    stdout sees EOF now, not when tracectl ends (strace gives its fds 0 and
    1 away once the command runs)."""
    go = tmp_path / "go"
    cmd = [*TRACECTL, "--embedded", "run", *follow, "-o", "/dev/null", "sh", "-c", f"exec >&-; while [ ! -e {go} ]; do sleep 0.02; done"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True) as p:
        try:
            import select

            ready, _, _ = select.select([p.stdout], [], [], 20)
            eof_first = bool(ready) and p.stdout.read() == b"" and p.poll() is None
        finally:
            go.touch()
            try:
                p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                p.communicate()
                raise
    assert eof_first, "tracectl kept the pipe open while the command ran"
    assert p.returncode == 0


def test_writer_sees_epipe_when_the_command_closes_stdin(tmp_path):
    go = tmp_path / "go"
    cmd = [*TRACECTL, "--embedded", "run", "-o", "/dev/null", "sh", "-c", f"exec <&-; while [ ! -e {go} ]; do sleep 0.02; done"]
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True) as p:
        fd = p.stdin.fileno()
        os.set_blocking(fd, False)  # a full pipe must not block the test
        broken = False
        try:
            for _ in range(2000):  # bounded: ~20 s at most
                try:
                    os.write(fd, b"x" * 4096)
                except BlockingIOError:
                    time.sleep(0.01)
                except BrokenPipeError:
                    broken = True
                    break
        finally:
            go.touch()
            try:
                p.stdin.close()
            except BrokenPipeError:
                pass
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                raise
    assert broken, "tracectl kept its stdin open while the command ran"


# -- a thread that is not the leader execs --------------------------------------------------
@needs_strace
def test_thread_execve_matches_strace(progs, tmp_path):
    """The thread's execve line ends `<pid changed to LEADER ...>`, the
    leader's id says `+++ superseded by execve in pid THREAD +++`, and the
    call resumes under the leader's id: on stderr, in -o FILE, in -ff files."""
    args = ["-f", "-e", "trace=execve,exit_group", progs["thread_exec"]]
    ours, theirs = tracectl(*args), strace(*args)
    assert ours.returncode == theirs.returncode == 0
    assert _mask(ours.stderr) == _mask(theirs.stderr)
    m = re.search(r"^\[pid +(\d+)\] execve\(\"/bin/true\".* <pid changed to (\d+) \.\.\.>\n\+\+\+ superseded by execve in pid (\d+) \+\+\+\n<\.\.\. execve resumed>\) += 0$", ours.stderr, re.M)
    assert m and m[1] == m[3] != m[2], ours.stderr
    for extra in (["-o"], ["-ff", "-o"]):
        files = {}
        for who, run in (("ours", tracectl), ("theirs", strace)):
            d = tmp_path / who / "-".join(extra)
            d.mkdir(parents=True)
            r = run(*extra, str(d / "t"), *args)
            assert r.returncode == 0, r.stderr
            # -ff: one file per pid, told apart by what they hold
            files[who] = sorted("\n".join(_mask(p.read_text())) for p in d.iterdir())
        assert files["ours"] == files["theirs"]


# -- personalities ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def prog32(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc missing")
    d = tmp_path_factory.mktemp("m32")
    (d / "m32.c").write_text("#include <unistd.h>\nint main(void) { getpid(); return 0; }\n")
    r = subprocess.run(["gcc", "-m32", "-o", str(d / "m32"), str(d / "m32.c")], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"gcc -m32 cannot build (gcc-multilib, installed by scripts/setup): {r.stderr.strip()[:200]}")
    return str(d / "m32")


@needs_strace
@pytest.mark.parametrize("opts", [
    ["-e", "trace=execve,getpid"],
    ["-e", "trace=getpid"],
    ["-q", "-e", "trace=execve,getpid"],
    ["-f", "-e", "trace=execve,getpid"],
], ids=lambda o: " ".join(o))
def test_32_bit_mode_note_matches_strace(prog32, opts):
    """`[ Process PID=N runs in 32 bit mode. ]` after the execve that
    changed the personality (before the next line when the execve is not
    shown), with the task's pid prefix; -q hides it."""
    for argv in ([prog32], ["sh", "-c", f"{prog32}; true"]):
        args = [*opts, "-e", "signal=none", *argv]
        ours, theirs = tracectl(*args), strace(*args)
        assert ours.returncode == theirs.returncode == 0
        assert _mask(ours.stderr) == _mask(theirs.stderr)
        seen = argv == [prog32] or "-f" in opts  # without -f, sh's child is not traced
        assert ("runs in 32 bit mode" in ours.stderr) == (seen and "-q" not in opts)


# -- detaching ------------------------------------------------------------------------------------
def _attach_and_interrupt(cmd, tmp_path, name):
    """Attach `cmd` (a tracer command line whose last word takes the PID) to a
    `cat` blocked in read(0), wait until the read's line is open, then
    SIGINT the tracer. Returns its stderr and (with -o) the file."""
    import signal as _signal

    cat = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    err = tmp_path / f"{name}.err"
    out = tmp_path / f"{name}.out"
    try:
        with open(err, "w") as ef:
            tr = subprocess.Popen([*cmd[:-1], "-o", str(out), cmd[-1], str(cat.pid)], stderr=ef, start_new_session=True)
        try:
            for _ in range(400):  # bounded: 20 s
                if out.exists() and "read(0, " in out.read_text():
                    break
                time.sleep(0.05)
            else:
                pytest.fail(f"{name}: the blocked read never showed: {err.read_text()}")
            tr.send_signal(_signal.SIGINT)
            tr.wait(timeout=30)
        finally:
            if tr.poll() is None:
                os.killpg(tr.pid, 9)
                tr.wait()
    finally:
        cat.kill()
        cat.wait()
    return err.read_text(), out.read_text()


@needs_strace
def test_detach_ends_the_open_call_like_strace(tmp_path):
    """Ctrl-C on an attached tracer: the call under way ends ` <detached ...>`."""
    ours = _attach_and_interrupt([*TRACECTL, "--embedded", "attach", "-e", "trace=read", "--"], tmp_path, "ours")
    theirs = _attach_and_interrupt(["strace", "-e", "trace=read", "-p"], tmp_path, "theirs")
    assert ours[1] == theirs[1] == "read(0,  <detached ...>\n"
    assert _mask(ours[0]) == _mask(theirs[0])


# -- --pidns-translation ------------------------------------------------------------------------
_PIDNS = re.compile(r" /\* \d+ in strace's PID NS \*/")


@needs_strace
@needs_root_unshare
def test_pidns_translation_three_deep_matches_strace():
    """Every pid a tracee in another pid namespace prints gets strace's
    comment: fork-family returns, wait4's and kill's pid arguments, getpid,
    si_pid. strace asks /proc at the stop, so a process already reaped
    (wait4's result, a late SIGCHLD) goes untranslated there; we translate
    what the stream told us, so ours may have more comments, never fewer."""
    args = ["-f", "--pidns-translation", "-e", "trace=clone,clone3,vfork,fork,getpid,getppid,gettid,kill,wait4,exit_group",
            "-e", "signal=SIGCHLD", "unshare", "-pf", "unshare", "-pf", "unshare", "-pf", "sh", "-c", "kill -0 $$; /bin/true & wait"]
    ours, theirs = tracectl(*args), strace(*args)
    assert ours.returncode == theirs.returncode == 0, ours.stderr
    # the three inits' clones into the next namespace, the inner waits on them, getpid, kill
    # (a call another task's line cut ends on its `<... NAME resumed>` line)
    clones = re.findall(r"clone(?:\(| resumed>).*\) = 2 /\* (\d+) in strace's PID NS \*/", ours.stderr)
    assert len(clones) == 3, ours.stderr
    assert len(re.findall(r"wait4\(2 /\* \d+ in strace's PID NS \*/, ", ours.stderr)) == 2
    assert re.search(r"getpid(?:\(| resumed>)\) += 1 /\* (\d+) in strace's PID NS \*/", ours.stderr)
    assert re.search(r"kill\(1 /\* \d+ in strace's PID NS \*/, 0", ours.stderr)
    assert re.search(r"si_pid=2 /\* \d+ in strace's PID NS \*/", ours.stderr)
    # the comment names the pid the fork event announced
    for ns_child in clones:
        assert f"Process {ns_child} attached" in ours.stderr

    # every translation strace makes, we make too (as (where, value) pairs:
    # strace's lines are cut by its attach notes, so whole lines differ)
    from collections import Counter

    def made(text):
        return Counter(re.findall(r"(= |\(|si_pid=)(\d+) /\* \d+ in strace's PID NS \*/", text))

    assert not made(theirs.stderr) - made(ours.stderr), (ours.stderr, theirs.stderr)
    assert sum(made(theirs.stderr).values()) >= 7  # strace translates these as well


@needs_strace
def test_thread_execve_without_f_ends_like_strace(progs):
    """Without -f the thread is not traced: the old leader goes away inside
    its call, and the run still ends with strace's exit line."""
    args = ["-e", "trace=execve,exit_group", progs["thread_exec"]]
    ours, theirs = tracectl(*args), strace(*args)
    assert ours.returncode == theirs.returncode == 0
    assert ours.stderr.splitlines()[-1] == theirs.stderr.splitlines()[-1] == "+++ exited with 0 +++"
    assert _mask(ours.stderr) == _mask(theirs.stderr)

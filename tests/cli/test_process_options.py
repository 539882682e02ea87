"""Process options as strace 6.1 handles them (issue 13's strace-feature
tests): -Y after -p, -p with a command, -b execve, signals blocked or ignored
at start, fds 0/1/2 closed at start, -D."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import time

import pytest

try:
    from tracerd.native import _tracer  # noqa: F401

    NATIVE = None
except ImportError as exc:  # pragma: no cover - depends on the build
    NATIVE = str(exc)

pytestmark = pytest.mark.skipif(NATIVE is not None, reason=f"native loop missing: {NATIVE}")

TRACECTL = [sys.executable, "-c", "import sys; from tracerd.client import main; sys.exit(main())"]


def _wait_for(path: pathlib.Path, text: str, proc, timeout=30) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        data = path.read_text() if path.exists() else ""
        if text in data or proc.poll() is not None:
            return data
        time.sleep(0.05)
    return path.read_text()


def test_attach_comm_on_exited_line(tmp_path):
    """-Y with -p: the `+++ exited` line names the task, though it comes
    after the task is reaped (the name is read when it is attached)."""
    procs = [subprocess.Popen(["sh", "-c", "read x"], stdin=subprocess.PIPE) for _ in range(2)]
    log, err = tmp_path / "log", tmp_path / "err"
    try:
        with open(err, "w") as fp:
            t = subprocess.Popen([*TRACECTL, "--embedded", "attach", "-e", "trace=none", "-Y", "-o", str(log),
                                  "-p", str(procs[0].pid), "-p", str(procs[1].pid)], stderr=fp)
            seen = _wait_for(err, f"Process {procs[1].pid} attached", t)
            seen = _wait_for(err, f"Process {procs[0].pid} attached", t)
            assert "attached" in seen
            for p in procs:
                p.stdin.close()
                p.wait()
            assert t.wait(timeout=30) == 0
        lines = sorted(log.read_text().splitlines())
        assert lines == sorted(f"{p.pid}<sh> +++ exited with {p.returncode} +++" for p in procs)
    finally:
        for p in procs:
            p.kill()
            p.wait()


def _tracectl(*args, **kw):
    return subprocess.run([*TRACECTL, "--embedded", "run", *args], capture_output=True, text=True, timeout=60, **kw)


def test_detach_on_exec_event_as_strace(tmp_path):
    """-b execve lets a process go at its exec event, as strace: execve
    calls that fail before it show as any call, the one that succeeds ends
    ` <detached ...>`; with execve not traced only the note says it; and
    the run ends 0 (strace does not wait for a process it let go)."""
    import re

    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "false").mkdir()  # found first on PATH, but not executable: EACCES
    prog = f"PATH={bindir}:/usr/bin:/bin exec false"
    argv = ["-e", "quiet=attach,personality", "-b", "execve", "-e", "trace=execve"]
    t = _tracectl(*argv, "sh", "-c", prog)
    norm = lambda text: [re.sub(r"0x[0-9a-f]+ /\* \d+ vars", "ENV", l) for l in text.splitlines()]  # noqa: E731
    lines = norm(t.stderr)
    assert t.returncode == 0, t.stderr
    assert f'execve("{bindir}/false", ["false"], ENV */) = -1 EACCES (Permission denied)' in lines
    assert lines[-1] == 'execve("/usr/bin/false", ["false"], ENV */ <detached ...>', lines
    if shutil_strace():
        s = subprocess.run(["strace", *argv, "sh", "-c", prog], capture_output=True, text=True, timeout=60)
        assert s.returncode == 0
        assert [l for l in norm(s.stderr) if "execve(" in l][1:] == [l for l in lines if "execve(" in l][1:]
    t = _tracectl("-e", "trace=none", "-b", "execve", "sh", "-c", "exec false")
    assert t.returncode == 0 and re.fullmatch(r"tracectl: Process \d+ detached\n", t.stderr), t.stderr


def shutil_strace() -> bool:
    import shutil

    return shutil.which("strace") is not None


SIG_PROBE = r"""
import signal, sys
blocked = signal.pthread_sigmask(signal.SIG_BLOCK, ())
print(int(signal.SIGUSR1 in blocked), int(signal.SIGHUP in blocked),
      int(signal.getsignal(signal.SIGHUP) == signal.SIG_IGN), int(signal.getsignal(signal.SIGTSTP) == signal.SIG_IGN))
"""


def _probe(*opts, block=(), ignore=()):
    """The command's mask and dispositions under tracectl started with
    `block` blocked and `ignore` ignored."""
    import signal

    def pre():
        for s in ignore:
            signal.signal(s, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_SETMASK, block)

    r = subprocess.run([*TRACECTL, "--embedded", "run", *opts, "-e", "trace=none", sys.executable, "-c", SIG_PROBE],
                       capture_output=True, text=True, timeout=60, preexec_fn=pre)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


@pytest.mark.parametrize("intr", ["-I1", "--interruptible=always", "-I2", "-Inever", "-I4"])
def test_signal_state_at_start_kept(intr):
    """As strace: signals blocked when the tracer starts stay blocked for
    the command, and ignored ones ignored; the ones tracectl itself
    ignores under -I3/-I4 are not passed on."""
    import signal

    assert _probe(intr) == ["0", "0", "0", "0"]
    assert _probe(intr, block=(signal.SIGUSR1, signal.SIGHUP)) == ["1", "1", "0", "0"]
    assert _probe(intr, ignore=(signal.SIGHUP, signal.SIGTSTP)) == ["0", "0", "1", "1"]


@pytest.mark.parametrize("closed", [(0,), (1,), (2,), (0, 1, 2)])
def test_closed_standard_fds_stay_closed(tmp_path, closed):
    """fds 0/1/2 closed when tracectl starts are closed for the command too
    (no file or pipe of tracectl's takes their place), as under strace."""
    import os

    probe = "import os,sys\nfor fd in (0,1,2):\n    try:\n        os.fstat(fd); r='open'\n    except OSError:\n        r='closed'\n    open(sys.argv[1],'a').write(f'{fd} {r}\\n')\n"
    res = tmp_path / "res"
    log = tmp_path / "log"

    def pre():
        for fd in closed:
            os.close(fd)

    r = subprocess.run([*TRACECTL, "--embedded", "run", "-o", str(log), "-e", "trace=chdir", sys.executable, "-c", probe, str(res)],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=pre, timeout=60)
    assert r.returncode == 0
    assert res.read_text().splitlines() == [f"{fd} {'closed' if fd in closed else 'open'}" for fd in (0, 1, 2)]
    assert log.read_text().endswith("+++ exited with 0 +++\n")


@pytest.mark.parametrize("status", [[], ["-e", "status=detached"]])
def test_signal_to_run_passes_on_and_detaches(tmp_path, status):
    """tracectl run ended by SIGTERM does what strace's cleanup does: the
    command gets SIGTERM too, its call under way ends ` <detached ...>`
    (shown by -e status=detached), and no `+++` line follows."""
    import signal

    log = tmp_path / "log"
    err = tmp_path / "err"
    with open(err, "w") as fp:
        t = subprocess.Popen([*TRACECTL, "--embedded", "run", "-o", str(log), "-e", "trace=pause", *status,
                              sys.executable, "-c", "import signal; signal.pause()"], stderr=fp, stdin=subprocess.DEVNULL)
        end = time.monotonic() + 30
        # wait until the command sits in pause() (syscall 34)
        while time.monotonic() < end:
            kids = pathlib.Path(f"/proc/{t.pid}/task/{t.pid}/children").read_text().split()
            if any(pathlib.Path(f"/proc/{k}/syscall").read_text().split()[0] == "34" for k in kids if pathlib.Path(f"/proc/{k}").exists()):
                break
            time.sleep(0.05)
        t.send_signal(signal.SIGTERM)
        assert t.wait(timeout=30) == -signal.SIGTERM
    assert log.read_text().splitlines()[-1] == "pause( <detached ...>"  # strace: `pause(`, then the detach


_REAPER_RUN = r"""
import ctypes, os, subprocess, sys
# orphans of our descendants come to us: the tracer of -D must be one
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
probe = ("import os; tp = [l.split()[1] for l in open('/proc/self/status') if l.startswith('TracerPid:')][0]; "
         "f = open('/proc/%s/stat' % tp).read().rsplit(')', 1)[1].split(); print(tp, f[1], f[2], f[3])")
p = subprocess.run([*sys.argv[1:], sys.executable, "-c", probe], stdout=subprocess.PIPE, text=True)
print(os.getpid(), os.getpgid(0), os.getsid(0), p.returncode, p.stdout.strip())
while True:  # reap the adopted tracer
    try:
        os.wait()
    except ChildProcessError:
        break
"""


@pytest.mark.parametrize("flag", ["-D", "-DD", "-DDD"])
def test_daemonized_tracer_is_an_orphan(flag):
    """-D: the tracer is adopted by the reaper (its parent exited), as
    strace -D's is; -D keeps the caller's process group and session, -DD
    has a process group of its own, -DDD a session of its own."""
    r = subprocess.run([sys.executable, "-c", _REAPER_RUN, *TRACECTL, "--embedded", "run", flag, "-e", "trace=none", "-e", "quiet=all"],
                       capture_output=True, text=True, timeout=60)
    me, pgid, sid, rc, tracer, ppid, tpgid, tsid = r.stdout.split()
    assert rc == "0" and int(tracer) > 0, r
    assert ppid == me  # adopted by the subreaper, not a child of tracectl
    if flag == "-D":
        assert (tpgid, tsid) == (pgid, sid)
    elif flag == "-DD":
        assert tpgid not in (pgid, tsid) and tsid == sid
    else:
        assert tsid == tpgid and tsid != sid


def _tracer_of(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            return int(next(l.split()[1] for l in f if l.startswith("TracerPid:")))
    except (OSError, StopIteration):
        return 0


@pytest.mark.parametrize("flag", ["-D", "-DD"])
def test_daemonized_command_gets_its_groups_signal(tmp_path, flag):
    """-D: a SIGTERM for the command's process group ends the command by
    that signal, never by a kill of ours. With -D -I1 tracectl is in that
    group and dies at once, its output as it stood (the open line); with
    -DD it is not, and shows the command killed by SIGTERM."""
    import os
    import signal

    log = tmp_path / "log"
    p = subprocess.Popen([*TRACECTL, "--embedded", "run", "-o", str(log), "-I1", "-e", "trace=clock_nanosleep", flag, "--", "sleep", "60"],
                         process_group=0, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 30
        while time.monotonic() < end and not (_tracer_of(p.pid) and "clock_nanosleep(" in (log.read_text() if log.exists() else "")):
            time.sleep(0.05)
        tracer = _tracer_of(p.pid)
        assert tracer
        os.killpg(p.pid, signal.SIGTERM)
        assert p.wait(timeout=30) == -signal.SIGTERM
        while os.path.exists(f"/proc/{tracer}") and "zombie" not in open(f"/proc/{tracer}/status").read():
            time.sleep(0.05)  # the tracer ends once the command has
        text = log.read_text()
        if flag == "-D":
            assert text.startswith("clock_nanosleep(") and text.endswith("{tv_sec=60, tv_nsec=0}, ") and "\n" not in text, text
        else:
            assert text.splitlines()[-1] == "+++ killed by SIGTERM +++", text
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()

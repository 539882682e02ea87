"""The forked worker (tracerd.native.fork_worker): forked before its config
is known, started later over a socketpair (SCM_RIGHTS), and holding what a
spawned worker holds: the fds it is given, default signal handlers."""

import os
import signal
import subprocess
import sys
import time

import pytest
from native_helpers import by_type, calls, needs_root, run_traced

from _plans import nr_of
from tracerd import _wire
from tracerd._wire import Rec
from tracerd.native import fork_worker

TRACECTL = [sys.executable, "-c", "import sys; from tracerd.client import main; sys.exit(main())"]


def _fds(pid):
    return {int(n) for n in os.listdir(f"/proc/{pid}/fd")}


def _until(pred, what, limit=30.0):
    """Poll `pred` (the child works concurrently); fail after `limit` s."""
    end = time.monotonic() + limit
    while not pred():
        if time.monotonic() > end:
            pytest.fail(f"never: {what}")
        time.sleep(0.005)


def _sig_mask(pid, field, signo):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return bool(int(line.split()[1], 16) >> (signo - 1) & 1)
    raise AssertionError(f"no {field} line")


def _sig_caught(pid, signo):
    return _sig_mask(pid, "SigCgt", signo)


def test_abandoned_worker_exits_quietly(capfd):
    w = fork_worker()
    assert w is not None
    w.abandon()
    assert w.returncode == 0
    w.abandon()  # twice is harmless
    assert capfd.readouterr().err == ""


def test_holds_only_its_socket_and_stdio():
    r, wfd = os.pipe()
    os.set_inheritable(r, True)  # even an inheritable fd is not kept
    try:
        w = fork_worker()
        try:
            # 0-2 and the socketpair end: the fds a spawned worker would have
            # (stdin: /dev/null, not ours)
            _until(lambda: len(_fds(w.pid)) == 4, "the worker closed what it inherited")
            assert r not in _fds(w.pid) and wfd not in _fds(w.pid)
            assert os.readlink(f"/proc/{w.pid}/fd/0") == "/dev/null"
        finally:
            w.abandon()
    finally:
        os.close(r)
        os.close(wfd)


def test_python_signal_handlers_are_reset():
    seen = []
    old = signal.signal(signal.SIGTERM, lambda s, f: seen.append(s))
    try:
        assert _sig_caught(os.getpid(), signal.SIGTERM)
        w = fork_worker()
        _until(lambda: not _sig_caught(w.pid, signal.SIGTERM), "SIGTERM back to its default in the worker")
        # a terminal's ^C and ^\ are the client's to handle, already while waiting
        _until(lambda: _sig_mask(w.pid, "SigIgn", signal.SIGINT), "SIGINT ignored in the worker")
        assert _sig_mask(w.pid, "SigIgn", signal.SIGQUIT)
        os.kill(w.pid, signal.SIGTERM)
        assert w.wait() == -signal.SIGTERM  # the default action, not our handler
    finally:
        signal.signal(signal.SIGTERM, old)
    assert seen == []


def test_an_fd_not_passed_is_refused_on_ready():
    w = fork_worker()
    rdy_r, rdy_w = os.pipe()
    w.start({"mode": "launch", "pids": [1], "ready_fd": rdy_w, "out_fd": 987}, [rdy_w])
    os.close(rdy_w)
    msg = b""
    while b := os.read(rdy_r, 4096):
        msg += b
    os.close(rdy_r)
    assert w.wait() == 1
    assert msg.startswith(b"E") and b"out_fd 987 was not passed to the worker" in msg


def test_a_dead_worker_fails_its_start_and_none_starts_twice():
    w = fork_worker()
    w.kill()  # a worker that died before its start: start() does not raise
    rdy_r, rdy_w = os.pipe()
    w.start({"mode": "launch", "pids": [1], "ready_fd": rdy_w}, [rdy_w])
    os.close(rdy_w)
    assert os.read(rdy_r, 10) == b""  # EOF: what the session reports as a failed start
    os.close(rdy_r)
    assert w.wait() == -signal.SIGKILL
    from tracerd import TracerError

    with pytest.raises(TracerError):
        w.start({}, [])


@needs_root
def test_forked_worker_traces_like_a_spawned_one(cbuild):
    prog = cbuild("exit7", "#include <stdlib.h>\nint main(void){return 7;}")
    ours, status, stats = run_traced([prog], ["execve", "exit_group"], worker=fork_worker())
    theirs, status2, _ = run_traced([prog], ["execve", "exit_group"])
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 7 and status2 == status
    assert stats is not None and stats["records"] == len(ours)
    # a call still blocked at a flush (an execve under load) comes split in
    # two records: compare calls, not how the loop happened to batch them. A
    # split call counts where its exit is: a split execve's EXEC event comes
    # between its entry and its exit, a whole one's before its record.
    def shape(recs):
        out = []
        for r in recs:
            if r[0] == Rec.SYSCALL_ENTRY:
                continue
            kind = Rec.SYSCALL if r[0] == Rec.SYSCALL_EXIT else r[0]
            out.append((kind, _wire.field(r, "nr") if kind == Rec.SYSCALL else None))
        return out

    assert shape(ours) == shape(theirs)
    (ev,) = calls(ours, nr_of("execve"))
    assert _wire.field(ev, "ret") == 0
    assert len(by_type(ours, Rec.EXIT)) == 1


@needs_root
def test_tracectl_run_traces_with_a_forked_worker(tmp_path):
    """The embedded tracer of `tracectl run` is a fork of tracectl (its
    command line), not a fresh `python -m tracerd.native`; the output and
    exit status are as before."""
    out = tmp_path / "trace"
    script = 'tp=$(sed -n "s/^TracerPid:\\t//p" /proc/$$/status); tr "\\0" " " < /proc/$tp/cmdline; exit 5'
    r = subprocess.run([*TRACECTL, "--embedded", "run", "-o", str(out), "-e", "trace=exit_group", "--", "sh", "-c", script],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 5, r.stderr
    assert "tracerd.client" in r.stdout and "tracerd.native" not in r.stdout
    assert out.read_text().splitlines()[-2:] == ["exit_group(5)                           = ?", "+++ exited with 5 +++"]

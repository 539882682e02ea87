"""The client's side of the attack run (issue 8): a busy daemon, escape
sequences in other users' strings, an output that fails, a reader that goes
away, loss in machine-readable output, inherited signal dispositions, and
one-line messages. Real daemon on a temporary socket, real tracees."""

from __future__ import annotations

import io
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import msgpack
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "daemon"))
from daemon_helpers import PY, Daemon, sleeper_bin, tracectl  # noqa: E402,F401

from tracerd import TracerdError, _wire  # noqa: E402
from tracerd.client import _remote  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the daemon traces as root")

TRACECTL = [PY, "-c", "import sys; from tracerd.client import main; sys.exit(main())"]
ESC_ARG = "a\x1b]0;pwned\x07b\x1b[2J"  # sets the terminal's title, clears the screen


@pytest.fixture(scope="module")
def sock_dir():
    import shutil
    import tempfile

    d = tempfile.mkdtemp(prefix="tracerd-hard-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def shared(sock_dir):
    """One daemon for the tests that leave it as they found it."""
    d = Daemon(os.path.join(sock_dir, "shared.sock"))
    yield d
    d.stop()


def popen(*argv, socket_path, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen([*TRACECTL, "--socket", socket_path, *argv], text=True, **kw)


def sessions(path) -> list[dict]:
    with _remote.Client(path) as c:
        return c.request("list")["sessions"]


def wait_for(cond, what, limit=20.0):
    """Poll `cond` until it is true (bounded: a failure, not a hang)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def one_session(path):
    return wait_for(lambda: (s := sessions(path)) and s[0], "the session")


def finish(p, timeout=30):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise
    return p.returncode, out, err


# -- F5: a full listen backlog -------------------------------------------------


def fill_backlog(path) -> list[socket.socket]:
    """Connections queued on a stopped daemon until the kernel refuses more."""
    held = []
    for _ in range(4096):  # the daemon listens with a backlog far below this
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
        try:
            s.connect(path)
        except BlockingIOError:
            s.close()
            return held
        held.append(s)
    raise AssertionError("the backlog never filled")


def test_busy_daemon_is_waited_for_then_refused_never_replaced(sock_dir, monkeypatch):
    from tracerd.client._source import choose

    d = Daemon(os.path.join(sock_dir, "busy.sock"))
    held = []
    try:
        d.proc.send_signal(signal.SIGSTOP)
        held = fill_backlog(d.path)
        # the connect waits for room: here the daemon comes back meanwhile
        ls = popen("ls", socket_path=d.path)
        threading.Timer(1.0, d.proc.send_signal, (signal.SIGCONT,)).start()
        rc, out, err = finish(ls)
        assert rc == 0 and out.split()[:2] == ["ID", "OWNER"], err
        # stopped again, and the room stays taken: one line, never embedded
        d.proc.send_signal(signal.SIGSTOP)
        for s in held:
            s.close()
        held = fill_backlog(d.path)
        monkeypatch.setattr(_remote, "CONNECT_WAIT", 0.3)
        with pytest.raises(TracerdError, match=f"tracerd at {d.path} is busy"):
            _remote.find_daemon(d.path)
        monkeypatch.delenv("TRACERD_SOCKET", raising=False)
        monkeypatch.setattr(_remote, "DEFAULT_SOCKET", d.path)
        with pytest.raises(TracerdError, match="busy"):
            choose(SimpleNamespace(embedded=False, socket=None))
    finally:
        for s in held:
            s.close()
        d.proc.send_signal(signal.SIGCONT)
        d.stop()
    # nobody listening at the default socket: embedded, as before
    assert choose(SimpleNamespace(embedded=False, socket=None)) == ("embedded", None)


# -- F7: escape sequences in other people's strings ------------------------------


def test_ls_escapes_control_characters(shared, tmp_path):
    weird_path = str(tmp_path / "\x1b[31mred")
    run = popen("run", "-qq", "-e", "trace=none", "-P", weird_path, "--", "sh", "-c", "sleep 30", ESC_ARG, socket_path=shared.path)
    try:
        s = one_session(shared.path)
        r = tracectl("ls", socket_path=shared.path)
        assert r.returncode == 0, r.stderr
        assert "\x1b" not in r.stdout and "\x07" not in r.stdout
        assert "a\\33]0;pwned\\7b\\33[2J" in r.stdout  # strace's escapes
        assert "\\33[31mred" in r.stdout
        # --json stays exact (JSON escapes control characters itself)
        r = tracectl("ls", "--json", socket_path=shared.path)
        assert json.loads(r.stdout.splitlines()[0])["command"][-1] == ESC_ARG
        assert tracectl("stop", str(s["session"]), socket_path=shared.path).returncode == 0
    finally:
        finish(run)


def test_ls_table_on_a_terminal_takes_no_markup_or_escapes():
    from tracerd.client._cmd_daemon import _print_table, _rows

    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    row = {"session": 1, "uid": 0, "pids": [5], "command": ["x", "[bold]y[/bold]", ESC_ARG], "filter": "", "subscribers": 1, "rate": 0.0, "dropped": 0}
    _print_table(_rows([row]), out)
    text = out.getvalue()
    assert "[bold]y[/bold]" in text  # literal, not rich markup
    assert "\x1b]0;pwned" not in text and "\x07" not in text and "pwned" in text


def test_daemon_messages_are_escaped():
    from tracerd import _protocol as P

    with pytest.raises(TracerdError) as e:
        _remote._raise_remote(P.Error(1, P.E_TRACER, f"no such file: {ESC_ARG}"))
    assert "\x1b" not in str(e.value) and "\\33" in str(e.value)


# -- F9, F10: output that fails, readers that leave ------------------------------


@pytest.mark.parametrize("where", ["embedded", "daemon"])
def test_output_on_a_full_disk_reports_and_lets_the_command_finish(shared, where):
    mode = ["--embedded"] if where == "embedded" else ["--socket", shared.path]
    r = subprocess.run([*TRACECTL, *mode, "run", "-o", "/dev/full", "sh", "-c", "echo hi; exit 3"], capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stdout) == (3, "hi\n"), r.stderr
    assert r.stderr == "tracectl: /dev/full: No space left on device\n"


def test_stderr_on_a_full_disk_lets_the_command_finish():
    with open("/dev/full", "w") as full:
        r = subprocess.run([*TRACECTL, "--embedded", "run", "sh", "-c", "echo hi; exit 3"], stdout=subprocess.PIPE, stderr=full, text=True, timeout=60)
    assert (r.returncode, r.stdout) == (3, "hi\n")  # strace: the same (nowhere to say it)


def test_output_to_a_pipe_whose_reader_left(shared, tmp_path):
    go = tmp_path / "go"
    script = f"while [ ! -e {go} ]; do sleep 0.01; done; cat /etc/hostname >/dev/null; exit 4"
    p = popen("run", "-o", "/dev/stdout", "sh", "-c", script, socket_path=shared.path)
    assert p.stdout.readline().startswith("execve(")
    p.stdout.close()  # `| head -1`
    go.touch()
    p.stdout = None
    rc, _, err = finish(p)
    assert rc == 4, err  # the command finished; its status is ours
    assert err == "tracectl: /dev/stdout: Broken pipe\n"


@pytest.mark.parametrize("argv", [["ls"], ["stats"], ["syscalls", "%file"], ["bpf", "-e", "trace=%file"]])
def test_no_traceback_when_stdout_reader_left(shared, argv):
    r_fd, w_fd = os.pipe()
    os.close(r_fd)  # the reader is gone before anything is written
    try:
        p = subprocess.run([*TRACECTL, "--socket", shared.path, *argv], stdout=w_fd, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(w_fd)
    assert (p.returncode, p.stderr) == (0, "")  # `| head` is no error (as `syscalls` always had it)


# -- F11: loss reaches machine-readable output ------------------------------------


def test_lost_records_reach_jsonl_and_msgpack_files(sock_dir, sleeper_bin, tmp_path):
    cfg = tmp_path / "tracerd.toml"
    cfg.write_text("[limits]\nqueue_frames = 2\n")
    d = Daemon(os.path.join(sock_dir, "lossy.sock"), ["--config", str(cfg)])
    try:
        # one session and one stalled watcher per format: the session's drop
        # count then grows only through that watcher, so its file must get
        # the LOST record
        for fmt in ("jsonl", "msgpack"):
            run = popen("run", "-qq", "-o", "/dev/null", "-e", "trace=openat,close", "--", sleeper_bin, "fast", socket_path=d.path)
            w = None
            try:
                sid = one_session(d.path)["session"]
                w = popen("watch", str(sid), "--policy", "drop", f"--format={fmt}", "-o", str(tmp_path / f"out.{fmt}"), socket_path=d.path)
                wait_for(lambda: sessions(d.path)[0]["subscribers"] == 2, "the watcher")
                w.send_signal(signal.SIGSTOP)  # a stalled consumer
                wait_for(lambda: sessions(d.path)[0]["dropped"] > 0, "records dropped")
                w.send_signal(signal.SIGCONT)
                assert tracectl("stop", str(sid), socket_path=d.path).returncode == 0
                rc, _, err = finish(w)
                assert rc == 0, err
            finally:
                if w is not None:
                    w.send_signal(signal.SIGCONT)
                    if w.poll() is None:
                        w.kill()
                finish(run)
    finally:
        d.stop()
    objs = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    lost = [o for o in objs if o["type"] == "lost"]
    assert lost and all(o["count"] > 0 for o in lost), [o["type"] for o in objs[-5:]]
    with open(tmp_path / "out.msgpack", "rb") as f:
        recs = list(msgpack.Unpacker(f, raw=False, strict_map_key=False))
    assert any(r[0] == _wire.Rec.LOST and _wire.field(r, "count") > 0 for r in recs if isinstance(r, list))


# -- F14: the tracer's own signals, whatever it inherited --------------------------


def _ignore_sigint():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # what a shell does for `cmd &`


@pytest.mark.parametrize("where", ["embedded", "daemon"])
def test_background_attach_ends_on_sigint(shared, sleeper_bin, where):
    spin = subprocess.Popen([sleeper_bin])
    try:
        mode = ["--embedded"] if where == "embedded" else ["--socket", shared.path]
        p = subprocess.Popen([*TRACECTL, *mode, "attach", "-e", "trace=none", "-p", str(spin.pid)], stderr=subprocess.PIPE, text=True, preexec_fn=_ignore_sigint)
        assert p.stderr.readline() == f"tracectl: Process {spin.pid} attached\n"
        p.send_signal(signal.SIGINT)
        rc, _, err = finish(p, timeout=15)
        assert rc == -signal.SIGINT, err  # the shell's 130, as strace
        assert f"Process {spin.pid} detached" in err
        assert spin.poll() is None  # detached, still running
    finally:
        spin.kill()
        spin.wait()


def test_run_command_keeps_inherited_sig_ign_through_the_daemon(shared):
    r = subprocess.run(
        [*TRACECTL, "--socket", shared.path, "run", "-qq", "-e", "trace=none", "--", "grep", "SigIgn", "/proc/self/status"],
        capture_output=True, text=True, timeout=60, preexec_fn=_ignore_sigint,
    )
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.split()[1], 16) & (1 << (signal.SIGINT - 1))


# -- one-line messages ------------------------------------------------------------------


@pytest.mark.parametrize("cmd", ["stop", "detach", "watch"])
def test_bad_session_id_is_one_line(shared, cmd):
    r = tracectl(cmd, "abc", socket_path=shared.path)
    assert (r.returncode, r.stderr) == (1, "tracectl: argument ID: invalid int value: 'abc'\n")


def test_impossible_pid_in_straces_words(shared):
    r = tracectl("attach", "-p", "99999999", socket_path=shared.path)
    assert (r.returncode, r.stderr) == (1, "tracectl: attach: ptrace(PTRACE_SEIZE, 99999999): No such process\n")


def running(path, tmp_path):
    """`tracectl run` of a command that says when it runs (traced by then)."""
    flag = tmp_path / "running"
    run = popen("run", "-qq", "-e", "trace=none", "-e", "signal=none", "sh", "-c", f"touch {flag}; exec sleep 30", socket_path=path)
    wait_for(flag.exists, "the command")
    return run


def test_worker_death_is_said_once(shared, tmp_path):
    run = running(shared.path, tmp_path)
    worker = one_session(shared.path)["worker"]
    os.kill(worker, signal.SIGKILL)
    rc, _, err = finish(run)
    assert rc == 1
    assert err == f"tracectl: tracer worker {worker} killed by signal 9\n"


def test_daemon_shutdown_is_said(sock_dir, tmp_path):
    d = Daemon(os.path.join(sock_dir, "down.sock"))
    try:
        run = running(d.path, tmp_path)
        sid = one_session(d.path)["session"]
        watch = popen("watch", str(sid), socket_path=d.path)
        wait_for(lambda: sessions(d.path)[0]["subscribers"] == 2, "the watcher")
    finally:
        d.stop()
    rc, _, err = finish(run)
    assert rc == -signal.SIGKILL  # the command was killed with the session
    assert f"tracectl: session {sid}: the daemon shut down\n" in err
    rc, _, err = finish(watch)
    assert rc == 0 and f"tracectl: session {sid}: the daemon shut down\n" in err

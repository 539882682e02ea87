"""Start/stop and socket rules of a real tracerd."""

import os
import re
import signal
import socket
import stat
import subprocess

import pytest

from tracerd import RemoteError, TracerdError
from tracerd.client import _remote

from daemon_helpers import PY, Daemon, tracectl, wait_for_socket


def test_creates_parent_dir_mode_and_removes_socket_on_sigterm(sockdir):
    path = os.path.join(sockdir, "a", "b", "tracerd.sock")
    d = Daemon(path)
    st = os.stat(path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660
    rc, err = d.stop()
    assert rc == 0, err
    assert "SIGTERM: stopping" in err
    assert not os.path.exists(path)


def test_socket_mode_and_group_options(sockdir):
    path = os.path.join(sockdir, "s.sock")
    d = Daemon(path, ["--socket-mode", "0600", "--socket-group", "0"])
    try:
        st = os.stat(path)
        assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_gid == 0
    finally:
        d.stop()


def test_unknown_group_is_refused(sockdir):
    r = subprocess.run([PY, "-m", "tracerd.daemon", "--socket", os.path.join(sockdir, "s"), "--socket-group", "no-such-group-xyz"], capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.strip().endswith("tracerd: unknown group 'no-such-group-xyz'")


def test_refuses_when_a_live_daemon_answers(daemon):
    r = subprocess.run([PY, "-m", "tracerd.daemon", "--socket", daemon.path], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert f"tracerd: a daemon is already listening on {daemon.path}" in r.stderr
    assert os.path.exists(daemon.path)  # the live one's socket is untouched
    assert tracectl("ls", socket_path=daemon.path).returncode == 0


def test_replaces_a_stale_socket(sockdir):
    path = os.path.join(sockdir, "stale.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()  # bound, never listening: nobody answers
    d = Daemon(path)
    try:
        assert tracectl("ls", socket_path=path).returncode == 0
    finally:
        rc, err = d.stop()
    assert "replacing stale socket" in err


def test_refuses_a_path_that_is_not_a_socket(sockdir):
    path = os.path.join(sockdir, "file")
    open(path, "w").close()
    r = subprocess.run([PY, "-m", "tracerd.daemon", "--socket", path], capture_output=True, text=True)
    assert r.returncode == 1 and f"tracerd: {path} exists and is not a socket" in r.stderr
    assert os.path.isfile(path)


def test_sigint_also_stops_cleanly(sockdir):
    d = Daemon(os.path.join(sockdir, "s.sock"))
    d.proc.send_signal(signal.SIGINT)
    d.proc.wait(timeout=30)
    rc, err = d.stop()
    assert rc == 0 and "SIGINT: stopping" in err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_signal_the_moment_the_socket_exists(sockdir, sig):
    """The socket is bound before Trio runs: a signal in that window is held
    for the receiver, never the default action that leaves the socket behind."""
    path = os.path.join(sockdir, "s.sock")
    proc = subprocess.Popen([PY, "-m", "tracerd.daemon", "--socket", path], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while not os.path.exists(path) and proc.poll() is None:
        pass  # spin: signal as early as the path can be seen
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    assert f"{sig.name}: stopping" in err.decode()
    assert not os.path.exists(path)


def test_ready_notification_to_systemd(sockdir):
    notify = os.path.join(sockdir, "notify")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(notify)
    ns.settimeout(30)
    path = os.path.join(sockdir, "s.sock")
    d = Daemon(path, env={**os.environ, "NOTIFY_SOCKET": notify})
    try:
        assert ns.recv(100) == b"READY=1"
    finally:
        d.stop()
    assert ns.recv(100) == b"STOPPING=1"
    ns.close()


def test_socket_activation(sockdir):
    path = os.path.join(sockdir, "activated.sock")
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(path)
    ls.listen(8)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(os.path.join(sockdir, "notify"))
    notify.settimeout(30)
    # what systemd does: the socket as fd 3, LISTEN_PID = the daemon's own pid
    launcher = (
        "import os, sys; os.dup2(int(sys.argv[1]), 3); "
        "os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS='1'); "
        "os.execv(sys.argv[2], sys.argv[2:])"
    )
    argv = [PY, "-c", launcher, str(ls.fileno()), PY, "-m", "tracerd.daemon", "--socket", f"{sockdir}/unused.sock"]
    proc = subprocess.Popen(argv, pass_fds=[ls.fileno()], stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env={**os.environ, "NOTIFY_SOCKET": os.path.join(sockdir, "notify")})
    ls.close()
    try:
        # the socket listens before the daemon runs: READY=1 says when it serves
        assert notify.recv(100) == b"READY=1"
        r = tracectl("ls", socket_path=path)
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == ["ID", "OWNER", "PIDS", "COMMAND", "FILTER", "SUBS", "REC/S", "DROPS"]
        assert not os.path.exists(f"{sockdir}/unused.sock")  # it used the passed socket
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        notify.close()
    assert proc.returncode == 0
    assert "socket activation: 1 socket(s)" in err.decode()
    assert os.path.exists(path)  # systemd's socket: not ours to remove


def test_find_daemon_rules(daemon, sockdir, monkeypatch):
    monkeypatch.delenv("TRACERD_SOCKET", raising=False)
    assert _remote.find_daemon(daemon.path) == daemon.path
    monkeypatch.setenv("TRACERD_SOCKET", daemon.path)
    assert _remote.find_daemon(None) == daemon.path
    missing = os.path.join(sockdir, "nobody.sock")
    with pytest.raises(TracerdError, match=f"cannot connect to tracerd at {missing}: No such file or directory"):
        _remote.find_daemon(missing)
    monkeypatch.setenv("TRACERD_SOCKET", missing)
    with pytest.raises(TracerdError, match="cannot connect"):
        _remote.find_daemon(None)
    monkeypatch.delenv("TRACERD_SOCKET")
    if not os.path.exists(_remote.DEFAULT_SOCKET):
        assert _remote.find_daemon(None) is None  # default unreachable: embedded


def test_ls_stats_and_unknown_sessions(daemon):
    r = tracectl("ls", socket_path=daemon.path)
    assert r.returncode == 0 and r.stdout.split() == ["ID", "OWNER", "PIDS", "COMMAND", "FILTER", "SUBS", "REC/S", "DROPS"]
    for cmd in ("stop", "detach"):
        r = tracectl(cmd, "42", socket_path=daemon.path)
        assert r.returncode == 1 and r.stderr == "tracectl: no session 42\n"
    with _remote.Client(daemon.path) as c:
        st = c.request("stats")
        assert st["pid"] == daemon.proc.pid and st["sessions"] == 0 and st["connections"] == 1
        with pytest.raises(RemoteError, match="no session 7") as ei:
            c.request("watch", {"session": 7})
        assert ei.value.code == "no-session"
        assert c.request("list") == {"sessions": []}  # still usable after a refused request


def test_run_without_a_pidfd_is_refused(daemon):
    with _remote.Client(daemon.path) as c:
        with pytest.raises(RemoteError, match=r"run needs the command's pidfd \(SCM_RIGHTS\)"):
            c.request("run", {"pid": os.getpid(), "plan": b""})
        # a fd that is not a pidfd of that pid
        r, w = os.pipe()
        try:
            with pytest.raises(RemoteError, match="not a pidfd of pid"):
                c.request("run", {"pid": os.getpid(), "plan": b""}, fds=[r])
        finally:
            os.close(r)
            os.close(w)


def test_run_from_a_client_in_another_pid_namespace(daemon):
    """A client in a container names its command by its own pid namespace's
    number; the pidfd's ids (fdinfo NSpid) show it is the same process, and
    the records name it as the client does (no `attached` note, no pid
    prefix: it is the command; tests/daemon/test_pidns.py checks the numbers)."""
    import shutil

    if not shutil.which("unshare"):
        pytest.skip("unshare not installed")
    probe = subprocess.run(["unshare", "-pf", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("unshare -pf not permitted here")
    cmd = [PY, "-c", "import sys; from tracerd.client import main; sys.exit(main())",
           "--socket", daemon.path, "run", "-e", "trace=kill", "sh", "-c", "kill -0 $$"]
    r = subprocess.run(["unshare", "-pf", *cmd], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 2 and re.fullmatch(r"kill\(\d+, 0\) += 0", lines[0]) and lines[1] == "+++ exited with 0 +++", r.stderr


def test_attach_to_a_missing_pid(daemon):
    with _remote.Client(daemon.path) as c:
        with pytest.raises(TracerdError, match=r"attach: ptrace\(PTRACE_SEIZE, 4194000\): No such process"):
            c.request("attach", {"pids": [4194000], "plan": b""})


def test_the_daemon_cannot_be_traced_through_itself(daemon):
    with _remote.Client(daemon.path) as c:
        with pytest.raises(TracerdError, match=f"not permitted to trace pid {daemon.proc.pid} \\(the daemon"):
            c.request("attach", {"pids": [daemon.proc.pid], "plan": b""})


def test_unusable_socket_directory_is_one_line(sockdir):
    blocker = os.path.join(sockdir, "file")
    open(blocker, "w").close()
    r = subprocess.run([PY, "-m", "tracerd.daemon", "--socket", os.path.join(blocker, "s.sock")], capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1] == f"tracerd: cannot create {blocker}: File exists"

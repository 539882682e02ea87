"""`tracectl top` on a real terminal: tmux runs it (send-keys to type,
capture-pane to read the screen). Embedded run and attach here; through the
daemon in tests/daemon/test_top_daemon.py."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

import pytest

BUSY = r"""
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	int secs = argc > 1 ? atoi(argv[1]) : 3;
	time_t end = time(NULL) + secs;
	while (time(NULL) < end) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			close(fd);
		open("/nonexistent-top", O_RDONLY);
		usleep(1000);
	}
	return 7;
}
"""
TRACECTL = [sys.executable, "-c", "import sys; from tracerd.client import main; sys.exit(main())"]


@pytest.fixture(scope="module")
def busy(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc missing")
    d = tmp_path_factory.mktemp("top")
    (d / "busy.c").write_text(BUSY)
    subprocess.run(["gcc", "-O2", "-o", str(d / "busy"), str(d / "busy.c")], check=True)
    return str(d / "busy")


class Tmux:
    """One private tmux server (its own socket name) with one window."""

    def __init__(self, cmd: list[str], width: int = 140, height: int = 40):
        self.name = f"tracerd-top-{os.getpid()}-{time.monotonic_ns()}"
        line = " ".join(_quote(a) for a in cmd)
        self.tmux("new-session", "-d", "-x", str(width), "-y", str(height), f"{line}; echo TOP-EXIT=$?; sleep 60")

    def tmux(self, *args) -> str:
        return subprocess.run(["tmux", "-L", self.name, *args], capture_output=True, text=True, timeout=30).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p")

    def keys(self, *keys) -> None:
        self.tmux("send-keys", *keys)

    def wait_for(self, pattern: str, limit: float = 20.0) -> re.Match:
        deadline = time.monotonic() + limit
        while True:
            m = re.search(pattern, self.screen(), re.M)
            if m or time.monotonic() > deadline:
                assert m, f"{pattern!r} never showed; the screen:\n{self.screen()}"
                return m
            time.sleep(0.1)

    def close(self) -> None:
        self.tmux("kill-server")


def _quote(a: str) -> str:
    return "'" + a.replace("'", "'\\''") + "'"


@pytest.fixture
def tmux_bin():
    if shutil.which("tmux") is None:
        pytest.skip("tmux missing (apt-get install tmux)")


def test_top_run_embedded_sorts_and_lets_the_command_finish(tmux_bin, busy):
    t = Tmux([*TRACECTL, "--embedded", "top", "--interval", "0.3", "--", busy, "4"])
    try:
        # the busy loop's calls, with their rates, latencies and errors
        # (calls/s in the hundreds: the loop, not the loader's first calls)
        m = t.wait_for(r"^openat\s+([1-9]\d{2,})\s+([1-9]\d+)\s+(\d+\.\d{3} us)\s+(\d+\.\d{3} us)\s+(\d+)\s+(\d+)\s*$")
        assert int(m.group(5)) >= int(m.group(6)) > 0  # calls, errors
        t.wait_for(r"^close\s+\d+\s+0\s+")
        t.wait_for(r"calls/s ▼")
        t.wait_for(r"^\s+\d+\s+busy\s+\d+\s+openat \d+/s")  # the process and its top calls
        t.keys("p")
        t.wait_for(r"p99 ▼")
        t.keys("n")
        t.wait_for(r"syscall ▼")
        first = [ln.split()[0] for ln in t.screen().splitlines()[3:8] if ln.strip()]
        assert first == sorted(first), first  # by name now
        t.keys("q")
        # leaving the view: the command runs on, traced, to its own end
        t.wait_for(r"runs on until it ends")
        t.wait_for(r"^TOP-EXIT=7$", limit=30)
    finally:
        t.close()


def test_top_attach_detaches_cleanly(tmux_bin, busy):
    child = subprocess.Popen([busy, "60"])
    try:
        t = Tmux([*TRACECTL, "--embedded", "top", "--interval", "0.3", "-p", str(child.pid)])
        try:
            t.wait_for(r"^openat\s+\d+\s+\d+\s+")
            t.wait_for(r"pid " + str(child.pid))
            t.keys("q")
            t.wait_for(r"^TOP-EXIT=0$")
        finally:
            t.close()
        # detached: still running, nobody tracing it
        assert child.poll() is None
        status = open(f"/proc/{child.pid}/status").read()
        assert re.search(r"^TracerPid:\s+0$", status, re.M), status
    finally:
        child.kill()
        child.wait()


def test_top_needs_a_terminal_and_a_target(busy):
    env = {k: v for k, v in os.environ.items() if k != "TRACERD_SOCKET"}
    r = subprocess.run([*TRACECTL, "--embedded", "top", "--", busy, "1"], capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
    assert r.returncode == 1 and r.stderr == "tracectl: top draws on a terminal: run it with stdin and stdout on a tty\n"
    r = subprocess.run([*TRACECTL, "--embedded", "top"], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 1 and "must have -- CMD [ARGS], -p PID or a SESSION number" in r.stderr


@pytest.fixture(scope="module")
def daemon_socket(tmp_path_factory):
    """A real tracerd on a private socket, for top through the daemon."""
    import signal
    import socket

    d = tmp_path_factory.mktemp("topd")
    path = str(d / "tracerd.sock")
    proc = subprocess.Popen([sys.executable, "-m", "tracerd.daemon", "--socket", path], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "tracerd did not start"
            time.sleep(0.05)
        finally:
            s.close()
    yield path
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_top_run_through_the_daemon(tmux_bin, busy, daemon_socket):
    t = Tmux([*TRACECTL, "--socket", daemon_socket, "top", "--interval", "0.3", "--", busy, "3"])
    try:
        t.wait_for(r"^openat\s+\d+\s+\d+\s+\d+\.\d{3} us")
        t.keys("q")
        t.wait_for(r"^TOP-EXIT=7$", limit=30)
    finally:
        t.close()


def test_top_of_a_daemon_session_leaves_it_running(tmux_bin, busy, daemon_socket):
    import json

    child = subprocess.Popen([busy, "60"])
    env = {k: v for k, v in os.environ.items() if k != "TRACERD_SOCKET"}
    att = subprocess.Popen([*TRACECTL, "--socket", daemon_socket, "attach", "-o", os.devnull, "-p", str(child.pid)], stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        sid = None
        for _ in range(200):  # until the session is listed (bounded: ~10 s)
            r = subprocess.run([*TRACECTL, "--socket", daemon_socket, "ls", "--json"], capture_output=True, text=True, timeout=30, env=env)
            ss = [json.loads(ln) for ln in r.stdout.splitlines() if ln.strip()]
            sid = next((s["session"] for s in ss if child.pid in s["pids"]), None)
            if sid is not None:
                break
            time.sleep(0.05)
        assert sid is not None
        t = Tmux([*TRACECTL, "--socket", daemon_socket, "top", "--interval", "0.3", str(sid)])
        try:
            t.wait_for(rf"session {sid}: ")
            t.wait_for(r"^openat\s+\d+\s+\d+\s+")
            t.keys("q")
            t.wait_for(r"^TOP-EXIT=0$")
        finally:
            t.close()
        r = subprocess.run([*TRACECTL, "--socket", daemon_socket, "ls", "--json"], capture_output=True, text=True, timeout=30, env=env)
        assert any(json.loads(ln)["session"] == sid for ln in r.stdout.splitlines() if ln.strip())  # the session goes on
        assert att.poll() is None
    finally:
        att.terminate()
        att.wait(timeout=30)
        child.kill()
        child.wait()

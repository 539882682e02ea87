"""Pass-through processes are never orphaned (issue 8): a user's process keeps
the filter `attach --seccomp-bpf` injected; when its pass-through worker is
SIGKILLed (daemon running), or dies while no daemon runs, the daemon seizes
it again under the owner's credentials, without a second injection, and its
traced calls stop failing with ENOSYS."""

import os
import pathlib
import shutil
import signal
import subprocess
import time

import pytest

from tracerd.client import _remote

from daemon_helpers import Daemon, _world_dir, as_user, run_as_user

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (daemon, useradd, setpriv)")

# Counts its openat() calls that fail with ENOSYS (a filtered process
# without a tracer); prints "iterations enosys" every 50 iterations.
COUNTER = r"""#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(void)
{
	unsigned long enosys = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned long i = 0;; i++) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			close(fd);
		else if (errno == ENOSYS)
			enosys++;
		if (i % 50 == 0)
			printf("%lu %lu\n", i, enosys);
		usleep(500);
	}
}
"""


@pytest.fixture(scope="module")
def counter_bin():
    if shutil.which("gcc") is None:
        pytest.skip("gcc missing")
    d = pathlib.Path(_world_dir())
    (d / "counter.c").write_text(COUNTER)
    subprocess.run(["gcc", "-O2", "-o", str(d / "counter"), str(d / "counter.c")], check=True)
    yield str(d / "counter")
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def counter(counter_bin, test_user):
    p = subprocess.Popen(as_user(test_user, [counter_bin]), stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().split() == ["0", "0"]
    yield p
    p.kill()
    p.wait()


def _filter_and_plan():
    from tracerd.bpfgen import Qualifiers, build_plan, compile_filter

    q = Qualifiers()
    q.qualify("trace=openat")
    return compile_filter(q.trace), build_plan(q.trace)


def _inject_and_leave(path, pid, bpf, plan):
    """As the user: attach --seccomp-bpf, take a few records, detach (the
    session turns pass-through), leave."""
    a = _remote.RemoteAttach(path, [pid], plan=plan, bpf=bpf)
    a.start()
    n = 0
    for _first, count, _payload in a.frames():
        n += count
        if n >= 3:
            break
    a.close()
    for _ in a.frames():
        pass
    a.close()
    return a.end.reason


def _field(pid, key):
    with open(f"/proc/{pid}/status") as f:
        return next(l for l in f if l.startswith(key + ":")).split()[1]


def _listed(path):
    return _remote.Client(path).request("list")["sessions"]


def _wait_for_new_tracer(path, pid, old_worker):
    """Until a session lists `pid` with a live worker other than old_worker
    that is its tracer (bounded: fails after 60 s)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for s in _listed(path):
            if s["pids"] == [pid] and s["worker"] not in (0, old_worker) and _field(pid, "TracerPid") == str(s["worker"]):
                return s
        time.sleep(0.02)
    raise AssertionError(f"pid {pid} was not re-attached: {_listed(path)}")


def _no_enosys_from_now(p):
    """The counter's ENOSYS count stops growing: read 200 more iterations."""
    i0, e0 = map(int, p.stdout.readline().split())
    while True:
        i, e = map(int, p.stdout.readline().split())
        assert e == e0, f"ENOSYS after the re-attach: {e - e0} more by iteration {i}"
        if i >= i0 + 200:
            return e


def test_a_killed_pass_through_worker_is_replaced(sockdir, test_user, counter):
    d = Daemon(os.path.join(sockdir, "p.sock"), ["--socket-group", "tracing"])
    try:
        assert run_as_user(test_user, _inject_and_leave, d.path, counter.pid, *_filter_and_plan()) == "detached"
        (row,) = _listed(d.path)
        assert row["state"] == "pass-through" and row["uid"] == test_user.pw_uid
        old = row["worker"]
        os.kill(old, signal.SIGKILL)
        new = _wait_for_new_tracer(d.path, counter.pid, old)
        assert new["state"] == "pass-through" and new["uid"] == test_user.pw_uid
        # under the owner's credentials, the filter not injected twice
        assert _field(new["worker"], "Uid") == str(test_user.pw_uid)
        assert _field(counter.pid, "Seccomp_filters") == "1"
        _no_enosys_from_now(counter)
        assert os.path.exists(os.path.join(sockdir, "passthru.json"))  # the state file, next to the socket
        # the process exits: the session goes
        counter.kill()
        counter.wait()
        deadline = time.monotonic() + 60
        while _listed(d.path) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _listed(d.path) == []
    finally:
        rc, err = d.stop()
    assert "Traceback" not in err, err


def test_a_restarted_daemon_re_adopts_and_re_attaches(sockdir, test_user, counter):
    path = os.path.join(sockdir, "r.sock")
    d = Daemon(path, ["--socket-group", "tracing"])
    try:
        run_as_user(test_user, _inject_and_leave, d.path, counter.pid, *_filter_and_plan())
        (row,) = _listed(d.path)
    finally:
        d.stop()  # leaves the pass-through worker with its process
    old = row["worker"]
    assert _field(counter.pid, "TracerPid") == str(old)
    # a second daemon finds the worker alive and lists it
    d = Daemon(path, ["--socket-group", "tracing"])
    try:
        (adopted,) = _listed(d.path)
        assert (adopted["worker"], adopted["pids"], adopted["state"], adopted["uid"]) == (old, [counter.pid], "pass-through", test_user.pw_uid)
    finally:
        d.stop()
    # the worker dies while no daemon runs: the next one re-attaches at start
    os.kill(old, signal.SIGKILL)
    d = Daemon(path, ["--socket-group", "tracing"])
    try:
        new = _wait_for_new_tracer(d.path, counter.pid, old)
        assert _field(new["worker"], "Uid") == str(test_user.pw_uid)
        _no_enosys_from_now(counter)
    finally:
        d.stop()

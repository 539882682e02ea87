"""attach --seccomp-bpf through a real daemon: the worker injects the
filter, and at the end the session turns pass-through instead of detaching
(a filtered process without a tracer would get ENOSYS for traced calls)."""

import os
import shutil
import signal
import subprocess
import time

import pytest

from tracerd import RemoteError, _wire
from tracerd.client import _remote

from daemon_helpers import Daemon, records_of, tracectl

# Fails loudly (exit 3) the moment a traced call does not go through: the
# lines it prints after the session ended prove the pass-through tracer works.
TRACEE = r"""#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned long i = 0;; i++) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd < 0) {
			printf("open failed\n");
			return 3;
		}
		close(fd);
		getpid();
		if (i % 20 == 0)
			printf("%lu\n", i);
		usleep(1000);
	}
}
"""


@pytest.fixture
def tracee(tmp_path):
    if shutil.which("gcc") is None:
        pytest.skip("gcc missing")
    src = tmp_path / "opener.c"
    src.write_text(TRACEE)
    exe = tmp_path / "opener"
    subprocess.run(["gcc", "-O2", "-o", str(exe), str(src)], check=True)
    p = subprocess.Popen([str(exe)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "0"
    yield p
    p.kill()
    p.wait()


def _filter_and_plan():
    from tracerd.bpfgen import Qualifiers, build_plan, compile_filter

    q = Qualifiers()
    q.qualify("trace=openat")
    return compile_filter(q.trace), build_plan(q.trace)


def _status_field(pid: int, name: str) -> str:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split()[1]
    return ""


def _still_working(p, lines=2):
    """The tracee keeps printing: its traced open() calls go through."""
    for _ in range(lines):
        line = p.stdout.readline().strip()
        assert line.isdigit(), f"tracee said {line!r} (exit status {p.poll()})"


def _attach_and_detach(path, p):
    bpf, plan = _filter_and_plan()
    owner = _remote.RemoteAttach(path, [p.pid], plan=plan, bpf=bpf, bpf_filter="-e trace=openat")
    owner.start()
    seen = []
    for _first, _count, payload in owner.frames():
        seen += [r for r in _wire.iter_records(payload) if r[0] == _wire.Rec.SYSCALL]
        if len(seen) >= 3:
            break
    assert _status_field(p.pid, "Seccomp") == "2"  # the filter is in place
    c = _remote.Client(path)
    row = c.request("list")["sessions"][0]
    assert row["seccomp_bpf"] and row["state"] == "tracing"
    owner.close()  # detach: the worker turns pass-through
    rest = records_of(owner.frames())
    return owner, c, row, seen, rest


def test_pass_through_session_outlives_its_owner(daemon, tracee):
    owner, c, row, seen, rest = _attach_and_detach(daemon.path, tracee)
    assert {_wire.field(r, "nr") for r in seen} == {257}  # only openat
    assert owner.end.reason == "detached" and "pass-through" in owner.end.message
    notes = [_wire.field(r, "message") for r in rest if r[0] == _wire.Rec.ERROR]
    assert any(f"process {tracee.pid} keeps its seccomp filter" in n for n in notes), notes
    # still listed, still attached, and the process's traced calls go through
    sessions = c.request("list")["sessions"]
    assert [s["state"] for s in sessions] == ["pass-through"]
    assert _status_field(tracee.pid, "TracerPid") == str(row["worker"])
    _still_working(tracee)
    r = tracectl("ls", socket_path=daemon.path)
    assert "[pass-through]" in r.stdout
    # nothing to watch, and it cannot be detached or stopped
    sid = row["session"]
    for op, word in (("watch", "makes no records"), ("detach", "cannot detach"), ("stop", "cannot stop")):
        with pytest.raises(RemoteError, match=word):
            c.request(op, {"session": sid})
    bpf, plan = _filter_and_plan()
    with pytest.raises(RemoteError, match=f"keeps the seccomp filter of session {sid}"):
        c.request("attach", {"pids": [tracee.pid], "plan": plan})
    # the process exits: the worker ends, and so does the session
    tracee.kill()
    tracee.wait()
    deadline = time.monotonic() + 60
    while c.request("list")["sessions"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert c.request("list")["sessions"] == []
    c.close()


def test_daemon_shutdown_leaves_the_pass_through_worker(sockdir, tracee):
    d = Daemon(os.path.join(sockdir, "s.sock"))
    try:
        owner, c, row, _seen, _rest = _attach_and_detach(d.path, tracee)
        c.close()
        owner.client.close()
    finally:
        rc, err = d.stop()
    assert rc == 0, err
    assert f"leaving pass-through worker {row['worker']}" in err
    # the worker did not die with the daemon: still the tracer, calls go through
    assert _status_field(tracee.pid, "TracerPid") == str(row["worker"])
    _still_working(tracee)
    tracee.kill()
    tracee.wait()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _status_field(row["worker"], "State") not in ("", "Z"):
        time.sleep(0.01)
    assert _status_field(row["worker"], "State") in ("", "Z")


def test_tracectl_attach_seccomp_bpf_through_the_daemon(daemon, tracee):
    t = subprocess.Popen(
        [*_tracectl_argv(daemon.path), "attach", "--seccomp-bpf", "-e", "trace=openat", str(tracee.pid)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    # the first traced call arrives, then ^C: tracectl detaches and says why
    # the tracer stays
    line = ""
    while "openat(" not in line:
        line = t.stderr.readline()
        assert line, "tracectl ended before any openat line"
    t.send_signal(signal.SIGINT)
    _out, err = t.communicate(timeout=60)
    assert t.returncode == -signal.SIGINT, err  # as strace -p: it ends by the signal
    assert f"tracectl: process {tracee.pid} keeps its seccomp filter; tracer pid" in err
    _still_working(tracee)


def _tracectl_argv(path):
    import sys

    return [sys.executable, "-c", "import sys; from tracerd.client import main; sys.exit(main())", "--socket", path]

"""--sink through the real daemon: sink processes fed by the daemon, a
user's targets opened by the client (fds), spools in the daemon's state
directory that outlive the daemon, and the [[sink]] configuration."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from sink_helpers import need
from receivers import RSYSLOGD, Rsyslog
from daemon_helpers import test_user, wait_for_socket  # noqa: F401 (test_user: a fixture)
from sink_helpers import PY, consecutive, needs_root, trace_lines, tracectl

from tracerd import UsageError

TEST_USER = "tracerd-test"


class Daemon:
    def __init__(self, d: str, config: str = ""):
        self.dir = d
        self.sock = os.path.join(d, "run", "tracerd.sock")
        self.state = os.path.join(d, "state")
        self.conf = os.path.join(d, "tracerd.toml")
        with open(self.conf, "w") as f:
            f.write(f'[spool]\ndir = "{self.state}"\n{config}')
        self.start()

    def start(self):
        self.proc = subprocess.Popen([PY, "-m", "tracerd.daemon", "--socket", self.sock, "--config", self.conf, "--log-level", "debug"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for_socket(self.sock, self.proc)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err.decode()


@pytest.fixture
def daemon():
    needs_root()
    d = tempfile.mkdtemp(prefix="tracerd-sink-test-")
    os.chmod(d, 0o755)
    dm = Daemon(d)
    yield dm
    dm.stop()
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def rsyslog(tmp_path_factory):
    need(RSYSLOGD, "rsyslog rsyslog-relp rsyslog-gnutls")
    r = Rsyslog(str(tmp_path_factory.mktemp("rsyslog")))
    yield r
    r.stop()


@pytest.fixture(scope="module")
def sink_user(test_user):
    """The daemon tests' user, able to run this interpreter (a user's sink
    process runs as the user)."""
    user = test_user
    r = subprocess.run(["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", PY, "-c", "import tracerd.client.sinks"], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"{TEST_USER} cannot run this interpreter ({PY}): {r.stderr.strip()[-200:]}")
    return user


def _wait_lines(path, pred, limit=20.0):
    deadline = time.monotonic() + limit
    while True:
        try:
            objs = [json.loads(line) for line in open(path).read().splitlines()]
        except FileNotFoundError:
            objs = []
        if pred(objs) or time.monotonic() > deadline:
            return objs
        time.sleep(0.05)


def test_run_and_watch_through_the_daemon(daemon, rsyslog, burst, tmp_path):
    rsyslog.clear("relp")
    out = tmp_path / "out.txt"
    f = tmp_path / "run.jsonl"
    r = tracectl("run", "-e", "trace=getppid,openat", "-o", out, "--sink", f"file:{f}", "--sink", rsyslog.url("relp"), "--", burst, 50, socket_path=daemon.sock)
    assert r.returncode == 0, r.stderr
    objs = _wait_lines(f, lambda o: any(x["type"] == "exit" for x in o))
    seqs = [o["seq"] for o in objs]
    assert seqs[0] == 0 and consecutive(seqs)
    keys = {o["session"] for o in objs}
    assert len(keys) == 1
    msgs = rsyslog.wait_messages("relp", lambda ms: any(m["msgid"] == "exit" for m in ms))
    assert [int(m["params"]["seq"]) for m in msgs] == seqs
    assert {m["params"]["session"] for m in msgs} == keys
    assert [m["msg"] for m in msgs if m["msgid"] in ("getppid", "openat")] == trace_lines(out)
    # the normal output is unchanged by a sink
    assert sum("getppid()" in line for line in trace_lines(out)) == 50
    # a second session gets another key; keys differ across daemon runs (boot id, start time, number)
    r = tracectl("run", "-qq", "-o", "/dev/null", "-e", "trace=getppid", "--sink", f"file:{tmp_path / 'run2.jsonl'}", "--", burst, 1, socket_path=daemon.sock)
    assert r.returncode == 0
    objs2 = _wait_lines(tmp_path / "run2.jsonl", lambda o: any(x["type"] == "exit" for x in o))
    assert {o["session"] for o in objs2}.isdisjoint(keys)




@pytest.fixture(scope="module")
def world_burst():
    """The tracee where the test user can run it (pytest's tmp is root's alone)."""
    from sink_helpers import build_burst

    d = tempfile.mkdtemp(prefix="tracerd-sink-burst-")
    yield build_burst(d)
    shutil.rmtree(d, ignore_errors=True)


def test_users_sink_acts_with_the_users_rights(daemon, sink_user, world_burst):
    burst = world_burst
    target = "/etc/tracerd-sink-test-refused"
    assert not os.path.exists(target)
    r = tracectl("run", "-e", "trace=getppid", "--sink", f"file:{target}", "--", burst, 1, socket_path=daemon.sock, user=sink_user)
    assert r.returncode != 0
    assert f"tracectl: --sink file:{target}: Permission denied" in r.stderr
    assert not os.path.exists(target)
    # a target the user may write: the client opens it, the daemon's sink process writes through the fd
    d = os.path.join(daemon.dir, "userdir")
    os.mkdir(d)
    os.chown(d, sink_user.pw_uid, sink_user.pw_gid)
    f = os.path.join(d, "mine.jsonl")
    r = tracectl("run", "-qq", "-o", "/dev/null", "-e", "trace=getppid", "--sink", f"file:{f}", "--", burst, 5, socket_path=daemon.sock, user=sink_user)
    assert r.returncode == 0, r.stderr
    objs = _wait_lines(f, lambda o: any(x["type"] == "exit" for x in o))
    assert sum(o.get("syscall") == "getppid" for o in objs) == 5
    assert os.stat(f).st_uid == sink_user.pw_uid


def test_users_path_without_fd_is_refused(daemon, sink_user):
    """A client that sends a path (not an fd) for a user's file sink: refused by the daemon."""
    code = (
        "import sys\n"
        "from tracerd.client._remote import Client\n"
        "from tracerd import RemoteError\n"
        f"c = Client({daemon.sock!r})\n"
        "try:\n"
        "    c.request('attach', {'pids': [1], 'plan': b'', 'sinks': [{'url': 'file:/etc/tracerd-sink-test-x', 'policy': 'block'}]})\n"
        "except Exception as e:\n"
        "    print(e); sys.exit(3)\n"
    )
    r = subprocess.run(["setpriv", f"--reuid={sink_user.pw_uid}", f"--regid={sink_user.pw_gid}", "--init-groups", PY, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 3, r.stdout + r.stderr
    assert not os.path.exists("/etc/tracerd-sink-test-x")


def test_restarted_daemon_delivers_its_spool(daemon, rsyslog, burst):
    rsyslog.clear("relp")
    rsyslog.stop()
    try:
        url = rsyslog.url("relp") + "?policy=spool&backoff_ms=5&backoff_max_ms=50&drain_ms=600000"
        r = tracectl("run", "-qq", "-o", "/dev/null", "-e", "trace=getppid", "--sink", url, "--", burst, 300, socket_path=daemon.sock)
        assert r.returncode == 0, r.stderr
        time.sleep(0.5)
        daemon.stop()
        segs = [os.path.join(root, n) for root, _d, files in os.walk(daemon.state) for n in files if n.endswith(".seg")]
        assert sum(os.path.getsize(p) for p in segs) > 0, "the spool holds the undelivered messages"
    finally:
        rsyslog.start()
    daemon.start()
    msgs = rsyslog.wait_messages("relp", lambda ms: any(m["msgid"] == "exit" for m in ms), limit=30)
    seqs = [int(m["params"]["seq"]) for m in msgs]
    assert seqs and set(seqs) == set(range(max(seqs) + 1))
    assert sum(m["msgid"] == "getppid" for m in msgs) >= 300


def _load(tmp_path, text):
    from tracerd.daemon._config import load

    p = tmp_path / "c.toml"
    p.write_text(text)
    return load(str(p))


def test_sink_tables(tmp_path):
    cfg = _load(tmp_path, '[spool]\nper_uid_bytes = 1000000\n[[sink]]\nname = "central"\nurl = "syslog+relp://127.0.0.1:2514"\nqueue = 100\nfull = "newest"\n'
                          '[[sink]]\nname = "files"\nurl = "file:/var/log/t.jsonl"\npolicy = "drop"\n')
    assert set(cfg.sinks) == {"central", "files"} and cfg.spool_per_uid == 1000000
    c = cfg.sinks["central"]
    assert c.policy == "spool" and c.opt("queue") == 100 and c.opt("full") == "newest" and c.name == "central"
    assert cfg.sinks["files"].policy == "drop"
    for bad, words in [
        ('[[sink]]\nurl = "file:/x"\n', "needs a name"),
        ('[[sink]]\nname = "a"\nurl = "file:/x"\n[[sink]]\nname = "a"\nurl = "file:/y"\n', "a second sink named 'a'"),
        ('[[sink]]\nname = "a"\nurl = "otlp://x:1"\n', "Fluent Forward and OTLP"),
        ('[[sink]]\nname = "a"\nurl = "file:/x"\nqueue = -1\n', "queue=-1"),
        ('[[sink]]\nname = "a"\nurl = "file:/x"\nbogus = 1\n', "unknown setting 'bogus'"),
        ('[spool]\ndir = "relative"\n', "absolute path"),
    ]:
        with pytest.raises(UsageError) as ei:
            _load(tmp_path, bad)
        assert words in str(ei.value) and "\n" not in str(ei.value)


def test_watch_sink(daemon, burst, tmp_path):
    """`tracectl watch ID --sink URL`: the daemon feeds a sink from a running session."""
    env = {k: v for k, v in os.environ.items() if k != "TRACERD_SOCKET"}
    run = subprocess.Popen([PY, "-c", "import sys; from tracerd.client import main; sys.exit(main())", "--socket", daemon.sock,
                            "run", "-qq", "-o", "/dev/null", "-e", "trace=getppid", "--", burst, "4000", "0", "1000"], env=env)
    try:
        sid = None
        deadline = time.monotonic() + 20
        while sid is None and time.monotonic() < deadline:
            r = tracectl("ls", "--json", socket_path=daemon.sock)
            rows = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
            sid = rows[0]["session"] if rows else None
            time.sleep(0.05)
        assert sid is not None
        f = tmp_path / "watch.jsonl"
        w = tracectl("watch", sid, "-qq", "-o", "/dev/null", "--sink", f"file:{f}?policy=block", socket_path=daemon.sock)
        assert w.returncode == 0, w.stderr
    finally:
        assert run.wait(60) == 0
    objs = _wait_lines(f, lambda o: any(x["type"] == "exit" for x in o))
    seqs = [o["seq"] for o in objs]
    assert len(seqs) > 10 and consecutive(seqs)  # from the moment the watch began, nothing missing
    assert objs[-1]["type"] == "exit"

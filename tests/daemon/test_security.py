"""Policy with a real unprivileged user (in group `tracing`), commands run
through setpriv: the kernel's own ptrace check decides, refusals name the rule."""

import json
import os
import subprocess
import sys
import time

import pytest

from tracerd.client import _remote

from daemon_helpers import PY, Daemon, as_user, make_bpf, make_plan, run_as_user

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (daemon, useradd, setpriv)")

PLAN = make_plan(["openat", "close"])

def user_request(path, op, arg):
    """One request through the client library (runs as the user)."""
    from tracerd import TracerdError

    try:
        if op == "attach":
            a = _remote.RemoteAttach(path, arg, plan=PLAN)
            a.start()
            n = 0
            for _first, count, _payload in a.frames():
                n += count
                if n >= 5:
                    break
            a.close()
            list(a.frames())
            a.close()
            return {"ok": True, "records": n, "end": a.end.reason}
        if op == "run":
            r = _remote.RemoteRun(path, arg, bpf=make_bpf(["openat"]), plan=make_plan(["openat"]))
            r.start()
            n = sum(c for _, c, _ in r.frames())
            r.close()
            return {"ok": True, "records": n, "status": r.status()}
        with _remote.Client(path) as c:
            return {"ok": True, "result": c.request(op, arg)}
    except TracerdError as exc:
        return {"ok": False, "error": f"tracectl: {exc}", "code": getattr(exc, "code", None)}


def as_user_request(user, path, op, arg):
    return run_as_user(user, user_request, path, op, arg)


@pytest.fixture
def user_daemon(test_user, sockdir):
    d = Daemon(os.path.join(sockdir, "tracerd.sock"), ["--socket-group", "tracing"])
    yield d
    d.stop()


def tracer_pid(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(l for l in f if l.startswith("TracerPid:")).split()[1])


@pytest.fixture
def root_spin(sleeper_bin):
    p = subprocess.Popen([sleeper_bin])
    yield p
    p.kill()
    p.wait()


@pytest.fixture
def user_spin(sleeper_bin, test_user):
    p = subprocess.Popen(as_user(test_user, [sleeper_bin]))
    yield p
    p.kill()
    p.wait()


def test_user_may_not_trace_root_processes(user_daemon, test_user, root_spin):
    r = as_user_request(test_user, user_daemon.path, "attach", [root_spin.pid])
    assert r == {"ok": False, "error": f"tracectl: not permitted to trace pid {root_spin.pid} (owned by uid 0)", "code": None}
    assert tracer_pid(root_spin.pid) == 0  # nothing of the target touched
    r = as_user_request(test_user, user_daemon.path, "attach", [1])
    assert r["error"] == "tracectl: not permitted to trace pid 1 (owned by uid 0)"


def test_user_may_trace_own_process(user_daemon, test_user, user_spin):
    r = as_user_request(test_user, user_daemon.path, "attach", [user_spin.pid])
    assert r["ok"] and r["records"] >= 5 and r["end"] == "detached", r
    assert user_spin.poll() is None and tracer_pid(user_spin.pid) == 0


def test_run_keeps_the_users_identity(user_daemon, test_user, tmp_path):
    out = f"/tmp/tracerd-id-{os.getpid()}"
    try:
        r = as_user_request(test_user, user_daemon.path, "run", ["/bin/sh", "-c", f"id -u > {out}; id -G >> {out}"])
        assert r["ok"] and r["records"] > 0 and r["status"] == 0, r
        uid, groups = open(out).read().split("\n")[:2]
        assert int(uid) == test_user.pw_uid
        assert "0" not in groups.split()  # no root group leaked from the daemon
    finally:
        if os.path.exists(out):
            os.unlink(out)


def test_users_do_not_see_or_control_others_sessions(user_daemon, test_user, root_spin):
    owner = _remote.RemoteAttach(user_daemon.path, [root_spin.pid], plan=PLAN)
    owner.start()
    try:
        sid = owner.session
        assert as_user_request(test_user, user_daemon.path, "list", {}) == {"ok": True, "result": {"sessions": []}}
        for op in ("watch", "stop", "detach"):
            r = as_user_request(test_user, user_daemon.path, op, {"session": sid})
            assert r["error"] == f"tracectl: no session {sid}" and r["code"] == "no-session"
        assert len(_remote.Client(user_daemon.path).request("list")["sessions"]) == 1  # still there
    finally:
        owner.close()
        list(owner.frames())
        owner.close()


def test_config_grant_and_limits(test_user, sockdir, tmp_path, root_spin, user_spin):
    cfg = tmp_path / "tracerd.toml"
    cfg.write_text('[limits]\nsessions_per_user = 1\n\n[grant]\ntrace_any = ["tracing"]\n')
    d = Daemon(os.path.join(sockdir, "g.sock"), ["--socket-group", "tracing", "--config", str(cfg)])
    try:
        # the grant lets group `tracing` trace a root process
        r = as_user_request(test_user, d.path, "attach", [root_spin.pid])
        assert r["ok"] and r["records"] >= 5, r
        # limit: hold one session open as the user, a second one is refused
        holder = _remote.RemoteAttach(d.path, [user_spin.pid], plan=make_plan(["openat"]))
        run_as_user_keep(test_user, holder)
        r = as_user_request(test_user, d.path, "attach", [root_spin.pid])
        assert r["code"] == "limit" and r["error"] == f"tracectl: uid {test_user.pw_uid} already owns 1 sessions (limit 1)"
        holder.close()
    finally:
        d.stop()


def run_as_user_keep(user, source):
    """Start `source` on a connection made as the user, kept open here: the
    connecting process's credentials are what SO_PEERCRED reports."""
    import socket as _s

    parent, child = _s.socketpair()

    def connect_and_pass():
        c = _s.socket(_s.AF_UNIX, _s.SOCK_STREAM)
        c.connect(source.socket_path)
        _s.send_fds(child, [b"x"], [c.fileno()])
        return True

    run_as_user(user, connect_and_pass)
    _, fds, _, _ = _s.recv_fds(parent, 1, 1)
    parent.close()
    child.close()
    sock = _s.socket(fileno=fds[0])
    client = _remote.Client.__new__(_remote.Client)
    _remote.Client._adopt(client, source.socket_path, sock)
    source.client = client
    r = client.request("attach", {"pids": source.pids, "plan": source.plan, "drop": False, "bpf_filter": ""})
    source.session = r["session"]


def test_bad_config_is_one_line(sockdir, tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[grant]\ntrace_any = ["no-such-group-xyz"]\n')
    r = subprocess.run([PY, "-m", "tracerd.daemon", "--socket", os.path.join(sockdir, "b.sock"), "--config", str(cfg)], capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1] == f"tracerd: {cfg}: grant.trace_any: unknown group 'no-such-group-xyz'"


def _limits_as_user(path, pid):
    from tracerd import RemoteError

    out = {}
    owner = _remote.RemoteAttach(path, [pid], plan=PLAN)
    owner.start()  # connection 1
    w1 = _remote.Client(path)  # connection 2
    w1.request("watch", {"session": owner.session})
    w2 = _remote.Client(path)  # connection 3
    try:
        w2.request("watch", {"session": owner.session})
    except RemoteError as exc:
        out["watch"] = [exc.code, str(exc)]
    try:
        _remote.Client(path)  # connection 4
    except RemoteError as exc:
        out["connect"] = [exc.code, str(exc)]
    return out


def test_watcher_and_connection_limits(test_user, sockdir, tmp_path, user_spin):
    cfg = tmp_path / "tracerd.toml"
    cfg.write_text("[limits]\nwatchers_per_user = 1\nconnections_per_user = 3\n")
    d = Daemon(os.path.join(sockdir, "l.sock"), ["--socket-group", "tracing", "--config", str(cfg)])
    try:
        uid = test_user.pw_uid
        out = run_as_user(test_user, _limits_as_user, d.path, user_spin.pid)
        assert out["watch"] == ["limit", f"uid {uid} already watches 1 sessions (limit 1)"]
        assert out["connect"] == ["limit", f"the daemon closed the connection: uid {uid} has 3 connections (limit 3)"]
        # the user's process is gone: its session ends, the daemon is fine
        c = _remote.Client(d.path)
        for _ in range(1000):
            if c.request("stats")["sessions"] == 0:
                break
            time.sleep(0.01)
        st = c.request("stats")
        assert (st["pid"], st["sessions"], st["sessions_total"], st["connections"], st["dropped"]) == (d.proc.pid, 0, 1, 1, 0)
    finally:
        d.stop()


def _run_with_foreign_pidfd(path, pid):
    from tracerd import TracerdError

    fd = os.pidfd_open(pid)  # needs no permission: the check must be the daemon's
    try:
        with _remote.Client(path) as c:
            c.request("run", {"pid": pid, "plan": PLAN}, fds=[fd])
        return "accepted"
    except TracerdError as exc:
        return str(exc)
    finally:
        os.close(fd)


def test_run_with_the_pidfd_of_someone_elses_process_is_refused(user_daemon, test_user, root_spin):
    msg = run_as_user(test_user, _run_with_foreign_pidfd, user_daemon.path, root_spin.pid)
    assert msg == f"not permitted to trace pid {root_spin.pid} (owned by uid 0)"
    assert tracer_pid(root_spin.pid) == 0 and root_spin.poll() is None

"""A session acts with its owner's rights, never the daemon's (issue 8): a
real unprivileged user, real setuid-root and setgid programs, the real daemon."""

import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time

import pytest

from tracerd import RemoteError, _wire
from tracerd import _protocol as P
from tracerd.client import _remote

from daemon_helpers import PY, Daemon, _world_dir, as_user, make_bpf, make_plan, records_of, run_as_user

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (daemon, useradd, setpriv, chmod u+s)")

PLAN = make_plan(["openat", "close"])

# Prints its effective ids, then whether it can read the file it is given.
IDS = r"""#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	int fd = open(argv[1], O_RDONLY);
	printf("euid=%d egid=%d read=%s\n", (int)geteuid(), (int)getegid(), fd >= 0 ? "ok" : strerror(errno));
	return 0;
}
"""


@pytest.fixture(scope="module")
def setid(tmp_path_factory):
    """A setuid-root and a setgid-root program the test user may run, and a
    file only root (user and group) may read."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc missing")
    d = pathlib.Path(_world_dir())
    (d / "ids.c").write_text(IDS)
    subprocess.run(["gcc", "-O2", "-o", str(d / "ids"), str(d / "ids.c")], check=True)
    for name, mode in (("suid", 0o4755), ("sgid", 0o2755)):
        shutil.copy(d / "ids", d / name)
        os.chown(d / name, 0, 0)
        os.chmod(d / name, mode)
    secret = d / "secret"
    secret.write_text("root only\n")
    os.chown(secret, 0, 0)
    os.chmod(secret, 0o640)
    out = d / "out"
    out.mkdir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def user_daemon(test_user, sockdir):
    d = Daemon(os.path.join(sockdir, "tracerd.sock"), ["--socket-group", "tracing"])
    yield d
    d.stop()


def _status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        return next(l for l in f if l.startswith(key + ":")).split()[1:]


def _attach_and_release(path, pids, release_fd, plan):
    """As the user: attach, release the shell (it then execs the setid
    programs), follow the session to its end. Returns what the worker was."""
    a = _remote.RemoteAttach(path, pids, plan=plan)
    a.start()
    worker = a.client.request("list")["sessions"][0]["worker"]
    ids = {"uid": _status(worker, "Uid"), "gid": _status(worker, "Gid"), "capeff": _status(worker, "CapEff")[0], "capprm": _status(worker, "CapPrm")[0]}
    os.write(release_fd, b"go\n")
    n = len(records_of(a.frames()))
    return {"records": n, "end": a.end.reason, "worker": ids}


def test_setid_exec_under_a_users_session_keeps_the_users_ids(user_daemon, test_user, setid):
    """F1: the user's shell, attached by the user through the daemon, execs a
    setuid-root and a setgid program: both run with the user's own ids and
    cannot read a root-only file (as under strace run by that user)."""
    out = setid / "out" / "ids.txt"
    d = str(setid)
    r, w = os.pipe()
    with open(out, "w") as f:
        os.chown(out, test_user.pw_uid, test_user.pw_gid)
        sh = subprocess.Popen(
            as_user(test_user, ["/bin/sh", "-c", f'read x; {d}/suid {d}/secret; {d}/sgid {d}/secret', "sh"]),
            stdin=r, stdout=f,
        )
    os.close(r)
    try:
        # setpriv execs the shell: wait for it, then attach as the user
        for _ in range(500):
            if open(f"/proc/{sh.pid}/comm").read().strip() == "sh":
                break
            time.sleep(0.01)
        res = run_as_user(test_user, _attach_and_release, user_daemon.path, [sh.pid], w, make_plan(["openat", "execve"]))
    finally:
        os.close(w)
        sh.wait(timeout=60)
    uid, gid = test_user.pw_uid, test_user.pw_gid
    assert res["end"] == "exited" and res["records"] > 0, res
    assert out.read_text().splitlines() == [
        f"euid={uid} egid={gid} read=Permission denied",
        f"euid={uid} egid={gid} read=Permission denied",
    ]
    # the worker ran as the user, with no capability at all
    assert res["worker"] == {"uid": [str(uid)] * 4, "gid": [str(gid)] * 4, "capeff": "0" * 16, "capprm": "0" * 16}, res


def _spin_as(user, spin, fast=False):
    return subprocess.Popen(as_user(user, [spin, *(["fast"] if fast else [])]) if user else [spin, *(["fast"] if fast else [])])


def _attach_as_user(path, pids, plan):
    from tracerd import TracerdError

    try:
        a = _remote.RemoteAttach(path, pids, plan=plan)
        a.start()
        r = {"ok": True, "joined": a.joined, "session": a.session}
        a.client.close()
        return r
    except TracerdError as exc:
        return {"ok": False, "error": str(exc), "code": getattr(exc, "code", None)}


def test_user_cannot_join_a_root_session_with_root_processes(user_daemon, test_user, sleeper_bin):
    """F2 and F12: root traces the user's U and its own R in one session; the
    user's attach of U with the same filter must not join it (it would
    receive R's records), and the refusal names neither session nor owner."""
    u, r = _spin_as(test_user, sleeper_bin), _spin_as(None, sleeper_bin)
    root = _remote.RemoteAttach(user_daemon.path, [u.pid, r.pid], plan=PLAN)
    try:
        time.sleep(0.05)  # setpriv has exec'd the spinner
        root.start()
        res = run_as_user(test_user, _attach_as_user, user_daemon.path, [u.pid], PLAN)
        assert res == {"ok": False, "error": f"pid {u.pid} is already traced by another session, which you may not watch", "code": P.E_CONFLICT}
        # another filter: the same refusal (not "session N with another filter")
        res = run_as_user(test_user, _attach_as_user, user_daemon.path, [u.pid], make_plan(["openat"]))
        assert res == {"ok": False, "error": f"pid {u.pid} is already traced by another session, which you may not watch", "code": P.E_CONFLICT}
        # stats: the user sees their own figures only (no session of theirs)
        st = run_as_user(test_user, lambda: _remote.Client(user_daemon.path).request("stats"))
        assert (st["sessions"], st["sessions_total"], st["records"], st["scope"]) == (0, 0, 0, f"uid {test_user.pw_uid}")
        assert "cpu_ns" not in st and "rss_kb" not in st
        st = _remote.Client(user_daemon.path).request("stats")
        assert st["sessions"] == 1 and st["scope"] == "daemon"
    finally:
        root.close()
        records_of(root.frames())
        root.close()
        for p in (u, r):
            p.kill()
            p.wait()


def _concurrent_attaches(path, pids, plan):
    """Send one attach per pid, each on its own connection, all before any
    reply is read."""
    clients = []
    for pid in pids:
        c = _remote.Client(path)
        c._send(P.Request(1, "attach", {"pids": [pid], "plan": plan, "drop": True}))
        clients.append(c)
    out = []
    for c in clients:
        ev = c._next()
        out.append("ok" if isinstance(ev, P.Reply) else ev.code)
    for c in clients:
        c.close()
    return out


def test_session_limit_holds_under_concurrent_attaches(test_user, sockdir, tmp_path, sleeper_bin):
    """F3: the per-user session limit is reserved before anything yields."""
    cfg = tmp_path / "t.toml"
    cfg.write_text("[limits]\nsessions_per_user = 2\n")
    d = Daemon(os.path.join(sockdir, "c.sock"), ["--socket-group", "tracing", "--config", str(cfg)])
    procs = [_spin_as(test_user, sleeper_bin) for _ in range(8)]
    try:
        time.sleep(0.05)
        out = run_as_user(test_user, _concurrent_attaches, d.path, [p.pid for p in procs], PLAN)
        assert sorted(out) == ["limit"] * 6 + ["ok"] * 2, out
    finally:
        for p in procs:
            p.kill()
            p.wait()
        d.stop()


def test_pids_per_request_are_bounded(user_daemon, test_user, sleeper_bin):
    """F6: one request cannot make the daemon work per pid without bound."""
    p = _spin_as(test_user, sleeper_bin)
    try:
        res = run_as_user(test_user, _attach_as_user, user_daemon.path, [p.pid] + list(range(2, 66)), PLAN)
        assert res == {"ok": False, "error": "attach names 65 pids (limit 64 per request)", "code": P.E_LIMIT}
    finally:
        p.kill()
        p.wait()


def test_a_refused_seize_names_the_pid_and_its_owner(user_daemon, test_user, sleeper_bin):
    """F1/F6: the kernel's EPERM at the seize (made as the user) is the
    refusal; the pid is untouched and the user's own process, seized in
    the same request first, is let go."""
    mine, root = _spin_as(test_user, sleeper_bin), _spin_as(None, sleeper_bin)
    try:
        time.sleep(0.05)
        res = run_as_user(test_user, _attach_as_user, user_daemon.path, [mine.pid, root.pid], PLAN)
        assert res == {"ok": False, "error": f"not permitted to trace pid {root.pid} (owned by uid 0)", "code": None}
        assert _status(root.pid, "TracerPid") == ["0"] and _status(mine.pid, "TracerPid") == ["0"]
        assert _remote.Client(user_daemon.path).request("list") == {"sessions": []}
    finally:
        for p in (mine, root):
            p.kill()
            p.wait()


def test_worker_memory_ceiling_for_non_root_owners(user_daemon, test_user, sleeper_bin):
    """F4 (daemon side): a non-root owner's worker has an address-space
    ceiling (limits.worker_memory_mib, 1024 MiB); root's has none."""
    mine, root = _spin_as(test_user, sleeper_bin), _spin_as(None, sleeper_bin)
    try:
        time.sleep(0.05)

        def held(path, pid):
            a = _remote.RemoteAttach(path, [pid], plan=PLAN)
            a.start()
            w = a.client.request("list")["sessions"][0]["worker"]
            with open(f"/proc/{w}/limits") as f:
                line = next(l for l in f if l.startswith("Max address space"))
            a.client.close()
            return line.split()[3:5]

        assert run_as_user(test_user, held, user_daemon.path, mine.pid) == [str(1024 << 20)] * 2
        assert held(user_daemon.path, root.pid) == ["unlimited", "unlimited"]
    finally:
        for p in (mine, root):
            p.kill()
            p.wait()


def _warm_workers(daemon_pid: int) -> set[int]:
    """The daemon's workers started ahead of need (daemon/_warm.py)."""
    out = set()
    with open(f"/proc/{daemon_pid}/task/{daemon_pid}/children") as f:
        for pid in map(int, f.read().split()):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as c:
                    if b"tracerd.native._idle" in c.read():
                        out.add(pid)
            except OSError:
                pass
    return out


def test_a_warm_worker_takes_the_owners_ids(user_daemon, test_user, sleeper_bin):
    """A session started on a worker the daemon started ahead of time (as
    root) acts with its owner's rights as a spawned one does: the user's ids
    and no capability before the seize, the memory ceiling too; another is
    started for the next session."""
    deadline = time.monotonic() + 10
    while not (warm := _warm_workers(user_daemon.proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(warm) == 1, "limits.warm_workers defaults to 1"
    mine = _spin_as(test_user, sleeper_bin)
    try:
        time.sleep(0.05)

        def ids(path, pid):
            a = _remote.RemoteAttach(path, [pid], plan=PLAN)
            a.start()
            w = a.client.request("list")["sessions"][0]["worker"]
            with open(f"/proc/{w}/limits") as f:
                limit = next(l for l in f if l.startswith("Max address space")).split()[3]
            out = {"pid": w, "uid": _status(w, "Uid"), "gid": _status(w, "Gid"), "capeff": _status(w, "CapEff")[0], "capprm": _status(w, "CapPrm")[0], "limit": limit}
            a.client.close()
            return out

        res = run_as_user(test_user, ids, user_daemon.path, mine.pid)
    finally:
        mine.kill()
        mine.wait()
    uid, gid = test_user.pw_uid, test_user.pw_gid
    assert res.pop("pid") in warm  # the warm worker, not a spawned one
    assert res == {"uid": [str(uid)] * 4, "gid": [str(gid)] * 4, "capeff": "0" * 16, "capprm": "0" * 16, "limit": str(1024 << 20)}, res
    deadline = time.monotonic() + 10
    while not (_warm_workers(user_daemon.proc.pid) - warm) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _warm_workers(user_daemon.proc.pid) - warm, "a new warm worker for the next session"


def test_only_the_owner_may_block_a_session(test_user, sockdir, tmp_path, sleeper_bin):
    """F13: a watch_any grantee's `--policy block` watch that never reads
    does not hold root's session: it is made a drop subscriber."""
    cfg = tmp_path / "w.toml"
    cfg.write_text('[limits]\nqueue_frames = 4\nqueue_bytes = 65536\n\n[grant]\nwatch_any = ["tracing"]\n')
    d = Daemon(os.path.join(sockdir, "w.sock"), ["--socket-group", "tracing", "--config", str(cfg)])
    spin = _spin_as(None, sleeper_bin, fast=True)
    owner = _remote.RemoteAttach(d.path, [spin.pid], plan=PLAN)
    parent, child = socket.socketpair()
    try:
        owner.start()

        def stalled_watch(path, sid, fd):
            c = _remote.Client(path)
            r = c.request("watch", {"session": sid, "policy": "block"})
            socket.send_fds(socket.socket(fileno=fd), [b"x"], [c.sock.fileno()])  # kept open, never read
            return r.get("policy")

        policy = run_as_user(test_user, stalled_watch, d.path, owner.session, child.fileno())
        _, fds, _, _ = socket.recv_fds(parent, 1, 1)
        owner.client.sock.settimeout(20)  # a held session would stall here: fail, do not hang
        n = 0
        for _first, count, _payload in owner.frames():
            n += count
            if n >= 20000:
                break
        assert n >= 20000 and policy == "drop"
        os.close(fds[0])
    finally:
        owner.close()
        records_of(owner.frames())
        owner.close()
        spin.kill()
        spin.wait()
        d.stop()


def test_a_client_leaving_before_its_reply_is_one_quiet_line(daemon):
    """F8: no traceback, no "internal error" for a client that hangs up."""
    for _ in range(30):
        c = _remote.Client(daemon.path)  # hello exchanged
        c._send(P.Request(1, "list", {}))
        c.sock.close()  # gone before the reply
    c = _remote.Client(daemon.path)
    for _ in range(500):  # until the daemon has served them all
        if c.request("stats")["connections"] == 1:
            break
        time.sleep(0.01)
    c.close()
    rc, err = daemon.stop()
    assert rc == 0
    assert "Traceback" not in err and "internal error" not in err, err[-2000:]
    assert err.count("left before its reply") <= 30


def test_a_run_ended_by_shutdown_gets_a_message(sockdir):
    d = Daemon(os.path.join(sockdir, "s.sock"))
    run = _remote.RemoteRun(d.path, ["/bin/sleep", "60"], bpf=make_bpf(["openat"]), plan=make_plan(["openat"]))
    run.start()
    try:
        d.proc.send_signal(signal.SIGTERM)
        records_of(run.frames())
        assert (run.end.reason, run.end.message) == ("shutdown", f"session {run.session}: the daemon shut down")
    finally:
        run.close()
        d.stop()


PLANT = "import pathlib; pathlib.Path({marker!r}).write_text('planted code ran')\n"


def _attach_works(path, pid):
    a = _remote.RemoteAttach(path, [pid], plan=PLAN)
    a.start()
    n = 0
    for _first, count, _payload in a.frames():
        n += count
        if n >= 3:
            break
    a.close()
    records_of(a.frames())
    a.close()
    return n


def test_daemon_started_from_a_checkout(sockdir, sleeper_bin):
    """F15: started from a checkout, the daemon leaves it for "/" and its
    workers run (a checkout once held a `tracerd` folder that shadowed the
    installed package for `python -m` in it)."""
    root = pathlib.Path(__file__).resolve().parents[2]
    assert (root / "pyproject.toml").exists()
    tracerd_bin = os.path.join(os.path.dirname(PY), "tracerd")
    d = Daemon(os.path.join(sockdir, "k.sock"), cmd=[tracerd_bin], cwd=str(root))
    spin = _spin_as(None, sleeper_bin)
    try:
        assert _attach_works(d.path, spin.pid) >= 3
        assert os.readlink(f"/proc/{d.proc.pid}/cwd") == "/"
    finally:
        spin.kill()
        spin.wait()
        d.stop()


def test_daemon_started_in_a_user_writable_directory_runs_no_planted_code(sockdir, sleeper_bin):
    """F15: root's daemon started in /tmp-like directory holding a planted
    tracerd/native/__main__.py: the workers never run it."""
    plant = pathlib.Path(_world_dir())
    os.chmod(plant, 0o1777)
    marker = plant / "ran"
    (plant / "tracerd" / "native").mkdir(parents=True)
    (plant / "tracerd" / "__init__.py").write_text("")
    (plant / "tracerd" / "native" / "__init__.py").write_text(PLANT.format(marker=str(marker)))
    (plant / "tracerd" / "native" / "__main__.py").write_text(PLANT.format(marker=str(marker)))
    tracerd_bin = os.path.join(os.path.dirname(PY), "tracerd")
    d = Daemon(os.path.join(sockdir, "p.sock"), cmd=[tracerd_bin], cwd=str(plant))
    spin = _spin_as(None, sleeper_bin)
    try:
        assert _attach_works(d.path, spin.pid) >= 3
        assert not marker.exists()
    finally:
        spin.kill()
        spin.wait()
        d.stop()
        shutil.rmtree(plant, ignore_errors=True)


def _connect_burst(path, n):
    """n connections made as fast as possible: how many were let in, how
    many refused for the rate, and how long it took."""
    let_in, refused = 0, 0
    t0 = time.monotonic()
    for _ in range(n):
        try:
            with _remote.Client(path):
                let_in += 1
        except RemoteError as exc:
            assert exc.code == P.E_LIMIT and "connects too often" in str(exc), str(exc)
            refused += 1
    return [let_in, refused, time.monotonic() - t0]


def test_a_connect_flood_is_refused_per_uid(test_user, sockdir, tmp_path):
    """F5: a user connecting faster than limits.connects_per_second is refused
    at once (a Error naming the limit), while root and the others are not."""
    cfg = tmp_path / "r.toml"
    cfg.write_text("[limits]\nconnects_per_second = 5\n")
    d = Daemon(os.path.join(sockdir, "r.sock"), ["--socket-group", "tracing", "--config", str(cfg)])
    try:
        let_in, refused, took = run_as_user(test_user, _connect_burst, d.path, 60)
        assert refused > 0
        # the bucket: 10 at once (two seconds' worth), then 5 per second
        assert let_in <= 10 + 5 * took + 1, (let_in, took)
        # root is not rate-limited: all of its connections get in meanwhile
        assert _connect_burst(d.path, 30)[:2] == [30, 0]
    finally:
        d.stop()

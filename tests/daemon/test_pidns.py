"""--pidns-translation from a pid namespace of its own (`unshare -Urpf`, as
strace's test suite runs it), embedded and through a real daemon alike: the
records number tasks as the client's namespace does, so every `[pid N]` and
every `/* N in strace's PID NS */` is the client's number, which the traced
program itself reports (progs/pidns.c), never the daemon's."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from daemon_helpers import PY
from tracerd._errors import RemoteError
from tracerd.client import _remote

PROG = Path(__file__).parent / "progs" / "pidns.c"
NS = r"(?: /\* (\d+) in strace's PID NS \*/)?"


def _unshare_ok(flags: str) -> bool:
    if not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", flags, "true"], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def prog(tmp_path_factory):
    if not shutil.which("gcc"):
        pytest.skip("gcc missing")
    if not _unshare_ok("-Urpf"):
        pytest.skip("unshare -Urpf not permitted here")
    exe = tmp_path_factory.mktemp("pidns") / "pidns"
    subprocess.run(["gcc", "-O0", "-w", "-pthread", "-o", str(exe), str(PROG)], check=True)
    os.chmod(exe.parent, 0o755)
    return exe


def _trace(prog, mode: list[str], out: Path, what: tuple = ("-e", "trace=getpid,gettid,fcntl,rt_sigqueueinfo")):
    """Each task's lines in a file of its own (-ff: no line is split by
    another task's), named by its pid as the trace numbers it."""
    cmd = [PY, "-c", "import sys; from tracerd.client import main; sys.exit(main())", *mode,
           "run", "-ff", "-o", str(out / "t"), "--pidns-translation", *what, str(prog)]
    r = subprocess.run(["unshare", "-Urpf", *cmd], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL, env={k: v for k, v in os.environ.items() if k != "TRACERD_SOCKET"})
    assert r.returncode == 0, r.stderr
    facts = {k: int(v) for k, v in re.findall(r"(ME|A|B) (\d+)", r.stdout)}
    files = {int(f.name.split(".")[1]): f.read_text().splitlines() for f in out.iterdir() if f.name.startswith("t.")}
    return facts, files, r.stderr


def _find(lines, pattern: str):
    rx = re.compile(pattern)
    for text in lines:
        m = rx.fullmatch(text)
        if m:
            return m
    raise AssertionError(f"no line matches {pattern!r} in: {lines}")


def _check(prog, mode, out: Path):
    facts, files, err = _trace(prog, mode, out)
    assert "PID NS" not in err
    me, a, b = facts["ME"], facts["A"], facts["B"]
    assert {me, a, b} < set(files), (facts, sorted(files), err)
    # the command: in the client's namespace, no comment
    m = _find(files[me], r"getpid\(\) += (\d+)" + NS)
    assert int(m.group(1)) == me and m.group(2) is None
    # B, the init of the namespace below: its lines under the client's number
    # for it, which is also the one each comment names
    lines = files[b]
    assert int(_find(lines, r"getpid\(\) += 1" + NS).group(1)) == b
    assert int(_find(lines, r"fcntl\(0, F_SETOWN, 1" + NS + r"\) += 0").group(1)) == b
    assert int(_find(lines, r"fcntl\(0, F_GETOWN\) += 1" + NS).group(1)) == b  # the return: the owner
    m = _find(lines, r"rt_sigqueueinfo\(1" + NS + r", SIGUSR1, \{si_signo=SIGUSR1, si_code=SI_QUEUE, si_pid=1" + NS + r", si_uid=0\}\) += 0")
    assert int(m.group(1)) == b and int(m.group(2)) == b
    # B's thread: its own tid (a thread's pidfd, PIDFD_THREAD), ours beside,
    # in a file named by that same number
    (t,) = set(files) - {me, a, b}
    assert int(_find(files[t], r"gettid\(\) += 2" + NS).group(1)) == t


def test_pidns_translation_embedded(prog, tmp_path):
    _check(prog, ["--embedded"], tmp_path)


def test_kcmp_fds_of_the_caller_known_by_its_namespace_number(prog, tmp_path):
    """kcmp's pids are B's own number (1) in its namespace: its fds are the
    caller's, named at the stop under -y as strace names them."""
    facts, files, err = _trace(prog, ["--embedded"], tmp_path, ("-y", "-e", "trace=kcmp"))
    m = _find(files[facts["B"]], r"kcmp\(1" + NS + r", 1" + NS + r", KCMP_FILE, (\d+)</dev/null>, (\d+)</dev/null>\) += 0")
    assert int(m.group(1)) == facts["B"] and m.group(3) == m.group(4)


def test_pidns_translation_through_the_daemon(prog, daemon, tmp_path):
    """The daemon runs in the root pid namespace; the client's numbers show
    (the files' names, the lines, the notes), the daemon's do not."""
    _check(prog, ["--socket", daemon.path], tmp_path)


def test_run_refuses_a_number_of_another_namespace_level(daemon, prog):
    """A client in the daemon's namespace naming its command by the number a
    namespace below gives it (the pidfd's NSpid holds it too) is refused:
    the number must be the command's at the client's own level."""
    inner = subprocess.Popen(["unshare", "-pf", "--kill-child", "sleep", "60"], stdin=subprocess.DEVNULL)
    try:
        # the sleep: a child of unshare, pid 1 of its namespace
        child = None
        for _ in range(200):
            try:
                with open(f"/proc/{inner.pid}/task/{inner.pid}/children") as f:
                    kids = f.read().split()
            except OSError:
                kids = []
            if kids:
                child = int(kids[0])
                break
            time.sleep(0.01)
        assert child is not None
        pfd = os.pidfd_open(child)
        try:
            with open(f"/proc/self/fdinfo/{pfd}") as f:
                ids = next(line.split()[1:] for line in f if line.startswith("NSpid:"))
            assert len(ids) == 2 and ids[1] == "1"
            with _remote.Client(daemon.path) as c:
                with pytest.raises(RemoteError, match="not a pidfd of pid 1"):
                    c.request("run", {"pid": 1, "plan": b""}, fds=[pfd])
        finally:
            os.close(pfd)
    finally:
        inner.kill()
        inner.wait()


@pytest.mark.parametrize("through", ["embedded", "daemon"])
def test_fd_paths_from_a_pid_namespace_of_its_own(prog, request, tmp_path, through):
    """-y under `unshare -Urpf`: /proc is the outer namespace's, where the
    tracer's numbers for its tracees name other processes; the fds are
    named from each task's own /proc entry all the same."""
    mode = ["--embedded"] if through == "embedded" else ["--socket", request.getfixturevalue("daemon").path]
    f = tmp_path / "named"
    f.write_text("x\n")
    os.chmod(tmp_path, 0o755)
    cmd = [PY, "-c", "import sys; from tracerd.client import main; sys.exit(main())", *mode,
           "run", "-y", "-e", "trace=read", "cat", str(f)]
    r = subprocess.run(["unshare", "-Urpf", *cmd], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                       env={k: v for k, v in os.environ.items() if k != "TRACERD_SOCKET"})
    assert r.returncode == 0, r.stderr
    assert re.search(rf'^read\(3<{re.escape(str(f))}>, "x\\n", \d+\) += 2$', r.stderr, re.M), r.stderr


ATTACH = r'''
sh -c 'while [ ! -e "$0" ]; do kill -0 $$; sleep 0.02; done' "$MARK" &
P=$!
echo "P=$P"
"$PY" -c "import sys; from tracerd.client import main; sys.exit(main())" --socket "$SOCK" attach -p $P -e trace=kill 2>"$OUT" &
T=$!
until grep -q "kill($P, 0)" "$OUT" 2>/dev/null; do sleep 0.02; done
touch "$MARK"
wait $T
'''


def test_attach_from_a_pid_namespace_of_its_own(daemon, tmp_path):
    """attach -p N from a client in a pid namespace of its own names its N
    (found by its namespace, not the daemon's N), and the records number
    it as the client does."""
    if not _unshare_ok("-Urpf"):
        pytest.skip("unshare -Urpf not permitted here")
    os.chmod(tmp_path, 0o777)
    env = {k: v for k, v in os.environ.items() if k != "TRACERD_SOCKET"}
    env.update(PY=PY, SOCK=daemon.path, MARK=str(tmp_path / "mark"), OUT=str(tmp_path / "out"))
    r = subprocess.run(["unshare", "-Urpf", "sh", "-c", ATTACH], capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL, env=env)
    out = (tmp_path / "out").read_text()
    assert r.returncode == 0, r.stderr + out
    p = int(re.search(r"P=(\d+)", r.stdout).group(1))
    assert f"Process {p} attached" in out, out
    assert re.search(rf"^kill\({p}, 0\) += 0$", out, re.M), out
    assert re.search(r"^\+\+\+ exited with 0 \+\+\+$", out, re.M), out


def test_a_client_in_a_pid_namespace_sees_only_its_own_sessions(daemon, tmp_path):
    """Another namespace's session numbers tasks the client cannot see: it
    is not listed to it (root's own client, in the daemon's namespace, sees
    every session, and sees the namespaced one's pids as it numbers them)."""
    if not _unshare_ok("-Urpf"):
        pytest.skip("unshare -Urpf not permitted here")
    env = {k: v for k, v in os.environ.items() if k != "TRACERD_SOCKET"}
    tc = [PY, "-c", "import sys; from tracerd.client import main; sys.exit(main())", "--socket", daemon.path]
    mark = tmp_path / "mark"
    os.chmod(tmp_path, 0o777)
    ours = subprocess.Popen([*tc, "run", "-e", "trace=none", "sh", "-c", 'while [ ! -e "$0" ]; do sleep 0.02; done', str(mark)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        def sessions(prefix=()):
            r = subprocess.run([*prefix, *tc, "ls", "--json"], capture_output=True, text=True, timeout=60, env=env)
            assert r.returncode == 0, r.stderr
            return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]

        while not sessions():
            time.sleep(0.02)
        assert sessions(["unshare", "-Urpf"]) == []
        # nor the daemon's own pid
        r = subprocess.run(["unshare", "-Urpf", *tc, "stats", "--json"], capture_output=True, text=True, timeout=60, env=env)
        assert r.returncode == 0 and json.loads(r.stdout)["pid"] == 0, r.stdout + r.stderr
        # its own session, from the same namespace: listed, by its numbers
        script = ('"$@" run -e trace=none sh -c \'echo $$ >"$0.pid"; while [ ! -e "$0" ]; do sleep 0.02; done\' "$MARK" & '
                  'until "$@" ls --json | grep -q session; do sleep 0.02; done; "$@" ls --json; touch "$MARK"; wait')
        r = subprocess.run(["unshare", "-Urpf", "sh", "-c", script, "sh", *tc], capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL, env=dict(env, MARK=str(mark)))
        assert r.returncode == 0, r.stderr
        listed = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        assert len(listed) == 1 and listed[0]["worker"] == 0, listed
        # its command as the command numbers itself ($$ there)
        assert listed[0]["pids"] == [int((tmp_path / "mark.pid").read_text())], listed
    finally:
        mark.touch()
        ours.wait(timeout=60)


def test_a_sink_finds_the_tasks_of_a_session_numbered_by_a_namespace_below():
    """A sink process (in the daemon's namespace) decoding a session whose
    records number tasks as the client's namespace does looks their /proc
    entries up in that namespace: pid 1 there is the command, not our init."""
    from tracerd._wire import Rec
    from tracerd.client.sinks._event import SessionFormatter

    if not _unshare_ok("-pf"):
        pytest.skip("unshare -pf not permitted here")
    inner = subprocess.Popen(["unshare", "-pf", "--kill-child", "sleep", "60"], stdin=subprocess.DEVNULL)
    try:
        child = None
        while child is None and inner.poll() is None:
            try:
                with open(f"/proc/{inner.pid}/task/{inner.pid}/children") as f:
                    kids = f.read().split()
            except OSError:
                kids = []
            child = int(kids[0]) if kids else None
            time.sleep(0.01)
        assert child is not None
        # the sleep's comm shows once it has exec'd
        while open(f"/proc/{child}/comm").read().strip() != "sleep":
            time.sleep(0.01)
        st = os.stat(f"/proc/{child}/ns/pid")
        with open("/proc/self/status") as f:
            ours = next(len(line.split()) - 2 for line in f if line.startswith("NSpid:"))
        exited = [int(Rec.EXIT), 0, 0, 1, 1, 0]  # as the client's namespace numbers it: 1
        ev = SessionFormatter("k", {"uid": 0, "pidns": [ours + 1, st.st_dev, st.st_ino]}).event(exited)
        assert (ev["pid"], ev["comm"], ev["exe"]) == (1, "sleep", os.path.realpath(shutil.which("sleep")))
        plain = SessionFormatter("k", {"uid": 0}).event(exited)
        assert plain["comm"] != "sleep"  # our pid 1: another process
    finally:
        inner.kill()
        inner.wait()


THREADS = r'''
import os, sys, threading, time
mark = sys.argv[1]
tids = []
def f():
    tids.append(threading.get_native_id())
    while not os.path.exists(mark):
        os.getppid()
        time.sleep(0.02)
ts = [threading.Thread(target=f) for _ in range(3)]
[t.start() for t in ts]
while len(tids) < 3:
    time.sleep(0.01)
with open(mark + ".tmp", "w") as out:
    out.write(" ".join(map(str, tids)))
os.rename(mark + ".tmp", mark + ".ready")  # its threads as it numbers them
[t.join() for t in ts]
'''

ATTACH_THREADS = r'''
"$PY" -c "$PROG" "$MARK" &
P=$!
echo "P=$P"
until [ -e "$MARK.ready" ]; do sleep 0.02; done
"$PY" -c "import sys; from tracerd.client import main; sys.exit(main())" $MODE -f -p $P -e trace=getppid 2>"$OUT" &
T=$!
until [ "$(grep -c 'getppid()' "$OUT" 2>/dev/null)" -ge 6 ]; do sleep 0.02; done
touch "$MARK"
wait $T
'''


@pytest.mark.parametrize("through", ["embedded", "daemon"])
def test_attach_threads_from_a_pid_namespace_of_its_own(request, tmp_path, through):
    """attach -p of a process with threads from `unshare -Urpf`: its threads
    are found (embedded: in /proc's entry for it, not /proc/N of the outer
    namespace's N) and each is numbered as the client numbers it."""
    if not _unshare_ok("-Urpf"):
        pytest.skip("unshare -Urpf not permitted here")
    mode = "--embedded" if through == "embedded" else "--socket " + request.getfixturevalue("daemon").path
    os.chmod(tmp_path, 0o777)
    mark = tmp_path / "mark"
    env = {k: v for k, v in os.environ.items() if k != "TRACERD_SOCKET"}
    env.update(PY=PY, MODE=mode, PROG=THREADS, MARK=str(mark), OUT=str(tmp_path / "out"))
    r = subprocess.run(["unshare", "-Urpf", "sh", "-c", ATTACH_THREADS], capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL, env=env)
    out = (tmp_path / "out").read_text()
    assert r.returncode == 0, r.stderr + out
    p = int(re.search(r"P=(\d+)", r.stdout).group(1))
    theirs = {int(t) for t in (tmp_path / "mark.ready").read_text().split()}
    assert f"Process {p} attached with 4 threads" in out, out
    tids = {int(t) for t in re.findall(r"^\[pid +(\d+)\] getppid\(\) += 1$", out, re.M)}
    assert tids and tids <= theirs, (theirs, out)

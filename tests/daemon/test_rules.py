"""Standing rules: the real daemon, the real exec catcher (fanotify exec
permission events), real tracees. Marks are placed only on this module's own
files (inode marks) or on a private tmpfs mounted for the test (filesystem
marks), never on a filesystem the host runs from."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest
from daemon_helpers import PY, Daemon, tracectl

from tracerd import _wire
from tracerd._protocol import End, Records

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (fanotify exec permission events, CAP_SYS_ADMIN)"),
    pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc missing"),
]

# Opens NAME.parent, forks a child that opens NAME.child; with "wait",
# first waits for a byte on stdin (a process already running).
PROG = r"""
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	char p[512], c;
	int fd, st = 0;
	pid_t pid;

	if (argc > 2 && !strcmp(argv[2], "wait") && read(0, &c, 1) < 0)
		return 2;
	snprintf(p, sizeof(p), "%s.parent", argv[1]);
	fd = open(p, O_RDONLY);
	if (fd >= 0)
		close(fd);
	pid = fork();
	if (pid == 0) {
		snprintf(p, sizeof(p), "%s.child", argv[1]);
		fd = open(p, O_RDONLY);
		_exit(fd >= 0 ? 0 : 3);
	}
	waitpid(pid, &st, 0);
	return WEXITSTATUS(st);
}
"""


@pytest.fixture(scope="module")
def work():
    d = tempfile.mkdtemp(prefix="tracerd-rules-")
    os.chmod(d, 0o755)
    subprocess.run(["gcc", "-O2", "-o", os.path.join(d, "prog"), "-x", "c", "-"], input=PROG.encode(), check=True)
    for name in ("other", "third"):  # distinct inodes: each rule marks its own
        shutil.copy(os.path.join(d, "prog"), os.path.join(d, name))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def write_config(path, text):
    with open(path + ".new", "w") as f:
        f.write(text)
    os.chmod(path + ".new", 0o644)
    os.replace(path + ".new", path)


def rule(name, exe, trace="-f -e trace=openat,execve", extra=""):
    return f'[[rule]]\nname = "{name}"\nexe = "{exe}"\ntrace = "{trace}"\n{extra}\n'


CATCHER = "[catcher]\nhold_ms = {hold}\nidle_workers = 1\n"


def start(work, text, hold=2000):
    cfg = os.path.join(work, "tracerd.toml")
    write_config(cfg, CATCHER.format(hold=hold) + text)
    sock = os.path.join(work, f"d{time.monotonic_ns()}", "tracerd.sock")
    return Daemon(sock, extra=("--config", cfg)), cfg


def rules_of(d):
    r = tracectl("rules", "--json", socket_path=d.path)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    return {x["name"]: x for x in lines if "name" in x}, lines[-1]


class Follower:
    """`watch --rule` over the protocol: every session of the rule from its
    first record; payloads kept raw (the paths are in the fetched memory)."""

    def __init__(self, path, name):
        from tracerd.client._remote import Client

        self.c = Client(path)
        self.c.sock.settimeout(20)  # bounded: a test never hangs here
        self.info = self.c.request("watch", {"rule": name, "policy": "block"})
        self.payload = b""
        self.records = []

    def until_ended(self, n=1):
        ended = 0
        for ev in self.c.events():
            if isinstance(ev, Records):
                self.payload += ev.payload
                self.records += _wire.iter_records(ev.payload)
            elif isinstance(ev, End):
                ended += 1
                if ended >= n:
                    return
        raise AssertionError("the daemon closed the connection")

    def close(self):
        self.c.close()


def test_new_process_caught_from_exec(work):
    prog = os.path.join(work, "prog")
    d, _ = start(work, rule("r1", prog))
    try:
        f = Follower(d.path, "r1")
        marker = os.path.join(work, "m-new")
        # started after the daemon; waits for a byte on stdin once its
        # image runs, so that its mode can be looked at meanwhile
        p = subprocess.Popen([prog, marker, "wait"], stdin=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with open(f"/proc/{p.pid}/status") as st:
                    filtered = "Seccomp:\t2\n" in st.read()  # SECCOMP_MODE_FILTER
                if filtered:
                    break
                time.sleep(0.05)
            assert filtered
            # the rule gives no mode: a process with CAP_SYS_ADMIN caught at
            # exec gets the filter, injected before its first instruction
            procs = rules_of(d)[0]["r1"]["processes"]
            assert [(x["pid"], x["how"], x["mode"], x["refusal"], x["state"]) for x in procs] == [(p.pid, "exec", "seccomp-bpf", "", "tracing")], procs
            p.stdin.write(b"x")
            p.stdin.close()
            assert p.wait(timeout=30) == 3  # the child's open failed: no such marker file, as expected
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        f.until_ended()
        f.close()
        types = [r[0] for r in f.records]
        # the stream starts at the exec: the exec record comes before any
        # syscall of the new image, and the loader's first openat is there
        assert _wire.Rec.EXEC in types or _wire.Rec.SYSCALL in types
        assert b"/etc/ld.so.cache" in f.payload  # ld.so's first openat
        assert f.payload.index(b"/etc/ld.so.cache") < f.payload.index((marker + ".parent").encode())
        assert (marker + ".child").encode() in f.payload  # children are followed
        rs, meta = rules_of(d)
        assert meta["catcher"]["matched"] >= 1 and meta["catcher"]["answered"] >= 1, meta
        assert meta["catcher"]["marks"] == [[prog, "inode"]]
        # an exec no rule matches is not held (not even seen: inode marks)
        other = os.path.join(work, "other")
        assert subprocess.run([other, os.path.join(work, "m-x")], timeout=30).returncode == 3
    finally:
        rc, err = d.stop()
    assert rc == 0, err
    assert "rule r1: pid" in err and "traced by session" in err, err


def _jsonl(path, pred, limit=20.0):
    """The JSON lines of `path` once `pred` holds of them (bounded wait)."""
    deadline = time.monotonic() + limit
    while True:
        try:
            with open(path) as f:
                objs = [json.loads(line) for line in f.read().splitlines()]
        except FileNotFoundError:
            objs = []
        if pred(objs) or time.monotonic() > deadline:
            return objs
        time.sleep(0.05)


def test_rule_delivers_to_its_sink(work):
    """A rule's session goes to the [[sink]] it names, from the exec on:
    every record of it, in order, with the rule's name; `tracectl rules`
    gives the sink's figures."""
    prog = os.path.join(work, "prog")
    out = os.path.join(work, "rule-sink.jsonl")
    state = os.path.join(work, "state-rs")
    # "down": a collector that refuses every connection (a loopback port
    # bound here and never listened on): the sink spools what it gets
    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))
    down = f"syslog+tcp://127.0.0.1:{refused.getsockname()[1]}"
    sink = (
        f'[spool]\ndir = "{state}"\n[[sink]]\nname = "f"\nurl = "file:{out}"\npolicy = "block"\n'
        f'[[sink]]\nname = "down"\nurl = "{down}"\npolicy = "spool"\ndrain_ms = 100\n'
    )
    d, _ = start(work, sink + rule("rs", prog, extra='sinks = ["f", "down"]'))
    try:
        # the socket's path appears only once the rules are in force: the
        # catcher runs already, and an exec from now on is caught
        r = tracectl("rules", "--json", socket_path=d.path)
        assert r.returncode == 0 and json.loads(r.stdout.splitlines()[-1])["catcher"]["pid"], r.stdout + r.stderr
        marker = os.path.join(work, "m-sink")
        # started after the daemon: caught at its exec
        r = subprocess.run([prog, marker], timeout=30)
        assert r.returncode == 3
        objs = _jsonl(out, lambda o: sum(x["type"] == "exit" for x in o) >= 2)  # the child's and its own
        if not objs:
            d.errfile.seek(0)
            raise AssertionError("the sink's file got nothing; the daemon said:\n" + d.errfile.read().decode()[-4000:])
        assert {o["session"] for o in objs} == {objs[0]["session"]}  # one session
        seqs = [o["seq"] for o in objs]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs  # consecutive: nothing lost
        assert seqs[0] == 0, seqs  # from its first record
        assert {o["rule"] for o in objs} == {"rs"}
        texts = [o.get("text", "") for o in objs]
        opens = [i for i, o in enumerate(objs) if o.get("syscall") == "openat"]
        # the loader's first openat is the session's first openat, before the program's own
        assert opens and "/etc/ld.so.cache" in texts[opens[0]], texts
        assert any(marker + ".parent" in texts[i] for i in opens[1:]), texts
        assert any(marker + ".child" in texts[i] for i in opens), texts  # its child is followed
        exits = [o for o in objs if o["type"] == "exit"]
        assert len(exits) == 2 and objs[-1]["type"] == "exit", objs[-3:]  # the child's, then the process's
        # the rule's sessions are over: nothing waits for the sink, it lost nothing
        rs, _ = rules_of(d)
        f = rs["rs"]["sink_stats"]["f"]
        assert f == {"url": f"file:{out}", "policy": "block", "lag_bytes": 0, "spool_bytes": 0, "lost": 0, "running": True}, f
        # the refused collector's sink holds the session on disk, all of it
        # (segments: [u32 length][msgpack event] records)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            spool = os.path.join(state, "spool", "sink-down")
            segs = [os.path.join(spool, n) for n in sorted(os.listdir(spool)) if n.endswith(".seg")]
            data = b""
            for n in segs:
                with open(n, "rb") as seg:
                    data += seg.read()
            events, pos = 0, 0
            while pos + 4 <= len(data):
                pos += 4 + int.from_bytes(data[pos : pos + 4], "little")
                events += 1
            st = rules_of(d)[0]["rs"]["sink_stats"]["down"]
            if events == len(objs) and st["spool_bytes"] == len(data):
                break
            time.sleep(0.05)
        assert events == len(objs) and st["spool_bytes"] == len(data) > 0, (st, events, len(objs), len(data))
        assert st["policy"] == "spool" and st["lost"] == 0 and st["lag_bytes"] == 0 and st["running"], st
        spooled = len(data)
        text = tracectl("rules", socket_path=d.path)
        assert f"  sink f (file:{out}, block): lag 0 bytes, spool 0 bytes, 0 lost\n" in text.stdout, text.stdout
        assert f"  sink down ({down}, spool): lag 0 bytes, spool {spooled} bytes, 0 lost\n" in text.stdout, text.stdout
    finally:
        rc, err = d.stop()
        refused.close()
    assert rc == 0, err


def test_running_process_attached_at_start_and_sighup(work):
    prog, other = os.path.join(work, "prog"), os.path.join(work, "other")
    marker = os.path.join(work, "m-run")
    # already running before the daemon: waits for a byte on stdin
    p1 = subprocess.Popen([prog, marker, "wait"], stdin=subprocess.PIPE)
    p2 = subprocess.Popen([other, marker + "2", "wait"], stdin=subprocess.PIPE)
    third = os.path.join(work, "third")
    p3 = subprocess.Popen([third, marker + "3", "wait"], stdin=subprocess.PIPE)
    # r1 gives no mode: a process found running is never injected (the
    # filter is irreversible); rx asks for seccomp-bpf itself
    # r1 names a sink (delivery itself: test_rule_delivers_to_its_sink)
    sink = f'[spool]\ndir = "{work}/state"\n[[sink]]\nname = "central"\nurl = "file:{work}/central.jsonl"\n'
    d, cfg = start(work, sink + rule("r1", prog, extra='sinks = ["central"]') + rule("rx", third, extra='mode = "seccomp-bpf"'))
    try:
        rs, _ = rules_of(d)
        procs = rs["r1"]["processes"]
        assert [(x["pid"], x["how"], x["mode"]) for x in procs] == [(p1.pid, "running", "ptrace")], procs
        assert 'unless the rule sets mode = "seccomp-bpf"' in procs[0]["refusal"], procs
        assert procs[0]["sinks_note"] == "", procs  # its sink takes its records
        procs = rs["rx"]["processes"]
        assert [(x["pid"], x["how"], x["mode"], x["refusal"]) for x in procs] == [(p3.pid, "running", "seccomp-bpf", "")], procs
        with open(f"/proc/{p3.pid}/status") as st:
            assert "Seccomp:\t2\n" in st.read()
        text = tracectl("rules", socket_path=d.path)
        assert text.returncode == 0 and 'not injected unless the rule sets mode = "seccomp-bpf"' in text.stdout, text.stdout
        ls = tracectl("ls", "--json", socket_path=d.path)
        sessions = [json.loads(x) for x in ls.stdout.splitlines()]
        assert any(s["pids"] == [p1.pid] and s["filter"].startswith("[rule r1]") for s in sessions), sessions

        # SIGHUP: r1 and rx removed (rx's injected process stays
        # pass-through), r2 added: the running `other` is attached, its
        # records going to a [[sink]] the reload added
        added = os.path.join(work, "added.jsonl")
        sink2 = f'[spool]\ndir = "{work}/state"\n[[sink]]\nname = "added"\nurl = "file:{added}"\n'
        write_config(cfg, CATCHER.format(hold=2000) + sink2 + rule("r2", other, extra='mode = "ptrace"\nsinks = ["added"]'))
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            rs, meta = rules_of(d)
            if "r2" in rs and rs["r2"]["processes"] and "r1" not in rs:
                break
            time.sleep(0.05)
        assert list(rs) == ["r2"], rs
        assert [(x["pid"], x["how"], x["mode"]) for x in rs["r2"]["processes"]] == [(p2.pid, "running", "ptrace")]
        assert meta["catcher"]["marks"] == [[other, "inode"]]

        # a broken config is refused in one line; the old stays in force
        write_config(cfg, CATCHER.format(hold=2000) + sink2 + rule("r3", other, trace="-e trace=nosuchcall"))
        d.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        rs, _ = rules_of(d)
        assert list(rs) == ["r2"]

        # both processes go on, traced or passed through, and finish normally
        for p in (p1, p2, p3):
            p.stdin.write(b"x")
            p.stdin.close()
        assert p1.wait(timeout=30) == 3 and p2.wait(timeout=30) == 3 and p3.wait(timeout=30) == 3
        objs = _jsonl(added, lambda o: any(x["type"] == "exit" for x in o))
        assert objs and {o["rule"] for o in objs} == {"r2"}, objs[-3:]
        assert any(marker + "2" in o.get("text", "") for o in objs), objs
    finally:
        for p in (p1, p2, p3):
            if p.poll() is None:
                p.kill()
                p.wait()
        rc, err = d.stop()
    assert rc == 0, err
    assert "configuration refused, the old one stays in force" in err and "invalid system call 'nosuchcall'" in err, err
    assert [line for line in err.splitlines() if "configuration refused" in line][0].count("\n") == 0


def test_config_must_be_roots_alone(work):
    cfg = os.path.join(work, "loose.toml")
    write_config(cfg, rule("r", os.path.join(work, "prog")))
    os.chmod(cfg, 0o646)
    r = subprocess.run([PY, "-m", "tracerd.daemon", "--socket", os.path.join(work, "x.sock"), "--config", cfg], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert r.stderr.strip() == f"tracerd: {cfg}: refused: the configuration must not be writable by others (mode 0646)"
    os.chmod(cfg, 0o644)
    os.chown(cfg, 65534, 0)
    r = subprocess.run([PY, "-m", "tracerd.daemon", "--socket", os.path.join(work, "x.sock"), "--config", cfg], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert r.stderr.strip() == f"tracerd: {cfg}: refused: the configuration must be owned by root (it is owned by uid 65534)"
    os.unlink(cfg)


def test_stopped_daemon_does_not_freeze_execs(work):
    third = os.path.join(work, "third")
    d, _ = start(work, rule("r1", third), hold=300)
    try:
        assert rules_of(d)[1]["catcher"]["pid"]  # serving, the catcher in place
        os.kill(d.proc.pid, signal.SIGSTOP)
        try:
            # held at most hold_ms (the catcher, a process of its own, allows
            # on its timeout), then runs untraced
            r = subprocess.run([third, os.path.join(work, "m-stop")], timeout=20)
            assert r.returncode == 3
        finally:
            os.kill(d.proc.pid, signal.SIGCONT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            _, meta = rules_of(d)
            if meta["catcher"].get("timeouts", 0) >= 1:
                break
            time.sleep(0.2)
        assert meta["catcher"]["timeouts"] >= 1, json.dumps(meta["catcher"])
    finally:
        rc, err = d.stop()
    assert rc == 0, err


@pytest.fixture
def private_tmpfs():
    d = tempfile.mkdtemp(prefix="tracerd-rules-fs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m,mode=0755", "tracerd-rules", d], check=True)
    try:
        yield d
    finally:
        subprocess.run(["umount", "-l", d], check=False)
        os.rmdir(d)


def test_own_execs_not_held_under_a_filesystem_mark(work, private_tmpfs):
    """The daemon's interpreter on a marked filesystem, under a name a rule
    matches: the daemon's own execs (its idle workers, the catcher) pass at
    once; the test's program, matched by another rule, is caught. The rules
    match by comm names nothing else on the host carries, so the scan of
    running processes finds none but the test's."""
    fs = private_tmpfs
    # names no other process of the host carries (this pid in them: a
    # second run of this test elsewhere on the host is not matched either)
    own_comm, prog_comm = f"trdo-{os.getpid()}", f"trdp-{os.getpid()}"
    real = os.path.realpath(sys.executable)
    os.mkdir(os.path.join(fs, "bin"))
    py = os.path.join(fs, "bin", own_comm)
    shutil.copy(real, py)
    # the copied interpreter is this venv's, moved: bin/, a pyvenv.cfg above
    # it and the venv's lib/ (the daemon's workers start with -I, which ignores
    # PYTHONHOME/PYTHONPATH, so the layout itself must find everything)
    shutil.copy(os.path.join(sys.prefix, "pyvenv.cfg"), os.path.join(fs, "pyvenv.cfg"))
    os.symlink(os.path.join(sys.prefix, "lib"), os.path.join(fs, "lib"))
    env = dict(os.environ)
    prog = os.path.join(fs, prog_comm)
    shutil.copy(os.path.join(work, "prog"), prog)
    cfg = os.path.join(work, "fs.toml")
    write_config(
        cfg,
        f'[catcher]\nhold_ms = 5000\nidle_workers = 1\nfilesystems = ["{fs}"]\n'
        f'[[rule]]\nname = "own"\ncomm = "{own_comm}"\nmode = "ptrace"\n'
        f'[[rule]]\nname = "prog"\ncomm = "{prog_comm}"\nmode = "ptrace"\ntrace = "-f -e trace=openat"\n',
    )
    sock = os.path.join(work, "fs", "tracerd.sock")
    proc = subprocess.Popen([py, "-m", "tracerd.daemon", "--socket", sock, "--config", cfg, "--log-level", "debug"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    from daemon_helpers import wait_for_socket

    wait_for_socket(sock, proc)
    try:
        rs, meta = rules_of_path(sock)
        assert rs["own"]["processes"] == [] and rs["prog"]["processes"] == [], rs
        f = Follower(sock, "prog")
        r = subprocess.run([prog, os.path.join(fs, "m")], timeout=30)
        assert r.returncode == 3
        f.until_ended()
        f.close()
        assert b"/etc/ld.so.cache" in f.payload
        # its idle worker was replaced after the catch: an exec of the
        # daemon's on the marked filesystem, matched by rule "own", let
        # through at once
        deadline = time.monotonic() + 10
        while True:
            rs, meta = rules_of_path(sock)
            c = meta["catcher"]
            if c.get("own", 0) >= 1 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert c["own"] >= 1 and c["timeouts"] == 0 and c["matched"] == 1, c
        assert rs["own"]["processes"] == [], rs
        assert c["marks"] == [[fs, "filesystem"]]

        # a #! script on the marked filesystem, its interpreter there too:
        # the script's event (the main file) is held and caught; the
        # interpreter's comes while exec holds cred_guard_mutex, where the
        # catcher still reads the path passed from /proc and lets it pass
        # (its tracer is in place; it is never held there)
        os.mkdir(os.path.join(fs, "s"))
        interp = os.path.join(fs, f"trdi-{os.getpid()}")
        shutil.copy(prog, interp)
        script = os.path.join(fs, "s", prog_comm)
        with open(script, "w") as f:
            f.write(f"#!{interp}\n")
        os.chmod(script, 0o755)
        f = Follower(sock, "prog")
        r = subprocess.run([script], timeout=30)  # the interpreter gets argv [interp, script]
        assert r.returncode == 3
        f.until_ended()
        f.close()
        assert (script + ".child").encode() in f.payload  # traced, children followed
        deadline = time.monotonic() + 10
        while True:
            c = rules_of_path(sock)[1]["catcher"]
            if c.get("traced", 0) >= 1 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert c["matched"] == 2 and c["traced"] >= 1 and c["timeouts"] == 0, c
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()


def rules_of_path(sock):
    r = tracectl("rules", "--json", socket_path=sock)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    return {x["name"]: x for x in lines if "name" in x}, lines[-1]


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv missing (util-linux)")
def test_under_the_units_capabilities(work):
    """The daemon under exactly the unit's capability bounding set (and its
    NoNewPrivileges): a running match is attached, a new one caught at exec."""
    from test_systemd import unit_caps

    caps = ",".join(["-all", *(f"+{c.removeprefix('CAP_').lower()}" for c in sorted(unit_caps()))])
    prog = os.path.join(work, "prog")
    marker = os.path.join(work, "m-caps")
    p1 = subprocess.Popen([prog, marker, "wait"], stdin=subprocess.PIPE)
    cfg = os.path.join(work, "caps.toml")
    write_config(cfg, CATCHER.format(hold=5000) + rule("r1", prog))  # the default mode
    sock = os.path.join(work, "caps", "tracerd.sock")
    proc = subprocess.Popen(["setpriv", f"--bounding-set={caps}", "--no-new-privs", PY, "-m", "tracerd.daemon", "--socket", sock, "--config", cfg, "--log-level", "debug"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    from daemon_helpers import wait_for_socket

    wait_for_socket(sock, proc)
    try:
        rs, meta = rules_of_path(sock)
        # found running: ptrace (a scan injects only where the rule asks)
        assert [(x["pid"], x["how"], x["mode"]) for x in rs["r1"]["processes"]] == [(p1.pid, "running", "ptrace")], json.dumps(rs["r1"])
        assert meta["catcher"]["pid"], meta
        f = Follower(sock, "r1")
        # caught at exec: the filter injected (the default mode for a
        # process with CAP_SYS_ADMIN), under the unit's capabilities
        p2 = subprocess.Popen([prog, marker, "wait"], stdin=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with open(f"/proc/{p2.pid}/status") as st:
                    filtered = "Seccomp:\t2\n" in st.read()
                if filtered:
                    break
                time.sleep(0.05)
            assert filtered
            rs, _ = rules_of_path(sock)
            assert [(x["how"], x["mode"]) for x in rs["r1"]["processes"] if x["pid"] == p2.pid] == [("exec", "seccomp-bpf")], rs
            p2.stdin.write(b"x")
            p2.stdin.close()
            assert p2.wait(timeout=30) == 3
        finally:
            if p2.poll() is None:
                p2.kill()
                p2.wait()
        f.until_ended()
        f.close()
        assert b"/etc/ld.so.cache" in f.payload
        p1.stdin.write(b"x")
        p1.stdin.close()
        assert p1.wait(timeout=30) == 3
    finally:
        if p1.poll() is None:
            p1.kill()
            p1.wait()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()


def test_proc_connector_catches_after_exec(work):
    """method = "proc-connector" (what a kernel below 6.8 gets): a new
    process is attached after its exec, and traced from then on; `tracectl
    rules` says its first instructions are not guaranteed."""
    prog = os.path.join(work, "prog")
    marker = os.path.join(work, "m-pc")
    cfg = os.path.join(work, "pc.toml")
    write_config(cfg, '[catcher]\nmethod = "proc-connector"\nidle_workers = 1\n' + rule("r1", prog))
    sock = os.path.join(work, "pc", "tracerd.sock")
    d = Daemon(sock, extra=("--config", cfg))
    p = None
    try:
        rs, meta = rules_of(d)
        assert meta["catcher"]["method"] == "proc-connector" and meta["catcher"]["pid"] is None, meta
        assert "their first instructions are not guaranteed to be traced" in meta["note"], meta
        f = Follower(d.path, "r1")
        p = subprocess.Popen([prog, marker, "wait"], stdin=subprocess.PIPE)
        deadline = time.monotonic() + 20
        procs = []
        while time.monotonic() < deadline:
            procs = rules_of(d)[0]["r1"]["processes"]
            with open(f"/proc/{p.pid}/status") as st:
                traced = "TracerPid:\t0\n" not in st.read()
            if procs and traced:
                break
            time.sleep(0.05)
        # caught after its exec: a running process, so ptrace unless the rule asks
        assert [(x["pid"], x["how"], x["mode"]) for x in procs] == [(p.pid, "exec (after)", "ptrace")], procs
        assert traced
        p.stdin.write(b"x")  # what it does from now on is traced, children too
        p.stdin.close()
        assert p.wait(timeout=30) == 3
        f.until_ended()
        f.close()
        assert (marker + ".parent").encode() in f.payload and (marker + ".child").encode() in f.payload
    finally:
        if p is not None and p.poll() is None:
            p.kill()
            p.wait()
        rc, err = d.stop()
    assert rc == 0, err

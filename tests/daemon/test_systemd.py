"""The systemd units: `systemd-analyze verify` passes, and they say what the
daemon relies on."""

import configparser
import os
import re
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
UNITS = os.path.join(HERE, "..", "..", "systemd")


def unit(name):
    p = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    p.optionxform = str
    p.read(os.path.join(UNITS, name))
    return p


def unit_caps() -> set[str]:
    """CapabilityBoundingSet= as systemd reads it: the union of every line
    (configparser would keep the last one only)."""
    caps = set()
    with open(os.path.join(UNITS, "tracerd.service")) as f:
        for line in f:
            if line.startswith("CapabilityBoundingSet="):
                caps |= set(line.split("=", 1)[1].split())
    return caps


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing (Debian package: systemd)")
def test_systemd_analyze_verify(tmp_path):
    # ExecStart must exist for verify: point the copy at this venv's tracerd,
    # nothing else changes
    tracerd = os.path.join(os.path.dirname(sys.executable), "tracerd")
    assert os.access(tracerd, os.X_OK)
    with open(os.path.join(UNITS, "tracerd.service")) as f:
        text = f.read()
    assert "ExecStart=/usr/local/bin/tracerd " in text
    (tmp_path / "tracerd.service").write_text(text.replace("ExecStart=/usr/local/bin/tracerd ", f"ExecStart={tracerd} "))
    shutil.copy(os.path.join(UNITS, "tracerd.socket"), tmp_path / "tracerd.socket")
    r = subprocess.run(["systemd-analyze", "verify", "tracerd.socket", "tracerd.service"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "", r.stderr  # no warnings either


def test_service_contract():
    s = unit("tracerd.service")["Service"]
    assert s["Type"] == "notify"
    assert unit_caps() == {"CAP_SYS_PTRACE", "CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"}
    assert s["ProtectSystem"] == "strict" and s["ProtectHome"] == "read-only" and s["PrivateTmp"] == "yes"
    assert s["RuntimeDirectory"] == "tracerd" and s["Restart"] == "on-failure"
    assert "ProtectProc" not in s  # the daemon must see the processes it traces
    sock = unit("tracerd.socket")["Socket"]
    assert sock["ListenStream"] == "/run/tracerd/tracerd.sock"
    assert sock["SocketMode"] == "0660" and sock["SocketGroup"] == "tracing"


def _unit_caps() -> list[str]:
    return sorted(unit_caps())


def _user_session(path, spin_pid, argv, bpf, plan):
    """As the user: attach to their own process and detach; run a command."""
    from tracerd.client import _remote

    a = _remote.RemoteAttach(path, [spin_pid], plan=plan)
    a.start()
    n = 0
    for _first, count, _payload in a.frames():
        n += count
        if n >= 3:
            break
    a.close()  # detach
    for _ in a.frames():
        pass
    a.close()
    r = _remote.RemoteRun(path, argv, bpf=bpf, plan=plan)
    r.start()
    m = sum(c for _, c, _ in r.frames())
    r.close()
    return {"attach": n, "attach_end": a.end.reason, "run": m, "status": r.status()}


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_the_units_capabilities_are_enough(test_user, sockdir, sleeper_bin):
    """CI cannot run systemd as PID 1: start the daemon under setpriv with
    exactly the unit's capability bounding set (and no_new_privs, as the
    unit's NoNewPrivileges=yes), then attach, detach and run as a user, and
    attach as root to the user's process (CAP_SYS_PTRACE)."""
    sys.path.insert(0, HERE)
    from daemon_helpers import PY, Daemon, as_user, make_bpf, make_plan, run_as_user

    from tracerd.client import _remote

    caps = _unit_caps()
    bset = "-all," + ",".join("+" + c.removeprefix("CAP_").lower() for c in caps)
    d = Daemon(os.path.join(sockdir, "u.sock"), ["--socket-group", "tracing"], cmd=["setpriv", f"--bounding-set={bset}", "--no-new-privs", PY, "-m", "tracerd.daemon"])
    spin = subprocess.Popen(as_user(test_user, [sleeper_bin]))
    try:
        # the daemon holds exactly those capabilities
        import ctypes  # noqa: F401 (capability numbers below are linux/capability.h's)

        numbers = {"CAP_CHOWN": 0, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_NET_ADMIN": 12, "CAP_SYS_PTRACE": 19, "CAP_SYS_ADMIN": 21}
        with open(f"/proc/{d.proc.pid}/status") as f:
            bnd = int(next(l for l in f if l.startswith("CapBnd:")).split()[1], 16)
        assert bnd == sum(1 << numbers[c] for c in caps)
        plan = make_plan(["openat", "close"])
        res = run_as_user(test_user, _user_session, d.path, spin.pid, ["/bin/cat", "/dev/null"], make_bpf(["openat"]), plan)
        assert res["attach"] >= 3 and res["attach_end"] == "detached" and res["run"] >= 1 and res["status"] == 0, res
        a = _remote.RemoteAttach(d.path, [spin.pid], plan=plan)
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
        assert n >= 3 and a.end.reason == "detached"
    finally:
        spin.kill()
        spin.wait()
        rc, err = d.stop()
    assert rc == 0 and "Traceback" not in err, err


NETNS_TCP = r"""
import fcntl, socket, struct
l = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
fcntl.ioctl(l, 0x8914, struct.pack("16sH14x", b"lo", 1 | 8)); l.close()  # lo up (SIOCSIFFLAGS)
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
c = socket.socket(); c.connect(s.getsockname()); c.getsockname()
"""


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None or shutil.which("unshare") is None, reason="needs root, setpriv and unshare")
def test_the_units_capabilities_serve_yy_in_another_netns(sockdir, tmp_path):
    """-yy through the daemon, under exactly the unit's capabilities, for a
    tracee in a network namespace of its own: sock_diag (AF_NETLINK) asked
    inside that namespace (setns needs the unit's CAP_SYS_ADMIN), so the
    socket shows its addresses, and nothing says -yy could not."""
    sys.path.insert(0, HERE)
    from daemon_helpers import PY, Daemon, tracectl

    caps = _unit_caps()
    bset = "-all," + ",".join("+" + c.removeprefix("CAP_").lower() for c in caps)
    d = Daemon(os.path.join(sockdir, "y.sock"), [], cmd=["setpriv", f"--bounding-set={bset}", "--no-new-privs", PY, "-m", "tracerd.daemon"])
    try:
        (tmp_path / "t.py").write_text(NETNS_TCP)
        py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else PY
        r = tracectl("run", "-f", "-yy", "-e", "trace=getsockname", "unshare", "-n", py, "t.py", socket_path=d.path, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert re.search(r"getsockname\(4<TCP:\[127\.0\.0\.1:\d+->127\.0\.0\.1:\d+\]>", r.stderr), r.stderr
        assert "-yy: cannot" not in r.stderr
    finally:
        rc, err = d.stop()
    assert rc == 0 and "Traceback" not in err, err

"""A real tracerd on a temporary socket, and a real unprivileged user."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

PY = sys.executable
TEST_USER = "tracerd-test"
TEST_GROUP = "tracing"


def wait_for_socket(path: str, proc: subprocess.Popen, limit: float = 45.0) -> None:
    """Until the socket accepts (the daemon's readiness), or the daemon dies."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = b""
            if getattr(proc, "errfile", None) is not None:
                proc.errfile.seek(0)
                err = proc.errfile.read()
            raise RuntimeError(f"tracerd exited with {proc.returncode}: {err.decode()}")
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            return
        except OSError:
            time.sleep(0.02)
        finally:
            s.close()
    raise RuntimeError("tracerd did not become ready")


class Daemon:
    def __init__(self, path: str, extra=(), env=None, cmd=None, cwd=None):
        """cmd: how to start tracerd (default: this interpreter's -m)."""
        self.path = path
        # a file, not a pipe: a pass-through worker the daemon leaves behind
        # keeps its stderr open, and a pipe would never see EOF
        self.errfile = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [*(cmd or [PY, "-m", "tracerd.daemon"]), "--socket", path, "--log-level", "debug", *extra],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.errfile,
            env=env,
            cwd=cwd,
        )
        self.proc.errfile = self.errfile
        wait_for_socket(path, self.proc)

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.errfile.seek(0)
        return self.proc.returncode, self.errfile.read().decode()


def _world_dir() -> str:
    d = tempfile.mkdtemp(prefix="tracerd-test-")
    os.chmod(d, 0o755)  # the unprivileged user must reach the socket
    return d


@pytest.fixture
def sockdir():
    d = _world_dir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def daemon(sockdir):
    d = Daemon(os.path.join(sockdir, "run", "tracerd.sock"))
    yield d
    d.stop()


def tracectl(*args, socket_path=None, user=None, env=None, timeout=60, **kw):
    cmd = [PY, "-c", "import sys; from tracerd.client import main; sys.exit(main())"]
    cmd += [*(["--socket", socket_path] if socket_path else []), *args]
    if user is not None:
        cmd = as_user(user, cmd)
    if env is None:
        env = {k: v for k, v in os.environ.items() if k != "TRACERD_SOCKET"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, **kw)


def as_user(user, cmd):
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", *cmd]


@pytest.fixture(scope="session")
def test_user():
    """A real unprivileged user in group `tracing` (created once)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create the test user")
    if shutil.which("useradd") is None or shutil.which("setpriv") is None:
        pytest.skip("useradd/setpriv missing (apt-get install passwd util-linux)")
    try:
        grp.getgrnam(TEST_GROUP)
    except KeyError:
        subprocess.run(["groupadd", "--system", TEST_GROUP], check=True)
    try:
        pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "-G", TEST_GROUP, TEST_USER], check=True)
    return pwd.getpwnam(TEST_USER)


@pytest.fixture(scope="session")
def sleeper_bin(tmp_path_factory):
    """A tiny C program that makes a syscall in a loop until killed."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc missing")
    import pathlib

    d = pathlib.Path(_world_dir())  # the test user must be able to exec it
    src = d / "spin.c"
    src.write_text(
        "#include <unistd.h>\n#include <fcntl.h>\n"
        "int main(int argc, char **argv){ int fast = argc > 1;\n"
        "  for(;;){ int fd = open(\"/dev/null\", O_RDONLY); if (fd >= 0) close(fd); if (!fast) usleep(2000);} }\n"
    )
    out = d / "spin"
    subprocess.run(["gcc", "-O2", "-o", str(out), str(src)], check=True)
    os.chmod(out, 0o755)
    yield str(out)
    shutil.rmtree(d, ignore_errors=True)


# --- plans and filters built here from tracerd._wire (bpfgen makes the real ones)
import struct as _struct

from tracerd import _wire

NR = {"read": 0, "write": 1, "close": 3, "openat": 257, "execve": 59, "exit_group": 231, "getpid": 39}


def make_plan(names, strsize=32) -> bytes:
    nrs = sorted(NR[n] for n in names)
    ents = b"".join(_wire.PLAN_ENTRY.pack(_wire.Pers.X86_64, 0, _wire.EntryFlag.EXIT, nr) for nr in nrs)
    return _wire.PLAN_HEADER.pack(_wire.PLAN_MAGIC, _wire.PLAN_VERSION, len(nrs), strsize, 0) + ents


def make_bpf(names) -> bytes:
    """A seccomp filter: x86_64 only; RET_TRACE|EXIT for `names`, else ALLOW."""
    ins = _struct.Struct("<HBBI")
    LD_W_ABS, JEQ_K, RET_K = 0x20, 0x15, 0x06
    ALLOW, TRACE = 0x7FFF0000, 0x7FF00000 | _wire.EntryFlag.EXIT
    nrs = [NR[n] for n in names]
    prog = [ins.pack(LD_W_ABS, 0, 0, 4), ins.pack(JEQ_K, 1, 0, _wire.AUDIT_ARCH[_wire.Pers.X86_64]), ins.pack(RET_K, 0, 0, ALLOW), ins.pack(LD_W_ABS, 0, 0, 0)]
    for i, nr in enumerate(nrs):
        prog.append(ins.pack(JEQ_K, len(nrs) - i, 0, nr))
    prog += [ins.pack(RET_K, 0, 0, ALLOW), ins.pack(RET_K, 0, 0, TRACE)]
    return b"".join(prog)


def records_of(frames):
    out = []
    for _first, _count, payload in frames:
        out += _wire.iter_records(payload)
    return out


def run_as_user(user, fn, *args):
    """Call fn(*args) in a forked child that has become `user` (uid, gid,
    supplementary groups): the daemon sees the user's SO_PEERCRED. Returns fn's
    JSON-able result. (The venv's interpreter lives under /root, which the user
    cannot exec; a fork of this process needs no file of ours.)"""
    import json
    import traceback

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(r)
            groups = [g.gr_gid for g in grp.getgrall() if user.pw_name in g.gr_mem]
            os.setgroups(groups)
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            # changing uid made us non-dumpable (so would be our forks, then
            # nobody could trace them); a user's exec'd tracectl is dumpable
            import ctypes

            ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE (linux/prctl.h)
            out = json.dumps({"result": fn(*args)})
        except BaseException:
            out = json.dumps({"exc": traceback.format_exc()})
            code = 1
        try:
            os.write(w, out.encode())
        finally:
            os._exit(code)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    res = json.loads(data)
    if "exc" in res:
        raise AssertionError("as user: " + res["exc"])
    return res["result"]

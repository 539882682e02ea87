"""A non-root owner's session worker has an address-space ceiling
(`limits.worker_memory`); root's sessions have none. Real daemon, real user."""

import os
import subprocess
import time

import pytest

from tracerd.client import _remote

from daemon_helpers import PY, Daemon, as_user

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (daemon, setpriv)")

LIMIT = 200 << 20


def _as_limit(pid: int) -> str:
    with open(f"/proc/{pid}/limits") as f:
        line = next(ln for ln in f if ln.startswith("Max address space"))
    return line.split()[3]


def _worker_limit(path: str, cmd: list[str], sleeper_bin: str) -> str:
    """Start `cmd` (a tracectl run of the sleeper), read the session worker's
    RLIMIT_AS, end the run."""
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            sessions = _remote.Client(path).request("list")["sessions"]
            # records flowing: the worker set its limit before its loop began
            if sessions and sessions[0].get("worker") and sessions[0]["records"] > 0:
                return _as_limit(sessions[0]["worker"])
            assert p.poll() is None, "tracectl ended before its session showed"
            time.sleep(0.05)
        raise AssertionError("no session appeared")
    finally:
        p.kill()
        p.wait()


def test_worker_memory_for_non_root_owners(test_user, sockdir, tmp_path, sleeper_bin):
    cfg = tmp_path / "tracerd.toml"
    cfg.write_text(f"[limits]\nworker_memory = {LIMIT}\n")
    d = Daemon(os.path.join(sockdir, "m.sock"), ["--socket-group", "tracing", "--config", str(cfg)])
    try:
        run = [PY, "-c", "import sys; from tracerd.client import main; sys.exit(main())",
               "--socket", d.path, "run", "-e", "trace=openat", "-o", "/dev/null", sleeper_bin]
        assert _worker_limit(d.path, as_user(test_user, run), sleeper_bin) == str(LIMIT)
        deadline = time.monotonic() + 20
        while _remote.Client(d.path).request("list")["sessions"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _worker_limit(d.path, run, sleeper_bin) == "unlimited"
    finally:
        d.stop()

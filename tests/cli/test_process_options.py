"""Process options as strace 6.1 handles them (issue 13's strace-feature
tests): -Y after -p, -p with a command, -b execve, signals blocked or ignored
at start, fds 0/1/2 closed at start, -D."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import time

import pytest

try:
    from tracerd.native import _tracer  # noqa: F401

    NATIVE = None
except ImportError as exc:  # pragma: no cover - depends on the build
    NATIVE = str(exc)

pytestmark = pytest.mark.skipif(NATIVE is not None, reason=f"native loop missing: {NATIVE}")

TRACECTL = [sys.executable, "-c", "import sys; from tracerd.client import main; sys.exit(main())"]


def _wait_for(path: pathlib.Path, text: str, proc, timeout=30) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        data = path.read_text() if path.exists() else ""
        if text in data or proc.poll() is not None:
            return data
        time.sleep(0.05)
    return path.read_text()


def test_attach_comm_on_exited_line(tmp_path):
    """-Y with -p: the `+++ exited` line names the task, though it comes
    after the task is reaped (the name is read when it is attached)."""
    procs = [subprocess.Popen(["sh", "-c", "read x"], stdin=subprocess.PIPE) for _ in range(2)]
    log, err = tmp_path / "log", tmp_path / "err"
    try:
        with open(err, "w") as fp:
            t = subprocess.Popen([*TRACECTL, "--embedded", "attach", "-e", "trace=none", "-Y", "-o", str(log),
                                  "-p", str(procs[0].pid), "-p", str(procs[1].pid)], stderr=fp)
            seen = _wait_for(err, f"Process {procs[1].pid} attached", t)
            seen = _wait_for(err, f"Process {procs[0].pid} attached", t)
            assert "attached" in seen
            for p in procs:
                p.stdin.close()
                p.wait()
            assert t.wait(timeout=30) == 0
        lines = sorted(log.read_text().splitlines())
        assert lines == sorted(f"{p.pid}<sh> +++ exited with {p.returncode} +++" for p in procs)
    finally:
        for p in procs:
            p.kill()
            p.wait()

"""Helpers for the sink tests: tracectl as a subprocess, a small C tracee."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

PY = sys.executable

BURST_C = r"""
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
/* burst N [MS [US]]: N getppid calls (US us apart), one failing openat,
   then MS ms of sleep */
int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 10, ms = argc > 2 ? atol(argv[2]) : 0;
	long us = argc > 3 ? atol(argv[3]) : 0;
	for (long i = 0; i < n; i++) {
		getppid();
		if (us)
			usleep(us);
	}
	if (open("/nonexistent/tracerd-sink-test", O_RDONLY) >= 0)
		return 2;
	if (ms)
		usleep(ms * 1000);
	return 0;
}
"""


def build_burst(d) -> str:
    if shutil.which("gcc") is None:
        pytest.skip("gcc missing")
    src = os.path.join(d, "burst.c")
    with open(src, "w") as f:
        f.write(BURST_C)
    out = os.path.join(d, "burst")
    subprocess.run(["gcc", "-O2", "-o", out, src], check=True)
    os.chmod(d, 0o755)
    os.chmod(out, 0o755)
    return out


def tracectl(*args, socket_path=None, env=None, timeout=120, user=None, **kw):
    cmd = [PY, "-c", "import sys; from tracerd.client import main; sys.exit(main())"]
    cmd += [*(["--socket", socket_path] if socket_path else []), *map(str, args)]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", *cmd]
    if env is None:
        env = {k: v for k, v in os.environ.items() if k != "TRACERD_SOCKET"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, **kw)


def trace_lines(path) -> list[str]:
    """The call lines tracectl wrote with -o (no notes, no +++ lines)."""
    with open(path) as f:
        return [line.rstrip("\n") for line in f if not line.startswith(("+++", "---"))]


def consecutive(seqs) -> bool:
    s = sorted(seqs)
    return bool(s) and s == list(range(s[0], s[0] + len(s)))


def needs_root():
    if os.geteuid() != 0:
        pytest.skip("needs root (private receivers in a mount namespace, the daemon)")


def need(binary: str, package: str):
    if shutil.which(binary) is None and not os.path.exists(binary):
        pytest.skip(f"{binary} missing (apt-get install {package}; scripts/setup does)")

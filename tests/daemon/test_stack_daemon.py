"""-k through the daemon, whose worker runs in a mount namespace of its own
(as under the unit's PrivateTmp=, the tracee's files are not at their path
for the worker). The frames must still name the program and its functions:
the worker opens modules through /proc/PID/root."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest

from daemon_helpers import PY, Daemon, tracectl

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("gcc") is None, reason="needs root, unshare and gcc"
)

SRC = r"""
#include <unistd.h>
__attribute__((noinline)) void b(void) { write(1, "x\n", 2); }
__attribute__((noinline)) void a(void) { b(); }
int main(void) { a(); return 0; }
"""


def test_k_through_a_daemon_with_a_private_tmp():
    src_dir = tempfile.mkdtemp(prefix="tracerd-stack-")  # hidden from the daemon (below)
    run_dir = tempfile.mkdtemp(prefix="tracerd-stack-", dir="/run")  # the socket, seen by both
    try:
        c = os.path.join(src_dir, "stk.c")
        with open(c, "w") as f:
            f.write(SRC)
        prog = os.path.join(src_dir, "stk")
        subprocess.run(["gcc", "-g", "-O0", "-o", prog, c], check=True)
        sock = os.path.join(run_dir, "tracerd.sock")
        # an empty tmpfs over the program's directory, in the daemon's
        # mount namespace only (as PrivateTmp= hides /tmp; not /tmp itself,
        # which may hold this checkout and its interpreter)
        cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c", f'mount -t tmpfs none "{src_dir}" && exec "$@"', "sh", PY, "-m", "tracerd.daemon"]
        d = Daemon(sock, cmd=cmd)
        try:
            r = tracectl("run", "-k", "-e", "trace=write", prog, socket_path=sock)
        finally:
            d.stop()
        assert r.returncode == 0, r.stderr
        frames = [ln for ln in r.stderr.splitlines() if ln.startswith(" > ")]
        assert any(ln.startswith(f" > {prog}(b+0x") for ln in frames), r.stderr
        assert any(ln.startswith(f" > {prog}(a+0x") for ln in frames), r.stderr
        assert any("libc.so.6(__write+0x" in ln for ln in frames), r.stderr
    finally:
        shutil.rmtree(src_dir, ignore_errors=True)
        shutil.rmtree(run_dir, ignore_errors=True)

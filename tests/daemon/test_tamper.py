"""Tampering through the daemon: the worker executes the plan's tamper
section for the session's owner, root or not (it adds no privilege: the
owner could ptrace the command anyway)."""

from __future__ import annotations

import os

import pytest

from daemon_helpers import tracectl

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (the daemon)")

CMD = ["/bin/sh", "-c", "cd /tmp; cd /tmp; cd /tmp; echo done"]
WANT = [
    'chdir("/tmp")                           = 0',
    'chdir("/tmp")                           = -1 ENOENT (No such file or directory) (INJECTED)',
    'chdir("/tmp")                           = 0',
]


@pytest.mark.parametrize("who", ["root", "user"])
def test_inject_through_the_daemon(daemon, test_user, who):
    r = tracectl("run", "-e", "trace=chdir", "-e", "inject=chdir:error=ENOENT:when=2", "--", *CMD,
                 socket_path=daemon.path, user=None if who == "root" else test_user)
    assert r.returncode == 0, r.stderr
    assert [l for l in r.stderr.splitlines() if l.startswith("chdir(")] == WANT
    assert "can't cd to /tmp" in r.stderr  # the shell saw the injected error
    assert r.stdout == "done\n"

"""-n: `+++ exited` carries the task's last call, traced or not, as strace
6.1 prints it: exit_group (231) for a process, as the matrix's
`--syscall-number -e trace=read` row showed ([   0] before)."""

from __future__ import annotations

import re

import pytest

from test_run import NATIVE, STRACE, strace, tracectl

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(NATIVE is not None, reason=f"native loop missing: {NATIVE}"),
    pytest.mark.skipif(STRACE is None, reason="strace missing"),
]


@pytest.mark.parametrize("trace", ["read", "none"])
def test_exited_line_carries_exit_group(trace):
    argv = ["-n", "-f", "-e", f"trace={trace}", "sh", "-c", "cat /etc/hostname >/dev/null"]
    lines = lambda text: [re.sub(r"\d{3,}", "N", l) for l in text.splitlines() if "+++" in l]  # noqa: E731
    s = strace(*argv)
    t = tracectl(*argv, capture_output=True, timeout=60)
    assert lines(t.stderr) == lines(s.stderr)
    assert lines(t.stderr)[-1] == "[ N] +++ exited with 0 +++"

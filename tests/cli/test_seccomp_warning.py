"""`-f --seccomp-bpf` with every call traced: strace 6.1's warning that the
filter has nothing to skip (it goes on); none when a set leaves calls out."""

from __future__ import annotations

import pytest

from test_run import NATIVE, STRACE, strace, tracectl

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(NATIVE is not None, reason=f"native loop missing: {NATIVE}"),
    pytest.mark.skipif(STRACE is None, reason="strace missing"),
]

WARNING = "Seccomp filter is requested but there are no syscalls to filter.  See -e trace to filter syscalls."


@pytest.mark.parametrize("trace", ["all", "!getpid", "none"])
def test_seccomp_bpf_with_every_call_traced_warns_as_strace(trace):
    argv = ["-f", "--seccomp-bpf", "-qq", "-e", f"trace={trace}", "-o", "/dev/null", "true"]
    s = strace(*argv)
    t = tracectl(*argv, capture_output=True, timeout=60)
    assert t.returncode == s.returncode == 0
    assert t.stderr.replace("tracectl: ", "strace: ") == s.stderr
    assert (WARNING in t.stderr) == (trace == "all")

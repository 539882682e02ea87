"""-e abbrev=none prints a call's arrays whole, as -v does, so the tracer
must fetch them whole: an environment of more than 32 strings (the default
-s) was cut with `...` where strace 6.1 printed every string."""

from __future__ import annotations

import os

import pytest

from test_run import NATIVE, STRACE, strace, tracectl

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(NATIVE is not None, reason=f"native loop missing: {NATIVE}"),
    pytest.mark.skipif(STRACE is None, reason="strace missing"),
]


def test_abbrev_none_prints_the_whole_environment():
    # (LANG set: without it Python coerces the C locale and tracectl's
    # command inherits LC_CTYPE=C.UTF-8, PEP 538)
    env = {"LANG": "C.UTF-8", **{f"V{i}": str(i) for i in range(40)}}
    argv = ["-e", "abbrev=none", "-e", "trace=execve", "-qq", "/bin/true"]
    s = strace(*argv, env=env)
    t = tracectl(*argv, env=env, capture_output=True, timeout=60)
    line = lambda text: next(l for l in text.splitlines() if l.startswith("execve("))  # noqa: E731
    assert line(t.stderr) == line(s.stderr)
    assert '"V39=39"]' in line(t.stderr)

"""The loop's own account of tampering: how many calls it tampered with, and
that on a kernel with PTRACE_SET_SYSCALL_INFO (Linux 6.16) no register write
fell back to PTRACE_SETREGS."""

from __future__ import annotations

import os

import pytest

from . import _tamper as T

pytestmark = pytest.mark.skipif(T.skip_reason() is not None, reason=T.skip_reason() or "")


def _kernel() -> tuple[int, int]:
    major, minor = os.uname().release.split(".")[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)


@pytest.fixture(scope="module")
def prog(tmp_path_factory):
    return T.build(tmp_path_factory.mktemp("native"))


def test_counts_and_set_syscall_info(prog):
    from tracerd.bpfgen import Qualifiers, build_plan, compile_filter, tamper_map
    from tracerd.client._embedded import EmbeddedRun

    q = Qualifiers()
    for e in ("trace=chdir", "inject=chdir:error=ENOENT:when=2+3"):
        q.qualify(e)
    run = EmbeddedRun([str(prog), "seq"], bpf=compile_filter(q.trace), plan=build_plan(q.trace, tamper=tamper_map(q.inject, q.trace)),
                      stats=True).start()
    try:
        recs = list(run.records())
    finally:
        run.close()
    assert run.status() == 0
    assert run.stats["tampered"] == 3  # calls 2, 5 and 8 of 9
    if _kernel() >= (6, 16):
        assert run.stats["tamper_setregs"] == 0
    else:
        assert run.stats["tamper_setregs"] == 2 * 3  # the call's number, then its return value
    assert len([r for r in recs if r[0] == 1]) >= 9

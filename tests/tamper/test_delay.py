"""Delays hold only the delayed thread: while thread A is held in its
getppid (delay_enter= or delay_exit=), the loop keeps serving thread B,
whose 300 traced calls all happen inside A's held call. Checked in both of
the loop's wait modes (blocking wait4, poll), by ordering only: the
tracee's own count, and the tracer's timestamps of B's calls against A's
call's entry and exit."""

from __future__ import annotations

import subprocess

import pytest

from tracerd._wire import Rec, SysFlag, field

from . import _tamper as T

pytestmark = pytest.mark.skipif(T.skip_reason() is not None, reason=T.skip_reason() or "")
N = 300


@pytest.fixture(scope="module")
def prog(tmp_path_factory):
    exe = tmp_path_factory.mktemp("delay") / "delay"
    subprocess.run(["gcc", "-O1", "-pthread", "-o", str(exe), str(T.GOLDEN / "delay.c")], check=True)
    return exe


def _run(prog, expr, wait, out):
    from tracerd.bpfgen import Qualifiers, build_plan, compile_filter, tamper_map
    from tracerd.client._embedded import EmbeddedRun

    q = Qualifiers()
    q.qualify("trace=getppid,chdir")
    q.qualify(expr)
    plan = build_plan(q.trace, tamper=tamper_map(q.inject, q.trace))
    run = EmbeddedRun([str(prog), str(N), str(out)], bpf=compile_filter(q.trace), plan=plan, worker_options={"wait": wait}).start()
    try:
        recs = list(run.records())
    finally:
        run.close()
    return recs, run.status()


@pytest.mark.parametrize("wait", ["blocking", "poll"])
@pytest.mark.parametrize("phase", ["delay_enter", "delay_exit"])
def test_delay_holds_only_its_thread(prog, wait, phase, tmp_path):
    out = tmp_path / "seen"
    recs, status = _run(prog, f"inject=getppid:{phase}=500ms", wait, out)
    assert status == 0
    # the tracee's view: all of B's calls had returned when A's returned
    assert out.read_text().split() == [str(N), str(N)]
    calls = _joined(recs)
    held = [c for c in calls if c[0] == 110]
    others = [c for c in calls if c[0] == 80]
    assert len(held) == 1 and len(others) == N
    _, start, end, flags = held[0]
    assert flags & SysFlag.DELAYED
    if phase == "delay_enter":
        # held between its entry and exit stops: every one of B's calls
        # returned before A's exit stop, and (B starts just before A enters
        # getppid) nearly all entered after A's entry stop. delay_exit holds
        # A after its exit stop, as strace does: there the tracee's count
        # above tells.
        assert all(e < end for _, s, e, _ in others)
        assert sum(start < s for _, s, e, _ in others) > N // 2


def _joined(recs):
    """(nr, entry ts, exit ts, flags) of each call, split ones joined."""
    out, open_ = [], {}
    for r in recs:
        if r[0] == Rec.SYSCALL:
            out.append((field(r, "nr"), r[2], r[2] + field(r, "dur"), field(r, "flags")))
        elif r[0] == Rec.SYSCALL_ENTRY:
            open_[r[3]] = r
        elif r[0] == Rec.SYSCALL_EXIT:
            e = open_.pop(r[3])
            out.append((field(r, "nr"), e[2], e[2] + field(r, "dur"), field(r, "flags")))
    return out

"""Helpers of the native tests: compiled tracees, traced runs, record filters.

Imported by name (`from native_helpers import ...`), not as `conftest`, so
the native tests collect together with any other folder's conftest."""

import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from _plans import filter_and_plan, spec  # noqa: E402

from tracerd import _wire  # noqa: E402

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (ptrace of arbitrary tracees)")


@pytest.fixture(scope="session")
def cbuild(tmp_path_factory):
    """Compile a small C program once per session: cbuild(name, source, *flags) -> path."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc not installed")
    d = tmp_path_factory.mktemp("bin")
    cache = {}

    def build(name, source, *flags):
        if name not in cache:
            src = d / f"{name}.c"
            src.write_text(source)
            out = d / name
            subprocess.run(["gcc", "-O1", "-pthread", "-o", str(out), str(src), *flags], check=True)
            cache[name] = str(out)
        return cache[name]

    return build


def by_type(recs, rtype):
    return [r for r in recs if r[0] == rtype]


def joined(recs):
    """SYSCALL records, with each SYSCALL_ENTRY + SYSCALL_EXIT pair of a task
    joined into one SYSCALL-shaped record (at the exit's place)."""
    out, open_ = [], {}
    for r in recs:
        if r[0] == _wire.Rec.SYSCALL:
            out.append(r)
        elif r[0] == _wire.Rec.SYSCALL_ENTRY:
            assert r[3] not in open_, "two entries without an exit"
            open_[r[3]] = r
        elif r[0] == _wire.Rec.EXEC and _wire.field(r, "old_tid") not in (None, r[3]):
            # a thread exec'd: its call (entered under its own id) ends
            # under the leader's
            e = open_.pop(_wire.field(r, "old_tid"), None)
            if e is not None:
                open_[r[3]] = e
        elif r[0] == _wire.Rec.SYSCALL_EXIT:
            e = open_.pop(r[3])
            f = lambda n, rec=r: _wire.field(rec, n)  # noqa: E731
            assert (_wire.field(e, "pers"), _wire.field(e, "nr")) == (f("pers"), f("nr"))
            out.append(_wire.record(
                _wire.Rec.SYSCALL, e[1], e[2], e[3], e[4], f("pers"), f("nr"), _wire.field(e, "args"),
                f("ret"), f("is_error"), f("dur"), _wire.field(e, "mem") + f("mem"), f("cpu"), f("flags"),
                ext={**_wire.ext(e), **_wire.ext(r)}))  # nspid, ip, stack: as the unsplit record carries them
    return out


def calls(recs, nr=None, pers=_wire.Pers.X86_64):
    """Completed calls (optionally of one (pers, nr)), split ones joined."""
    out = []
    for r in joined(recs):
        if nr is None or (_wire.field(r, "nr") == nr and _wire.field(r, "pers") == pers):
            out.append(r)
    return out


def mem_of(rec, phase, arg):
    for p, a, v in _wire.field(rec, "mem"):
        if p == phase and a == arg:
            return v
    raise KeyError((phase, arg))


def run_traced(argv, names=(), *, exit_=True, extra=None, strsize=32, flags=0, entries=None, **kw):
    """Run argv under the worker; returns (records, wait status, stats)."""
    from tracerd.client._embedded import EmbeddedRun

    entries = entries if entries is not None else spec(names, exit_=exit_, extra=extra)
    bpf, plan = filter_and_plan(entries, strsize=strsize, flags=flags)
    run = EmbeddedRun(argv, bpf=bpf, plan=plan, stats=True, **kw).start()
    try:
        recs = list(run.records())
    finally:
        run.close()
    status = run.status()
    seqs = [r[1] for r in recs]
    assert seqs == list(range(len(seqs))), "sequence numbers must rise by one without gaps"
    return recs, status, run.stats

"""--in-kernel: decision-free error injections compiled into the seccomp
filter (SECCOMP_RET_ERRNO): the tracee never stops for them, every process
below the command gets them (with or without -f: the filter is inherited,
also across exec), and the refusals and the note are as docs/cli.md says."""

from __future__ import annotations

import subprocess

import pytest

from tracerd._wire import Rec, field

from . import _tamper as T

pytestmark = pytest.mark.skipif(T.skip_reason() is not None, reason=T.skip_reason() or "")


@pytest.fixture(scope="module")
def bins(tmp_path_factory):
    d = tmp_path_factory.mktemp("inkernel")
    exe = d / "forkbomb"
    subprocess.run(["gcc", "-O1", "-o", str(exe), str(T.GOLDEN / "forkbomb.c")], check=True)
    return {"forkbomb": exe, "calls": T.build(d)}


def _tracectl(*args):
    return subprocess.run([str(T.TRACECTL), "--embedded", "run", *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("follow", [[], ["-f"]])
def test_fork_bomb_every_process_faulted(bins, follow):
    r = _tracectl(*follow, "--in-kernel", *T.exprs("trace=chdir", "fault=chdir:error=ENOENT"), str(bins["forkbomb"]), "6")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "63 63\n"  # all 63 processes saw ENOENT
    assert "chdir(" not in r.stderr  # neither printed nor counted
    assert r.stderr.count("--in-kernel:") == 1


def test_faulted_calls_cost_no_stop(bins):
    """The loop's own counters: the faulted call, made 63 times, never
    stops; the traced one (pipe2, once per child) stops as usual."""
    from tracerd.bpfgen import Qualifiers, build_plan, compile_filter, in_kernel_split
    from tracerd.client._embedded import EmbeddedRun

    q = Qualifiers()
    for e in ("trace=chdir,pipe2", "fault=chdir:error=ENOENT"):
        q.qualify(e)
    kernel, _ = in_kernel_split(q.inject, q.trace)
    trace = frozenset(q.trace) - frozenset(kernel)
    run = EmbeddedRun([str(bins["forkbomb"]), "6"], bpf=compile_filter(trace, errno=kernel), plan=build_plan(trace),
                      stats=True).start()
    try:
        recs = list(run.records())
    finally:
        run.close()
    assert run.status() == 0
    calls = [r for r in recs if r[0] in (Rec.SYSCALL, Rec.SYSCALL_ENTRY)]
    assert {field(r, "nr") for r in calls} == {293}  # pipe2 only: chdir never stopped
    assert run.stats["seccomp_stops"] == len(calls) == 62  # one pipe per child


def test_exec_keeps_the_faults(bins):
    r = _tracectl("--in-kernel", *T.exprs("trace=none", "fault=chdir:error=EACCES"),
                  "sh", "-c", "cd /tmp; exec sh -c 'cd /tmp || echo again'")
    assert r.stderr.count("can't cd to /tmp") == 2 and r.stdout == "again\n"


def test_mixed_goes_where_it_can(bins):
    r = _tracectl("--in-kernel", *T.exprs("trace=chdir,close", "fault=close:error=EBADF", "inject=chdir:error=ENOENT:when=2"),
                  str(bins["calls"]), "seq")
    note = [l for l in r.stderr.splitlines() if l.startswith("tracectl: --in-kernel:")]
    assert note == ["tracectl: --in-kernel: failed by the seccomp filter, never stopped, printed or counted: close; by stops: chdir"]
    # the loader's close fails in the kernel: the program never runs its chdirs
    assert "chdir(" not in r.stderr and r.returncode == 127


@pytest.mark.parametrize("args,msg", [
    (["-P", "/tmp", "-e", "fault=chdir"], "--in-kernel is refused with -P"),
    (["-e", "fault=execve"], "faults on execve/execveat are refused with run"),
])
def test_refusals(bins, args, msg):
    r = _tracectl("--in-kernel", *args, "true")
    assert r.returncode == 1 and msg in r.stderr and r.stderr.count("\n") == 1


def test_refused_with_plain_attach():
    r = subprocess.run([str(T.TRACECTL), "--embedded", "attach", "--in-kernel", "-e", "fault=chdir", "1"], capture_output=True, text=True)
    assert r.returncode == 1 and "use attach --seccomp-bpf" in r.stderr

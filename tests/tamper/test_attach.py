"""Tampering with a running process: `tracectl attach` with plain syscall
stops and with --seccomp-bpf; counting starts at the attach (when=2+3:
the 2nd, 5th, 8th... traced call after it)."""

from __future__ import annotations

import re
import signal
import subprocess
import time

import pytest

from . import _tamper as T

pytestmark = pytest.mark.skipif(T.skip_reason() is not None, reason=T.skip_reason() or "")


@pytest.fixture(scope="module")
def prog(tmp_path_factory):
    return T.build(tmp_path_factory.mktemp("attach"))


@pytest.mark.parametrize("mode", [[], ["--seccomp-bpf"]])
def test_attach_injects(prog, mode, tmp_path):
    out = open(tmp_path / "out", "w+")
    p = subprocess.Popen([str(prog), "loop"], stdout=out)
    try:
        for _ in range(500):  # bounded: the program says "ready" at once
            if (tmp_path / "out").read_text().startswith("ready"):
                break
            time.sleep(0.01)
        log = tmp_path / "trace"
        t = subprocess.Popen([str(T.TRACECTL), "--embedded", "attach", *mode, "-o", str(log),
                              *T.exprs("trace=chdir", "inject=chdir:error=ENOENT:when=2+3"), str(p.pid)],
                             stderr=subprocess.PIPE, text=True)
        for _ in range(1000):  # until 8 whole calls are in the trace (bounded)
            if log.exists() and sum(" = " in l for l in log.read_text().splitlines()) >= 8:
                break
            time.sleep(0.01)
        t.send_signal(signal.SIGINT)
        _, err = t.communicate(timeout=30)
        assert t.returncode in (0, -signal.SIGINT), err  # it ends with the signal, as strace
    finally:
        p.kill()
        p.wait()
    # the first 8 calls (the detach may cut the last one short)
    lines = [l for l in log.read_text().splitlines() if l.startswith("chdir(")]
    injected = [i for i, l in enumerate(lines) if l.endswith("= -1 ENOENT (No such file or directory) (INJECTED)")]
    assert injected[:3] == [1, 4, 7]
    assert all(re.search(r"= 0$", l) for i, l in enumerate(lines[:8]) if i not in injected)
    # the tracee saw those failures, and maybe one more: a call tampered with
    # at its entry when the detach came still gets its error at its exit
    # (not the skipped call's ENOSYS), after the trace has ended
    seen = (tmp_path / "out").read_text().count("chdir -1 2")
    assert len(injected) <= seen <= len(injected) + 1


def test_attach_in_kernel_is_as_irreversible_as_the_filter(prog, tmp_path):
    """attach --seccomp-bpf --in-kernel: the fault goes into the injected
    filter, says so, and stays after the detach."""
    out = tmp_path / "out"
    p = subprocess.Popen([str(prog), "loop"], stdout=open(out, "w"))
    try:
        for _ in range(500):
            if out.read_text().startswith("ready"):
                break
            time.sleep(0.01)
        t = subprocess.Popen([str(T.TRACECTL), "--embedded", "attach", "--seccomp-bpf", "--in-kernel",
                              *T.exprs("trace=getppid", "fault=chdir:error=EPERM"), str(p.pid)],
                             stderr=subprocess.PIPE, text=True)
        for _ in range(1000):  # bounded: until the tracee has seen the fault
            if "chdir -1 1" in out.read_text():
                break
            time.sleep(0.01)
        t.send_signal(signal.SIGINT)
        _, err = t.communicate(timeout=30)
        seen = out.read_text().count("chdir -1 1")
        for _ in range(1000):  # after the detach: still failing
            if out.read_text().count("chdir -1 1") > seen:
                break
            time.sleep(0.01)
        assert out.read_text().count("chdir -1 1") > seen
    finally:
        p.kill()
        p.wait()
    assert f"process {p.pid} keeps these faults in its seccomp filter until it exits" in err

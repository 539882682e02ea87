"""The tamper section: strace's rules for several expressions, and the
parser against strace 6.1 itself (the oracle) on accepted forms, limits and
messages."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tracerd._errors import UsageError
from tracerd._wire import Pers, TamperAction
from tracerd.bpfgen import Qualifiers, build_plan, parse_plan, tamper_map


def _q(*exprs):
    q = Qualifiers()
    for e in exprs:
        q.qualify(e)
    return q


def _rules(*exprs):
    q = _q(*exprs)
    return {(r["pers"], r["nr"]): r for r in parse_plan(build_plan(q.trace, tamper=tamper_map(q.inject, q.trace))).get("tamper", ())}


def test_last_expression_wins_whole():
    r = _rules("trace=close,chdir", "inject=close:error=1:when=2", "fault=%desc")
    assert r[(Pers.X86_64, 3)]["error"] == 38 and r[(Pers.X86_64, 3)]["first"] == 1  # fault's ENOSYS, every call
    assert (Pers.X86_64, 80) not in r


def test_only_traced_calls_are_tampered_with():
    assert _rules("trace=close", "inject=chdir:error=1") == {}
    r = _rules("trace=chdir@64", "inject=chdir:error=1")
    assert set(r) == {(Pers.X86_64, 80)}


def test_actions_and_substitute_per_personality():
    r = _rules("trace=chdir", "inject=chdir:syscall=getpid:retval=3:signal=9:delay_exit=2ms:poke_enter=@arg1=00")
    x, i = r[(Pers.X86_64, 80)], r[(Pers.I386, 12)]
    assert x["scno"] == 39 and i["scno"] == 20  # getpid in each personality
    assert x["actions"] == TamperAction.RETVAL | TamperAction.SYSCALL | TamperAction.SIGNAL | TamperAction.DELAY_EXIT | TamperAction.POKE_ENTER
    assert x["delay_exit_ns"] == 2_000_000 and x["signo"] == 9 and x["pokes"] == [{"phase": 0, "arg": 1, "data": "00"}]


def test_syscall_without_error_or_retval_substitutes_nothing():
    r = _rules("trace=chdir@64", "inject=chdir:syscall=getpid:signal=1")
    assert r[(Pers.X86_64, 80)]["scno"] == -1 and not r[(Pers.X86_64, 80)]["actions"] & TamperAction.SYSCALL


def test_retval_warnings():
    assert _q("inject=chdir:retval=-1").warnings == ["Inadvertent injection of error 1 is possible for retval=18446744073709551615"]
    assert _q("inject=chdir:retval=4294967296").warnings == ["Injected return value 4294967296 will be clipped to 0 in compat personality"]
    assert _q("inject=chdir:retval=5").warnings == []


def test_paths_and_argument_masks():
    q = _q("trace=openat@64,close@64,getpid@64", "inject=openat,close,getpid:error=1")
    plan = parse_plan(build_plan(q.trace, tamper=tamper_map(q.inject, q.trace), paths=["/etc/passwd", "/tmp"]))
    assert plan["tamper_paths"] == ["/etc/passwd", "/tmp"]
    masks = {r["nr"]: (r["pathargs"], r["fdargs"]) for r in plan["tamper"]}
    assert masks == {257: (0b10, 0b1), 3: (0, 0b1), 39: (0, 0)}  # openat(dirfd, path), close(fd)


def test_in_kernel_with_P_is_refused():
    import argparse

    from tracerd.client._options import _tamper

    q = _q("inject=chdir:error=1")
    q.add_path("/tmp")
    assert _tamper(q)[0]  # by stops: fine
    with pytest.raises(UsageError, match="-P"):
        _tamper(q, argparse.Namespace(in_kernel=True, seccomp_bpf=False))


# expressions checked against strace 6.1: accepted or refused, and with
# which message (the parse-time warnings too)
ORACLE = """close:error=22:when=3|close:when=3|close:error=22:when=0|close:error=22:when=65535
close:error=22:when=65536|close:error=22:when=3..2|close:error=22:when=3..65535|close:error=22:when=3..65534
close:error=22:when=3+0|close:error=22:when=3+65535|close:error=22:when=+3|close:error=22:when= 3
close:error=22:when=3+|close:error=22:when=3..5+|close:error=22:when=3.5|close:error=22:when=3..+2
close:error=1:when=2..+3|close:error=1:when=1.. 3|close:error=1:when=1+ 2|close:error=1:when=-1
close:error=1:when=1+-1|close:error=1:when=1..3+0|close:error=1:when=1..3+65536|close:error=1:when=0x5
close:error=1:when=010|close:error=1:when=3+5x|close:error=1:when=1..2..3|close:error=1:when=1...3
close:error=1:when=65535+|close:error=1:when=65534..65535|close:error=1:when=1..|close:error=1:when=1..+
close:error=4096|close:error=4095|close:error=0|close:error=einval|close:error=EINVAL:retval=1
close:error= 5|close:error=+5|close:error=0x5|close:error=05|close:error=EWOULDBLOCK|close:error=EDEADLOCK
close:error=ENOTSUP|close:error=EOPNOTSUPP|close:error=ENOGRACE|close:error=ERECALLCONFLICT|close:error=ERESTARTSYS
close:retval=-1|close:retval=-4095|close:retval=-4096|close:retval=4294967295|close:retval=4294963201
close:retval=0x10|close:retval= 5|close:retval=08|close:retval=18446744073709551616|close:retval=
close:signal=0|close:signal=64|close:signal=65|close:signal=sigusr1|close:signal=usr1|close:signal=SIGRTMIN
close:signal=SIGRT_1|close:signal=SIGIOT|close:signal=SIGRTMAX|close:signal=RT_32|close:signal= 9
close:signal=+9|close:signal=009|close:signal=255|close:signal=1:signal=2
close:delay_enter=1s|close:delay_enter=1.5ms|close:delay_enter=-1|close:delay_enter=1e3|close:delay_enter=1m
close:delay_enter= 1|close:delay_enter=9223372036854775808ns|close:delay_enter=99999999999999999999
close:delay_enter=1e400|close:delay_enter=inf|close:delay_enter=0x10|close:delay_enter=-0.0|close:delay_enter=1e
close:delay_enter=.5|close:delay_enter=1.|close:delay_enter=1US|close:delay_enter=1:delay_enter=2
close:poke_enter=@arg1=00|close:poke_enter=@arg0=00|close:poke_enter=@arg8=00|close:poke_enter=@arg1=0
close:poke_enter=@arg1=|close:poke_enter=@arg1=0X00|close:poke_enter=@arg1=0x|close:poke_enter=@arg1=0x0
close:poke_enter=@arg1=00,,@arg2=00|close:poke_enter=@arg1=00,@arg1=11|close:poke_enter=@arg01=00
close:poke_enter=@arg1=00:poke_enter=@arg2=00|close:poke_exit=@arg1=00:poke_enter=@arg1=00
close:syscall=getpid|close:syscall=getpid:error=1|close:syscall=open:error=1|close:syscall=getuid32:error=1
close:syscall=getuid:error=1|close:syscall=getpid:syscall=getppid:error=1|:error=1|close:|close::error=1
close:error|?clos:error=1|close:foo=1|none:error=1|close:error=1:error=2|close:when=1:when=2:error=1
connect@32:error=1"""
FAULT = "close|close:retval=1|close:signal=1|close:when=2|close:error=ENOENT:syscall=getpid|close:delay_enter=1|close:syscall=getpid|close:foo=1"


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace not installed (the oracle)")
def test_parser_agrees_with_strace():
    cases = ["inject=" + c for c in ORACLE.replace("\n", "|").split("|")] + ["fault=" + c for c in FAULT.split("|")]
    diffs = []
    for c in cases:
        # chdir is never called by /bin/true: nothing is tampered with, only parsed
        expr = c.replace("close", "chdir", 1) if c.startswith(("inject=close", "fault=close")) else c
        r = subprocess.run(["strace", "-qq", "-o", "/dev/null", "-e", expr, "/bin/true"], capture_output=True, text=True, timeout=30)
        theirs = [line for line in r.stderr.splitlines() if line.startswith("strace: ")]
        q = Qualifiers()
        try:
            q.qualify(expr)
            ours = ["strace: " + w for w in q.warnings]
        except UsageError as exc:
            ours = ["strace: " + str(exc)]
        if ours != theirs:
            diffs.append((expr, theirs, ours))
    assert not diffs
    assert len(cases) > 120

"""`tracectl bpf` and `tracectl syscalls`."""

import pytest

pytest.importorskip("pyseccomp")

from tracerd.bpfgen import Qualifiers, compile_filter, disassemble
from tracerd.client._cli import main


def run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_bpf_prints_the_disassembly(capsys):
    rc, out, err = run(capsys, "bpf", "-e", "trace=open,connect@32")
    assert rc == 0 and err == ""
    q = Qualifiers()
    q.qualify("trace=open,connect@32")
    assert out.splitlines() == disassemble(compile_filter(q.trace))
    assert "; open" in out and "; connect" in out and "; socketcall" in out


def test_bpf_with_paths_and_entry_only(capsys):
    rc, out, _ = run(capsys, "bpf", "-P", "/etc/passwd", "--entry-only")
    assert rc == 0
    assert "; openat" in out and "; getpid" not in out
    assert "EXIT" not in out.replace("exit", "")  # no exit stops asked: no EXIT bit anywhere


def test_bpf_binary(capsysbinary):
    assert main(["bpf", "-e", "trace=read", "--binary"]) == 0
    raw = capsysbinary.readouterr().out
    q = Qualifiers()
    q.qualify("trace=read")
    assert raw == compile_filter(q.trace)


def test_bpf_plan(capsys):
    rc, out, _ = run(capsys, "bpf", "-e", "trace=read@64", "--plan", "-s", "64")
    assert rc == 0
    assert "1 entries, strsize 64" in out
    assert "read" in out and "exit  BUF    arg1 len=ret" in out


def test_bpf_errors(capsys):
    rc, out, err = run(capsys, "bpf", "-e", "trace=opne")
    assert rc == 1 and out == ""
    assert err == "tracectl: invalid system call 'opne'; did you mean 'open'?\n"
    rc, _, err = run(capsys, "bpf", "--bogus")
    assert rc == 1 and err == "tracectl: unrecognized option '--bogus'\n"


def test_syscalls_lists_per_personality(capsys):
    rc, out, err = run(capsys, "syscalls", "%network")
    assert rc == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "X86_64", "I386", "X32", "CLASSES"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert "socketcall" not in rows  # only through its subcalls
    assert rows["connect"].split()[1:4] == ["42", "362,", "socketcall:3"]
    assert rows["accept"].split()[1:4] == ["43", "socketcall:5", "43"]
    assert rows["recvmsg"].split()[4] == "519"  # x32's own compat number, shown without bit 30
    assert all("%network" in line for line in lines[1:])


def test_syscalls_regex_names_and_errors(capsys):
    rc, out, _ = run(capsys, "syscalls", "/^open", "close")
    names = [line.split()[0] for line in out.splitlines()[1:]]
    assert rc == 0 and names == sorted(names)
    assert {"open", "openat", "openat2", "open_by_handle_at", "close"} <= set(names)
    rc, out, _ = run(capsys, "syscalls", "%%stat")
    assert {"stat", "lstat", "fstat", "newfstatat", "statx", "stat64", "fstatat64"} <= {line.split()[0] for line in out.splitlines()[1:]}
    rc, out, err = run(capsys, "syscalls", "%nosuch")
    assert rc == 1 and err.startswith("tracectl: invalid system call '%nosuch'")
    rc, out, _ = run(capsys, "syscalls")
    assert rc == 0 and len(out.splitlines()) > 400


def test_syscalls_rich_table_on_a_terminal(capsys, monkeypatch):
    import sys

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    rc, out, _ = run(capsys, "syscalls", "%clock")
    assert rc == 0
    assert "system calls in '%clock'" in out
    assert "clock_gettime" in out and "228" in out and "│" in out  # rich draws box characters


def test_start_up_holds_the_collector_only_as_the_program(capsys):
    """tracectl run as a program keeps the cyclic collector off while it
    starts (settled() turns it back on, freezing what start-up made); a
    caller's main(argv) leaves the collector as it was."""
    import gc

    from tracerd.client import _cli

    before = gc.get_freeze_count()
    assert gc.isenabled()
    run(capsys, "bpf", "-e", "trace=read")
    assert gc.isenabled() and gc.get_freeze_count() == before
    try:
        assert _cli._main(["bpf", "-e", "trace=read"], True) == 0
        assert not gc.isenabled() and _cli._gc_held
        _cli.settled()
        assert gc.isenabled() and not _cli._gc_held and gc.get_freeze_count() > before
        _cli.settled()  # a second call changes nothing
        assert gc.isenabled()
        # watch (a long loop that never calls settled()) is not held
        with pytest.raises(SystemExit):
            _cli._main(["watch", "--help"], True)
        assert gc.isenabled() and not _cli._gc_held
    finally:
        _cli._gc_held = False
        gc.enable()
        gc.unfreeze()
    capsys.readouterr()

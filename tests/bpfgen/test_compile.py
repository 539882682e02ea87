"""The BPF compiler: what the program returns for every (arch, nr), that the
kernel can cache it, its size, and the disassembly."""

import pytest

pytest.importorskip("pyseccomp")

from tracerd._wire import AUDIT_ARCH, EntryFlag, Pers
from tracerd.bpfgen import Qualifiers, cache_problems, compile_filter, disassemble, instructions, load_table, trace_flags

TABLE = load_table()
ALLOW = 0x7FFF0000
TRACE = 0x7FF00000


def run_bpf(bpf: bytes, arch: int, nr: int) -> int:
    """A classic-BPF interpreter for the subset a seccomp filter on nr/arch
    uses; anything else fails the test (it would also defeat the cache)."""
    prog = instructions(bpf)
    data = {0: nr, 4: arch}
    pc, a = 0, 0
    for _ in range(len(prog) + 1):
        code, jt, jf, k = prog[pc]
        if code == 0x20:  # ld [k]
            a = data[k]
            pc += 1
        elif code == 0x54:  # and #k
            a &= k
            pc += 1
        elif code == 0x05:  # ja
            pc += 1 + k
        elif code in (0x15, 0x25, 0x35, 0x45):
            cond = {0x15: a == k, 0x25: a > k, 0x35: a >= k, 0x45: bool(a & k)}[code]
            pc += 1 + (jt if cond else jf)
        elif code == 0x06:
            return k
        else:
            raise AssertionError(f"unexpected opcode {code:#x} at {pc}")
    raise AssertionError("program did not return")


def arch_of(pers):
    return AUDIT_ARCH[pers]


def sel(*exprs):
    q = Qualifiers()
    for e in exprs:
        q.qualify(e)
    return q.trace


SETS = ["trace=all", "trace=none", "trace=%file", "trace=%network", "trace=open", "trace=read,write,exit_group",
        "trace=%process@32", "trace=getpid@32", "trace=%ipc", "trace=connect@32,openat@x32", "trace=/^(rt_)?sig"]


@pytest.mark.parametrize("expr", SETS)
def test_program_is_cacheable_and_small(expr):
    bpf = compile_filter(sel(expr))
    assert cache_problems(bpf) == []
    assert len(bpf) // 8 < 4096
    codes = {c for c, _, _, _ in instructions(bpf)}
    assert codes <= {0x20, 0x05, 0x15, 0x25, 0x35, 0x45, 0x54, 0x06}
    loads = {k for c, _, _, k in instructions(bpf) if c == 0x20}
    assert loads <= {0, 4}


@pytest.mark.parametrize("expr", SETS)
@pytest.mark.parametrize("entry_only", [False, True])
def test_program_returns_trace_data_exactly_for_the_set(expr, entry_only):
    trace = sel(expr)
    bpf = compile_filter(trace, entry_only=entry_only)
    flags = trace_flags(trace, entry_only=entry_only)
    assert set(trace) <= set(flags)
    for pers in Pers:
        for nr in list(TABLE.numbers(pers)) + [999, 0x40000000 | 999]:
            got = run_bpf(bpf, arch_of(pers), nr)
            if (pers, nr) in flags:
                assert got == TRACE | flags[(pers, nr)], (pers, nr, hex(got))
            else:
                assert got == ALLOW, (pers, nr, hex(got))
    # an unknown architecture is allowed, never killed
    assert run_bpf(bpf, 0xDEADBEEF, 2) == ALLOW


def test_trace_data_bits():
    flags = trace_flags(sel("trace=openat,read,getpid,exit_group,execve"))
    assert flags[(Pers.X86_64, 257)] == EntryFlag.EXIT | EntryFlag.FETCH_ENTRY
    assert flags[(Pers.X86_64, 0)] == EntryFlag.EXIT | EntryFlag.FETCH_EXIT
    assert flags[(Pers.X86_64, 39)] == EntryFlag.EXIT
    assert flags[(Pers.X86_64, 231)] == 0  # never returns: no exit stop
    assert flags[(Pers.X86_64, 59)] == EntryFlag.EXIT | EntryFlag.FETCH_ENTRY
    eo = trace_flags(sel("trace=openat,read"), entry_only=True)
    assert eo[(Pers.X86_64, 257)] == EntryFlag.FETCH_ENTRY
    assert eo[(Pers.X86_64, 0)] == 0


def test_i386_multiplexer_is_traced_whole():
    bpf = compile_filter(sel("trace=connect@32"))
    assert cache_problems(bpf) == []
    i386 = AUDIT_ARCH[Pers.I386]
    assert run_bpf(bpf, i386, 102) & 0xFFFF0000 == TRACE  # socketcall, whatever its subcall
    assert run_bpf(bpf, i386, 362) & 0xFFFF0000 == TRACE  # direct connect
    assert run_bpf(bpf, i386, 359) == ALLOW  # direct socket
    assert run_bpf(bpf, AUDIT_ARCH[Pers.X86_64], 42) == ALLOW  # x86_64 connect not selected


def test_disassembly_names_syscalls_per_arch():
    lines = disassemble(compile_filter(sel("trace=open,connect@32,exit_group")))
    text = "\n".join(lines)
    assert len(lines) == len(compile_filter(sel("trace=open,connect@32,exit_group"))) // 8
    assert lines[0].startswith("0000: ld     [4]") and lines[0].endswith("; arch")
    assert "; AUDIT_ARCH_X86_64" in text and "; AUDIT_ARCH_I386" in text
    for name in ("open", "connect", "socketcall", "exit_group"):
        assert f"; {name}" in text
    assert "; TRACE(EXIT|FETCH_ENTRY)" in text and "; TRACE(0)" in text
    assert lines[-1].endswith("; ALLOW")
    # open is 5 on i386 and 2 on x86_64: the comment follows the arch checked
    i386_line = next(line for line in lines if "#0x5," in line)
    assert i386_line.endswith("; open")


def test_disassembly_of_trace_all_is_complete():
    lines = disassemble(compile_filter(sel("trace=all")))
    named = sum(1 for line in lines if line.split("; ")[-1] in TABLE.syscalls)
    assert named > 1000

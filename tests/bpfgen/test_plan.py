"""The fetch plan: derived from the table's kinds, flags equal to the filter's
data bits, golden vectors shared with the native side."""

import json
from pathlib import Path

import pytest

pytest.importorskip("pyseccomp")

from tracerd._wire import LEN_FIXED, LEN_NONE, LEN_RET, PATH_MAX, PLAN_HEADER, EntryFlag, Op, Pers, PlanFlag
from tracerd.bpfgen import Qualifiers, build_plan, compile_filter, instructions, parse_plan, trace_flags

from .make_plan_vectors import expected

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
ENTRY, EXIT = 0, 1


def sel(*exprs):
    q = Qualifiers()
    for e in exprs:
        q.qualify(e)
    return q.trace


def ops_of(plan, pers, nr):
    for e in plan["entries"]:
        if (e["pers"], e["nr"]) == (pers, nr):
            return e["flags"], [(o["phase"], o["kind"], o["arg"], o["len"], o["size"]) for o in e["ops"]]
    raise KeyError((pers, nr))


def test_ops_follow_argument_kinds():
    plan = parse_plan(build_plan(sel("trace=" + ",".join(n + "@64" for n in
        "openat read write fstat nanosleep execve writev readv connect getdents64 poll exit_group uname".split())), strsize=48))
    x = Pers.X86_64
    assert ops_of(plan, x, 257) == (3, [(ENTRY, Op.CSTR, 1, LEN_NONE, PATH_MAX)])  # path
    assert ops_of(plan, x, 0) == (5, [(EXIT, Op.BUF, 1, LEN_RET, 0)])  # buf[out, len=ret]
    assert ops_of(plan, x, 1) == (3, [(ENTRY, Op.BUF, 1, 2, 0)])  # buf[in, len=arg2]
    assert ops_of(plan, x, 5) == (5, [(EXIT, Op.STRUCT, 1, LEN_FIXED, 144)])  # struct[stat, out]
    assert ops_of(plan, x, 35) == (7, [(ENTRY, Op.STRUCT, 0, LEN_FIXED, 16), (EXIT, Op.STRUCT, 1, LEN_FIXED, 16)])
    assert ops_of(plan, x, 59) == (3, [(ENTRY, Op.CSTR, 0, LEN_NONE, PATH_MAX), (ENTRY, Op.STRARR, 1, LEN_NONE, 0), (ENTRY, Op.STRARR, 2, LEN_NONE, 0)])
    assert ops_of(plan, x, 20) == (3, [(ENTRY, Op.IOVEC, 1, 2, 0)])  # iovec[in, len=arg2]
    # readv's iovec[inout, len=arg2]: the vectors at entry too (their addresses when the call fails)
    assert ops_of(plan, x, 19) == (7, [(ENTRY, Op.IOVEC, 1, 2, 0), (EXIT, Op.IOVEC, 1, 2, 0)])
    assert ops_of(plan, x, 42) == (3, [(ENTRY, Op.BUF, 1, 2, 128)])  # sockaddr: BUF with its length, up to 128 whatever -s
    assert ops_of(plan, x, 217) == (5, [(EXIT, Op.BUF, 1, LEN_RET, 65536)])  # getdents64: the dirents whole, to count them
    assert ops_of(plan, x, 7) == (7, [(ENTRY, Op.BUF, 0, LEN_FIXED, 8 * (48 + 1)), (EXIT, Op.BUF, 0, LEN_FIXED, 8 * 128)])  # -s pollfds and the one after; at exit 128 at least, to find the ready ones
    assert ops_of(plan, x, 231) == (0, [])  # exit_group: no exit stop
    assert ops_of(plan, x, 63) == (5, [(EXIT, Op.STRUCT, 0, LEN_FIXED, 390)])
    assert plan["strsize"] == 48 and plan["flags"] == 0


def test_i386_sizes_and_multiplexer():
    plan = parse_plan(build_plan(sel("trace=fstat@32,connect@32,nanosleep@32,mmap@32")))
    i = Pers.I386
    assert ops_of(plan, i, 108)[1] == [(EXIT, Op.STRUCT, 1, LEN_FIXED, 64)]  # i386 struct stat
    assert ops_of(plan, i, 162)[1] == [(ENTRY, Op.STRUCT, 0, LEN_FIXED, 8), (EXIT, Op.STRUCT, 1, LEN_FIXED, 8)]
    assert ops_of(plan, i, 90)[1] == [(ENTRY, Op.STRUCT, 0, LEN_FIXED, 24)]  # old_mmap's argument block
    assert ops_of(plan, i, 102) == (3, [(ENTRY, Op.STRUCT, 1, LEN_FIXED, 24)])  # socketcall's args
    assert ops_of(plan, i, 362)[1] == [(ENTRY, Op.BUF, 1, 2, 128)]


def test_entry_only_and_cpu_time():
    plan = parse_plan(build_plan(sel("trace=read@64,openat@64"), entry_only=True, cpu_time=True))
    assert plan["flags"] == PlanFlag.CPU_TIME
    assert ops_of(plan, Pers.X86_64, 0) == (0, [])  # exit ops dropped with the exit stop
    assert ops_of(plan, Pers.X86_64, 257)[0] == EntryFlag.FETCH_ENTRY


@pytest.mark.parametrize("expr", ["trace=all", "trace=%file", "trace=%network", "trace=connect@32", "trace=none"])
@pytest.mark.parametrize("entry_only", [False, True])
def test_plan_flags_equal_filter_data(expr, entry_only):
    trace = sel(expr)
    plan = parse_plan(build_plan(trace, entry_only=entry_only))
    flags = {(e["pers"], e["nr"]): e["flags"] for e in plan["entries"]}
    assert flags == trace_flags(trace, entry_only=entry_only)
    assert set(trace) <= set(flags)
    # and the filter returns exactly those data bits (every distinct TRACE value is a plan flag)
    rets = {k & 0xFFFF for c, _, _, k in instructions(compile_filter(trace, entry_only=entry_only)) if c == 0x06 and k & 0xFFFF0000 == 0x7FF00000}
    assert rets == set(flags.values())
    keys = [(e["pers"], e["nr"]) for e in plan["entries"]]
    assert keys == sorted(keys)


def test_every_selectable_call_builds():
    plan = parse_plan(build_plan(sel("trace=all")))
    assert len(plan["entries"]) == len(sel("trace=all"))
    for e in plan["entries"]:
        for o in e["ops"]:
            assert o["len"] != LEN_RET or o["phase"] == EXIT


@pytest.mark.parametrize("name", sorted(expected()))
def test_golden_vectors(name):
    data = (VECTORS / f"{name}.bin").read_bytes()
    doc = json.loads((VECTORS / f"{name}.json").read_text())
    want_bytes, want_doc = expected()[name]
    assert data == want_bytes, "regenerate with python -m tests.bpfgen.make_plan_vectors after a deliberate change"
    assert doc == want_doc
    if "error" in doc:
        with pytest.raises(ValueError, match=doc["error"]):
            parse_plan(data)
    else:
        got = parse_plan(data)
        assert {k: v for k, v in doc.items() if k != "source"} == got


def test_parse_plan_rejects():
    good = build_plan(sel("trace=read@64,write@64"))
    with pytest.raises(ValueError, match="shorter than its header"):
        parse_plan(good[:5])
    swapped = bytearray(good)
    # swap the two entries' numbers: no longer sorted
    e0 = PLAN_HEADER.size
    rec = 8 + 8  # entry + one op
    swapped[e0:e0 + rec], swapped[e0 + rec:e0 + 2 * rec] = good[e0 + rec:e0 + 2 * rec], good[e0:e0 + rec]
    with pytest.raises(ValueError, match="not sorted"):
        parse_plan(bytes(swapped))
    bad_op = bytearray(good)
    bad_op[e0 + 8 + 1] = 99  # op kind
    with pytest.raises(ValueError, match="bad op"):
        parse_plan(bytes(bad_op))


def test_abbreviated_environment_is_counted_not_fetched():
    # strace prints an abbreviated execve's envp as `/* N vars */`: fetching
    # every string would be wasted work on every exec (the fork-heavy bench)
    q = Qualifiers()
    q.qualify("trace=execve@64")
    x = Pers.X86_64
    full = parse_plan(build_plan(q.trace))
    counted = parse_plan(build_plan(q.trace, abbrev=q.abbrev))
    assert ops_of(full, x, 59)[1] == [(ENTRY, Op.CSTR, 0, LEN_NONE, PATH_MAX), (ENTRY, Op.STRARR, 1, LEN_NONE, 0), (ENTRY, Op.STRARR, 2, LEN_NONE, 0)]
    assert ops_of(counted, x, 59)[1] == [(ENTRY, Op.CSTR, 0, LEN_NONE, PATH_MAX), (ENTRY, Op.STRARR, 1, LEN_NONE, 0), (ENTRY, Op.STRARR, 2, LEN_FIXED, 0)]

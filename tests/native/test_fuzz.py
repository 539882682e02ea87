"""The loop takes whatever the plan and the tracee give it: arbitrary plan
bytes are refused or parsed, never crash; arbitrary ops on garbage pointers
and lengths yield values or -errno, never a crash or a hang."""


import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from native_helpers import calls, needs_root, run_traced

from _plans import build_plan, nr_of, spec
from tracerd import _wire
from tracerd._wire import Op, Pers

native = pytest.importorskip("tracerd.native._tracer")
lib = native.lib


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_plan_parser_never_crashes_on_bytes(data):
    r = lib.tr_plan_check(data, len(data))
    assert r < 0 or r <= len(data) // 8


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=20))
def test_plan_parser_on_mutated_plans(edits):
    plan = bytearray(build_plan(spec(["openat", "execve", "read", "writev", "fstat"])))
    for pos, val in edits:
        if pos < len(plan):
            plan[pos] = val
    r = lib.tr_plan_check(bytes(plan), len(plan))
    assert r < 0 or r == _wire.PLAN_HEADER.unpack_from(plan)[2]


GARBAGE = r"""#include <unistd.h>
#include <sys/syscall.h>
/* the same nonsense arguments to a call the plan reads as it is told */
int main(void){
	static char buf[64] = "0123456789";
	long a[] = { 0, 1, 4096, -1, (long)buf, (long)buf + 60, 0x7fffffffffffL, 1L << 40 };
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 8; j++)
			syscall(SYS_getppid, a[i], a[j], a[(i + j) % 8], a[j], a[i], a[7 - i]);
	return 0;
}
"""

ops = st.tuples(
    st.integers(0, 1),
    st.sampled_from(list(Op)),
    st.integers(0, 5),
    st.sampled_from([0, 1, 2, 3, 4, 5, _wire.LEN_RET, _wire.LEN_FIXED, _wire.LEN_NONE]),
    st.sampled_from([0, 1, 7, 16, 100, 4096, 70000]),
)


@needs_root
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ops, min_size=1, max_size=6))
def test_arbitrary_ops_on_garbage_pointers(cbuild, oplist):
    # an FD op names the fd in an argument (LEN_NONE) or a few in an array
    def fd_size(src, size):
        if src == _wire.LEN_FIXED:
            return min(size, _wire.FD_ARRAY_MAX)
        return size if size == 0 else max(4, min(size, _wire.FD_STRIDE_MAX))  # 0: a bitmap

    oplist = [(p, k, a, _wire.LEN_NONE if k == Op.FD and src == _wire.LEN_RET else src,
               fd_size(src, size) if k == Op.FD else size) for p, k, a, src, size in oplist]
    # DEREF: its count from a field where no argument is named; FD_AT: an
    # offset below its bound; COND: every op after it in its phase gated
    # (one whose value is 0, the argument's, runs them)
    oplist = [(p, k, a | (size & 0xC8 if k == Op.DEREF else 0),
               _wire.LEN_FIELD if k == Op.DEREF and src > 5 and src != _wire.LEN_FIXED else _wire.LEN_NONE if k == Op.FD_AT else src,
               size % _wire.FD_AT_OFF_MAX if k == Op.FD_AT else (size & 0xFFFF) * 0x10001 if k == Op.DEREF else size)
              for p, k, a, src, size in oplist]
    oplist = sorted(oplist, key=lambda o: o[0])
    oplist = [o for j, o in enumerate(oplist)
              if o[1] != Op.COND or any(x[0] == o[0] and x[1] != Op.COND for x in oplist[j + 1:])]
    oplist = [(p, k, a, sum(1 for o in oplist[j + 1:] if o[0] == p) if k == Op.COND else src, 0 if k == Op.COND else size)
              for j, (p, k, a, src, size) in enumerate(oplist)]
    if not oplist:
        return
    prog = cbuild("garbage", GARBAGE)
    eflags = _wire.EntryFlag.EXIT
    if any(o[0] == 0 for o in oplist):
        eflags |= _wire.EntryFlag.FETCH_ENTRY
    if any(o[0] == 1 for o in oplist):
        eflags |= _wire.EntryFlag.FETCH_EXIT
    entries = {(Pers.X86_64, "getppid"): (eflags, sorted(oplist, key=lambda o: o[0]))}
    recs, status, _ = run_traced([prog], entries=entries, strsize=64)
    assert status == 0
    got = calls(recs, nr_of("getppid"))
    assert len(got) == 64
    for r in got:
        for phase, arg, value in _wire.field(r, "mem"):
            assert phase in (0, 1) and (0 <= arg <= 5 or _wire.FD_SLOT <= arg <= _wire.FD_SLOT + 5
                                        or _wire.DEREF_SLOT <= arg < _wire.DEREF_SLOT + 6 * 256 or _wire.is_fd_slot(arg))
            assert isinstance(value, (bytes, list, int))
            if isinstance(value, int):
                assert value < 0

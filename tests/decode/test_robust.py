"""Any record decodes to one line: hostile or truncated memory, unknown
numbers, every personality and option set. A decoder bug must never stop a
trace (the printer shows raw arguments instead)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracerd._wire import Pers, Rec, record
from tracerd.client.decode import DecodeOptions, Decoder

u64 = st.integers(0, (1 << 64) - 1)
memval = st.one_of(st.binary(max_size=300), st.integers(-4095, -1),
                   st.lists(st.one_of(st.binary(max_size=40), st.integers(-14, 0)), max_size=5).map(lambda l: [len(l), *l]),
                   st.lists(st.tuples(u64, st.integers(0, 1 << 20), st.one_of(st.binary(max_size=20), st.just(-14))).map(list), max_size=4))
mem = st.lists(st.tuples(st.integers(0, 1), st.integers(0, 5), memval).map(list), max_size=6)
opts = st.builds(DecodeOptions, strsize=st.integers(0, 64), xflag=st.integers(0, 2), yflag=st.integers(0, 2),
                 xstyle=st.sampled_from(["raw", "abbrev", "verbose"]),
                 abbrev=st.sampled_from([None, frozenset()]))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(opts, st.sampled_from(list(Pers)), st.integers(0, 460), st.lists(u64, min_size=6, max_size=6),
       st.one_of(st.none(), st.integers(-4095, (1 << 63) - 1)), mem)
def test_any_call_decodes_to_one_line(o, pers, nr, args, ret, m):
    d = Decoder(o)
    rec = record(Rec.SYSCALL, 1, 0, 1, 1, int(pers), nr, args, ret, ret is not None and ret < 0, 1, m, None, 0)
    line = d.call(rec)
    assert isinstance(line, str) and "\n" not in line
    assert line.startswith(d.name(pers, nr) + "(")
    e = record(Rec.SYSCALL_ENTRY, 1, 0, 1, 1, int(pers), nr, args, m, 0)
    x = record(Rec.SYSCALL_EXIT, 2, 0, 1, 1, int(pers), nr, ret, ret is not None and ret < 0, 1, m, None, 0)
    assert isinstance(d.entry(e) + d.resumed(x, e), str)


@given(st.integers(1, 64), st.binary(max_size=128))
def test_any_siginfo_decodes(signo, info):
    text = Decoder().signal(record(Rec.SIGNAL, 1, 0, 1, 1, signo, info))
    assert text.startswith("--- ") and text.endswith(" ---")

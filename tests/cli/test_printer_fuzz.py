"""Whatever order records come in (a tracer bug, a lost frame, a hostile
daemon), the printer never raises and always ends its lines."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from tracerd._wire import Pers, Rec, SysFlag, record

from cli_helpers import options

TIDS = st.sampled_from([100, 101, 102])
NRS = st.sampled_from([0, 1, 3, 39, 59, 61, 231, 257, 999, 4000])
RET = st.one_of(st.none(), st.integers(-4095, 1 << 40))
ARGS = st.lists(st.integers(0, (1 << 64) - 1), min_size=6, max_size=6)
MEM = st.lists(st.tuples(st.integers(0, 1), st.integers(0, 5), st.one_of(st.binary(max_size=40), st.integers(-14, -1))).map(list), max_size=3)


@st.composite
def records(draw):
    kind = draw(st.sampled_from(list(Rec)))
    tid = draw(TIDS)
    seq, ts = draw(st.integers(0, 1000)), draw(st.integers(0, 1 << 62))
    if kind == Rec.SYSCALL:
        ret = draw(RET)
        return record(kind, seq, ts, tid, tid, Pers.X86_64, draw(NRS), draw(ARGS), ret, ret is not None and ret < 0, draw(st.one_of(st.none(), st.integers(0, 10**9))), draw(MEM), draw(st.one_of(st.none(), st.integers(0, 10**9))), draw(st.sampled_from([0, SysFlag.NO_EXIT, SysFlag.VANISHED, SysFlag.SECCOMP])))
    if kind == Rec.SYSCALL_ENTRY:
        return record(kind, seq, ts, tid, tid, Pers.X86_64, draw(NRS), draw(ARGS), draw(MEM), 0)
    if kind == Rec.SYSCALL_EXIT:
        ret = draw(RET)
        return record(kind, seq, ts, tid, tid, Pers.X86_64, draw(NRS), ret, ret is not None and ret < 0, draw(st.integers(0, 10**9)), draw(MEM), None, draw(st.sampled_from([0, SysFlag.VANISHED])))
    if kind == Rec.EXEC:
        return record(kind, seq, ts, tid, tid, draw(TIDS))
    if kind == Rec.NEWTASK:
        return record(kind, seq, ts, tid, tid, draw(TIDS), draw(st.integers(1, 3)))
    if kind == Rec.SIGNAL:
        return record(kind, seq, ts, tid, tid, draw(st.integers(1, 64)), draw(st.binary(min_size=128, max_size=128)))
    if kind == Rec.EXIT:
        return record(kind, seq, ts, tid, tid, draw(st.integers(0, 255)))
    if kind == Rec.KILLED:
        return record(kind, seq, ts, tid, tid, draw(st.integers(1, 64)), draw(st.booleans()))
    if kind == Rec.LOST:
        return record(kind, seq, ts, tid, tid, draw(st.integers(1, 100)))
    if kind == Rec.ERROR:
        return record(kind, seq, ts, tid, tid, draw(st.integers(0, 133)), draw(st.text(max_size=20)))
    if kind == Rec.STOPPED:
        return record(kind, seq, ts, tid, tid, draw(st.integers(1, 64)))
    return record(kind, seq, ts, tid, tid)


OPTION_SETS = [
    options(),
    options(follow=1, syscall_times=True, tflag=2, ts_format="time", ts_precision=6, relative=True),
    options(follow=1, summary=2, status=frozenset({"failed", "unfinished"})),
    options(follow=1, attach=True, syscall_number=True, quiet=frozenset({"exit"})),
    options(fmt="jsonl", follow=1),
]


@settings(max_examples=150, deadline=None)
@given(st.lists(records(), max_size=40), st.sampled_from(range(len(OPTION_SETS))))
def test_printer_never_raises_and_ends_lines(recs, which):
    from tracerd.client._output import Printer
    from tracerd.client.decode import Decoder

    opts = OPTION_SETS[which]
    out, notes = io.StringIO(), io.StringIO()
    p = Printer(opts, Decoder(opts.decode), out, notes=notes, roots=[100])
    for r in recs:
        p.feed(r)
    p.finish()
    text = out.getvalue()
    assert text == "" or text.endswith("\n")
    if opts.fmt == "jsonl":
        for line in text.splitlines():
            json.loads(line)

"""The printer's sequencing and layout, and what they share with the sinks.

- an entry is formatted once: the exit's line (held by status=, or ended by
  the task going away) reuses the text the entry printed;
- a table call split into entry and exit is formatted once by the decoder:
  the entry's half and the exit's half make the whole;
- the decoder's remembered texts are what decoding anew gives;
- the sinks' SessionFormatter lays out whole calls and the +++/--- lines
  as the printer does (without the pid prefix: the pid is a field there)."""

from __future__ import annotations

import io
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from tracerd._wire import Pers, Rec, record

from cli_helpers import Recs, options
from test_printer_fuzz import ARGS, MEM, NRS, RET


def _counting_decoder(opts):
    from tracerd.client.decode import Decoder

    class Counting(Decoder):
        entries = 0

        def entry(self, rec):
            Counting.entries += 1
            return super().entry(rec)

    return Counting(opts.decode)


def _run(opts, recs, dec):
    from tracerd.client._output import Printer

    out = io.StringIO()
    p = Printer(opts, dec, out, notes=io.StringIO(), roots=[100])
    for r in recs:
        p.feed(r)
    p.finish()
    return out.getvalue()


def test_an_entry_is_formatted_once():
    r = Recs()
    # shown at entry, closed by another task's line, resumed; then one whose task goes away
    recs = [r.entry(100, 0, args=(0, 0x1000, 4096, 0, 0, 0)), r.call(101, 39, ret=7), r.exit_(100, 0, ret=3),
            r.entry(100, 0, args=(0, 0x1000, 4096, 0, 0, 0)), r.exited(100, 0)]
    dec = _counting_decoder(options(follow=1))
    text = _run(options(follow=1), recs, dec)
    assert dec.entries == 2
    assert "read(0,  <unfinished ...>\n" in text and "<... read resumed>" in text
    assert re.search(r"\] read\(0,  <unfinished \.\.\.>\) += \?$", text, re.M), text  # the text it printed, reused
    # held by status=: formatted at its exit, once
    dec = _counting_decoder(options(follow=1, status=frozenset({"successful"})))
    text = _run(options(follow=1, status=frozenset({"successful"})), recs[:3], dec)
    assert dec.entries == 1 and text.count("read(0, ") == 1


def test_halves_make_the_whole():
    """For every table call the generic decoder prints, compile_halves'
    entry and exit parts are compile_generic's arguments, split."""
    from tracerd.bpfgen import load_table
    from tracerd.client.decode import Decoder, DecodeOptions
    from tracerd.client.decode._core import compile_generic, compile_halves, generic_entry_count

    dec = Decoder(DecodeOptions())
    t = load_table()
    checked = 0
    for nr, sc in sorted(t.numbers(Pers.X86_64).items()):
        if sc.variants:
            continue
        n = generic_entry_count(sc)
        halves = compile_halves(sc.args, n)
        if halves is None:
            continue
        c = dec._refill(dec._info(0, nr), nr, [3, 0, 0x40, 1, 0, 0], 0, False, {}, 1, True)
        assert halves[0](c) + halves[1](c) == compile_generic(sc.args)(c), sc.name
        assert len(halves[0](c)) == n
        checked += 1
    assert checked > 100


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(NRS, ARGS, RET, MEM), min_size=1, max_size=12), st.integers(1, 3))
def test_remembered_calls_print_as_decoded_anew(calls, times):
    from tracerd.client.decode import Decoder, DecodeOptions

    recs = [record(Rec.SYSCALL, i, 0, 100, 100, Pers.X86_64, nr, list(args), ret, ret is not None and ret < 0, 0, [list(m) for m in mem], None, 0)
            for i, (nr, args, ret, mem) in enumerate(calls * times)]
    one = Decoder(DecodeOptions())
    assert [one.call_split(r) for r in recs] == [Decoder(DecodeOptions()).call_split(r) for r in recs]


def test_sink_lines_are_the_printers():
    from tracerd.client.sinks._event import SessionFormatter

    r = Recs()
    recs = [r.call(100, 257, ret=3, args=(0xFFFFFF9C, 0x1000, 0, 0, 0, 0), mem=[(0, 1, b"/etc/hostname\0")]),
            r.call(100, 3, ret=9, err=True), r.call(100, 39, ret=100), r.stopped(100, 19), r.killed(100, 9, core=True)]
    printed = _run(options(), recs, _counting_decoder(options())).splitlines()
    f = SessionFormatter("k", host="h")
    assert [f.event(rec)["line"] for rec in recs] == printed
    r = Recs()
    assert SessionFormatter("k", host="h").event(r.exited(100, 3))["line"] == _run(options(), [r.exited(100, 3)], _counting_decoder(options())).strip()


def test_personality_change_noted_on_the_common_options():
    """A task's calls switching personality get strace's note on every
    option set: feed()'s path for the common options used to skip it for
    64-bit and x32 calls (intended change: the note now shows there too)."""
    r = Recs()
    i386 = record(Rec.SYSCALL, 1, 1, 100, 100, Pers.I386, 20, [0] * 6, 100, False, 10, [], None, 0)  # getpid
    x64 = r.call(100, 39, ret=100)
    want = ["[ Process PID=100 runs in 32 bit mode. ]", "getpid()                                = 100",
            "[ Process PID=100 runs in 64 bit mode. ]", "getpid()                                = 100"]
    plain = _run(options(), [i386, x64], _counting_decoder(options())).splitlines()
    held = _run(options(status=frozenset({"successful"})), [i386, x64], _counting_decoder(options())).splitlines()
    assert plain == held == want


def test_short_records_are_decoded_not_remembered():
    """A record with fewer than six arguments (not from our tracer) prints
    as decoded; the memo's key does not stop it."""
    from tracerd.client.decode import Decoder

    r = Recs()
    rec = r.call(100, 257, 3, args=(0xFFFFFF9C, 0x1000, 0), mem=[(0, 1, b"/x\0")])
    d = Decoder(options().decode)
    assert d.call_split(rec) == d.call_split(rec) == ('openat(AT_FDCWD, "/x", O_RDONLY)', "3")


def test_jsonl_exit_names_args_from_its_entrys_text():
    """JSON lines: an exit's `args` come from the text its entry's object
    carried, not from formatting the entry again."""
    import json

    r = Recs()
    recs = [r.entry(100, 0, args=(0, 0x1000, 4096, 0, 0, 0)), r.call(101, 39, ret=7), r.exit_(100, 0, ret=3)]
    opts = options(follow=1, fmt="jsonl")
    dec = _counting_decoder(opts)
    objs = [json.loads(line) for line in _run(opts, recs, dec).splitlines()]
    assert dec.entries == 1
    entry, exit_ = objs[0], objs[2]
    assert entry["type"] == "syscall_entry" and exit_["type"] == "syscall_exit"
    assert exit_["args"]["fd"] == 0 and exit_["args"]["count"] == 4096, exit_


def test_perfetto_flow_ends_on_a_child_seen_before_its_fork_event():
    """seccomp mode: a child can stop, and be written, before its parent's
    fork event; the fork's flow then ends on a `started` instant of the
    child, not nowhere."""
    import tempfile

    from perfetto.protos.perfetto.trace.perfetto_trace_pb2 import Trace, TrackEvent

    from tracerd.client._perfetto import PerfettoPrinter
    from tracerd.client.decode import Decoder

    r = Recs()
    recs = [r.call(100, 39, ret=100), r.call(101, 110, ret=100), r.newtask(100, 101), r.exited(101), r.exited(100)]
    opts = options(follow=1, fmt="perfetto")
    with tempfile.TemporaryFile() as f:
        p = PerfettoPrinter(opts, Decoder(opts.decode), f, notes=io.StringIO(), roots=[100])
        for rec in recs:
            p.feed(rec)
        p.finish()
        f.seek(0)
        t = Trace()
        t.ParseFromString(f.read())
    events = [pk.track_event for pk in t.packet if pk.HasField("track_event")]
    (fork,) = [e for e in events if e.flow_ids]
    ends = [e for e in events if fork.flow_ids[0] in e.terminating_flow_ids]
    assert [e.name for e in ends] == ["started"] and ends[0].type == TrackEvent.TYPE_INSTANT

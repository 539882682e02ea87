"""The consumer's fast paths print exactly what the plain paths print.

`Printer(batch=True)` (what `trace()` uses: lines collected, written once per
frame) must give the same bytes as writing line by line, also when notes and
lines share one stream (stderr), and the decoder's inlined `call()` must fall
back to the same raw text as before when a family decoder fails."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracerd._wire import Pers, Rec, record

from cli_helpers import Recs, options
from test_printer_fuzz import OPTION_SETS, records


def _print(opts, recs, *, batch, frame, shared):
    from tracerd.client._output import Printer
    from tracerd.client.decode import Decoder

    out = io.StringIO()
    notes = out if shared else io.StringIO()
    p = Printer(opts, Decoder(opts.decode), out, notes=notes, roots=[100], batch=batch)
    for i, r in enumerate(recs, 1):
        p.feed(r)
        if i % frame == 0:
            p.flush()
    p.finish()
    return out.getvalue(), notes.getvalue()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), max_size=40), st.sampled_from(range(len(OPTION_SETS))), st.integers(1, 7), st.booleans())
def test_batched_output_is_the_unbatched_output(recs, which, frame, shared):
    opts = OPTION_SETS[which]
    plain = _print(opts, recs, batch=False, frame=frame, shared=shared)
    batched = _print(opts, recs, batch=True, frame=frame, shared=shared)
    assert batched == plain


def _general_decoder(opts):
    """The real decoder, with the printer told to join calls itself: feed's
    `(head, return)` pairs then give way to its joined text, cut at ` = `."""
    from tracerd.client.decode import Decoder

    class _Joined(Decoder):
        def split_calls(self):
            return False

    return _Joined(opts.decode)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), max_size=40), st.sampled_from(range(len(OPTION_SETS) + 3)))
def test_inlined_call_lines_are_the_general_path_lines(recs, which):
    from tracerd.client._output import Printer
    from tracerd.client.decode import Decoder

    extra = [options(follow=1, output="x"), options(follow=1, acolumn=10), options(syscall_times=True, tflag=3, ts_format="unix", ts_precision=6)]
    opts = (OPTION_SETS + extra)[which]
    outs = []
    for dec in (Decoder(opts.decode), _general_decoder(opts)):
        out = io.StringIO()
        p = Printer(opts, dec, out, notes=out, roots=[100], launched=bool(which % 2), batch=True)
        for i, r in enumerate(recs, 1):
            p.feed(r)
            if i % 5 == 0:
                p.flush()
        p.finish()
        outs.append(out.getvalue())
    assert outs[0] == outs[1]


def test_notes_keep_their_place_between_batched_lines():
    r = Recs()
    rs = [r.call(100, 39, 100), r.newtask(100, 101), r.call(101, 39, 101), r.exited(101), r.call(100, 39, 100)]
    out, _ = _print(options(follow=1), rs, batch=True, frame=100, shared=True)
    lines = out.splitlines()
    assert lines[0].startswith("getpid()") and lines[0].endswith("= 100")
    assert lines[1] == "tracectl: Process 101 attached"
    assert lines[2].startswith("[pid   101] getpid()")
    assert lines[3] == "[pid   101] +++ exited with 0 +++"
    assert lines[4].startswith("getpid()")


def test_per_task_files_are_the_same_batched(tmp_path):
    from tracerd.client._output import Printer
    from tracerd.client.decode import Decoder

    r = Recs()
    rs = [r.call(100, 39, 100), r.newtask(100, 101), r.entry(101, 0), r.call(100, 39, 100), r.exit_(101, 0, 3), r.exited(101), r.call(100, 3, 0)]
    texts = []
    for batch in (False, True):
        d = tmp_path / str(batch)
        d.mkdir()
        opts = options(follow=2, output=str(d / "t"))
        p = Printer(opts, Decoder(opts.decode), io.StringIO(), notes=io.StringIO(), roots=[100], batch=batch)
        for rec in rs:
            p.feed(rec)
        p.finish()
        texts.append({f.name: f.read_text() for f in sorted(d.iterdir())})
    assert texts[0] == texts[1]
    assert set(texts[0]) == {"t.100", "t.101"}
    assert texts[0]["t.101"].startswith("read(0, ")


def test_a_failing_family_decoder_prints_raw_arguments(monkeypatch):
    from tracerd.client.decode import Decoder, _core

    def broken(c):
        raise ValueError("decoder bug")

    monkeypatch.setitem(_core.REGISTRY, "close", _core.Spec(broken))
    rec = record(Rec.SYSCALL, 1, 2, 100, 100, Pers.X86_64, 3, [7, 0, 0, 0, 0, 0], 0, False, 10, [], None, 0)
    assert Decoder().call(rec) == "close(0x7) = 0"


def test_short_or_missing_argument_lists_read_as_zeros():
    from tracerd.client.decode import Decoder

    short = record(Rec.SYSCALL, 1, 2, 100, 100, Pers.X86_64, 3, [5], 0, False, 10, [], None, 0)
    none = record(Rec.SYSCALL, 1, 2, 100, 100, Pers.X86_64, 3, None, 0, False, 10, None, None, 0)
    assert Decoder().call(short) == "close(5) = 0"
    assert Decoder().call(none) == "close(0) = 0"


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 1 << 62), st.integers(1, 9))
def test_timestamp_fraction_is_fmt_secs_fraction(ts, digits):
    # -tt formats each second once and appends the fraction alone
    import time

    from tracerd.client._output import Printer, _fmt_secs
    from tracerd.client.decode import Decoder

    opts = options(tflag=2, ts_format="time", ts_precision=digits)
    out = io.StringIO()
    p = Printer(opts, Decoder(opts.decode), out, notes=io.StringIO(), roots=[100])
    r = Recs()
    rec = r.call(100, 39, 100)
    rec[2] = ts
    p.feed(rec)
    p.feed(list(rec))  # the same second again: the remembered text
    p.finish()
    sec = ts // 10**9
    stamp = time.strftime("%H:%M:%S", time.localtime(sec)) + _fmt_secs(ts, digits)[len(str(sec)):]
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and all(line.startswith(stamp + " getpid()") for line in lines)


def test_a_short_exit_record_reads_its_absent_fields_as_none():
    # not from our tracer, but the printer must not fail on one
    from tracerd.client._output import Printer
    from tracerd.client.decode import Decoder

    r = Recs()
    opts = options()
    out = io.StringIO()
    p = Printer(opts, Decoder(opts.decode), out, notes=io.StringIO(), roots=[100], batch=True)
    p.feed(r.entry(100, 0))
    p.feed([int(Rec.SYSCALL_EXIT), 9, 10, 100, 100, int(Pers.X86_64), 0, 3])  # no is_error, dur, mem, cpu, flags
    p.finish()
    assert out.getvalue().startswith("read(0, ") and out.getvalue().rstrip().endswith("= 3")

"""Which printer writes a trace: strace text and JSON lines (the Printer
itself), a msgpack recording (RecordingPrinter: a self-describing header
first), or a Perfetto trace (PerfettoPrinter)."""

from __future__ import annotations


def make_printer(kind: str, opts, decoder, out, *, recording=None, **kw):
    """kind: run, attach or watch (live), or replay (then `recording` is the
    recording's header, which tells what the records were made with)."""
    if opts.fmt == "perfetto":
        from ._perfetto import PerfettoPrinter

        if recording is not None:
            names = {int(k): v for k, v in (recording.get("names") or {}).items()}
            return PerfettoPrinter(opts, decoder, out, clocks=tuple(recording["clocks"]), names=names, live=False, **kw)
        return PerfettoPrinter(opts, decoder, out, **kw)
    if opts.fmt == "msgpack":
        from ._recording import RecordingPrinter, header_for

        return RecordingPrinter(opts, decoder, out, header=header_for(kind, opts, kw.get("roots")), **kw)
    from ._output import Printer

    return Printer(opts, decoder, out, **kw)

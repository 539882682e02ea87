"""Shared helpers for the CLI tests: record builders (tracerd._wire.record),
a printer runner over the real Decoder, and a decoder that fails on purpose."""

from __future__ import annotations

import io
from dataclasses import replace

from tracerd._wire import Pers, Rec, field, record


class BrokenDecoder:
    """The real decoder, except that it fails on syscall 999 (to test that a
    record the decoder cannot read still prints, raw)."""

    def __new__(cls, options=None):
        from tracerd.client.decode import Decoder

        class _Broken(Decoder):
            def call(self, rec):
                if field(rec, "nr") == 999:
                    raise ValueError("cannot decode")
                return super().call(rec)

        return _Broken(options)


class Recs:
    """Record builders with a running sequence number and clock."""

    def __init__(self):
        self.seq = 0
        self.ts = 1_700_000_000_000_000_000

    def _next(self, dt=1000):
        self.seq += 1
        self.ts += dt
        return self.seq, self.ts

    def call(self, tid, nr, ret=0, *, args=(1, 0, 3, 0, 0, 0), mem=(), err=False, dur=1234, cpu=None, tgid=None, flags=0, dt=1000):
        s, t = self._next(dt)
        return record(Rec.SYSCALL, s, t, tid, tgid or tid, Pers.X86_64, nr, list(args), (-ret if err else ret) if ret is not None else None, err, dur, [list(m) for m in mem], cpu, flags)

    def entry(self, tid, nr, args=(0, 0, 3, 0, 0, 0), mem=()):
        s, t = self._next()
        return record(Rec.SYSCALL_ENTRY, s, t, tid, tid, Pers.X86_64, nr, list(args), [list(m) for m in mem], 0)

    def exit_(self, tid, nr, ret=3, err=False, dur=5000, flags=0, mem=()):
        s, t = self._next()
        return record(Rec.SYSCALL_EXIT, s, t, tid, tid, Pers.X86_64, nr, ret if not err else -ret, err, dur, [list(m) for m in mem], None, flags)

    def newtask(self, tid, child, how=1):
        s, t = self._next()
        return record(Rec.NEWTASK, s, t, tid, tid, child, how)

    def exited(self, tid, status=0):
        s, t = self._next()
        return record(Rec.EXIT, s, t, tid, tid, status)

    def killed(self, tid, signo, core=False):
        s, t = self._next()
        return record(Rec.KILLED, s, t, tid, tid, signo, core)

    def signal(self, tid, signo):
        s, t = self._next()
        return record(Rec.SIGNAL, s, t, tid, tid, signo, b"\0" * 128)

    def stopped(self, tid, signo):
        s, t = self._next()
        return record(Rec.STOPPED, s, t, tid, tid, signo)

    def attach(self, tid):
        s, t = self._next()
        return record(Rec.ATTACH, s, t, tid, tid)

    def detach(self, tid):
        s, t = self._next()
        return record(Rec.DETACH, s, t, tid, tid)


def run_printer(opts, records, *, roots=(100,), decoder=None, out=None):
    from tracerd.client._output import Printer

    out = out if out is not None else io.StringIO()
    notes = io.StringIO()
    if decoder is None:
        from tracerd.client.decode import Decoder

        decoder = Decoder(opts.decode)
    p = Printer(opts, decoder, out, notes=notes, roots=roots)
    for r in records:
        p.feed(r)
    p.finish()
    return (out.getvalue() if isinstance(out, io.StringIO) else None), notes.getvalue()


def options(**kw):
    from tracerd.client._options import RunOptions

    return replace(RunOptions(), **kw)

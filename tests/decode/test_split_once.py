"""A call split into `<unfinished ...>` / `<... resumed>` is formatted once:
each half of a family decoder runs at its own stop, as compile_halves() does
for table calls (docs/decoding.md, "API")."""

from __future__ import annotations

import pytest

from tracerd._wire import Pers, Rec, record
from tracerd.bpfgen import load_table
from tracerd.client.decode import DecodeOptions, Decoder
from tracerd.client.decode._core import REGISTRY, Spec

T = load_table()


def _split(name: str, args: list[int], ret: int):
    nr = T.syscalls[name].numbers[Pers.X86_64]
    e = record(Rec.SYSCALL_ENTRY, 1, 0, 100, 100, 0, nr, args, [], 0)
    x = record(Rec.SYSCALL_EXIT, 2, 0, 100, 100, 0, nr, ret, False, 0, [], None, 0)
    w = record(Rec.SYSCALL, 3, 0, 100, 100, 0, nr, args, ret, False, 0, [], None, 0)
    return e, x, w


@pytest.mark.parametrize("name, args", [("futex", [0x7F00, 0x80, 2, 0, 0, 0]),  # all at entry
                                        ("wait4", [-1 & 0xFFFFFFFFFFFFFFFF, 0, 0, 0, 0, 0]),  # head=
                                        ("getrandom", [0x7F00, 4, 1, 0, 0, 0])])  # none at entry
def test_each_half_runs_at_its_own_stop(monkeypatch, name, args):
    spec = REGISTRY[name]
    head, tail = spec.halves
    runs = []

    def counted(part, fn):
        def run(c):
            runs.append((part, c.exiting))
            return fn(c)
        return run

    monkeypatch.setitem(REGISTRY, name, Spec(spec.fn, spec.entry, spec.ret, (counted("head", head), counted("tail", tail))))
    e, x, w = _split(name, args, 0)
    d = Decoder(DecodeOptions())
    text = d.entry(e) + d.resumed(x, e)
    assert runs == [("head", False), ("tail", True)]
    assert text == Decoder(DecodeOptions()).call(w)  # what the whole call prints


@pytest.mark.parametrize("req, ret", [(0x80685600, -9),  # VIDIOC_QUERYCAP: an _IOR struct, nothing at entry
                                      (0xC0405602, -9),  # VIDIOC_ENUM_FMT: read at entry, printed at exit
                                      (0x40045612, -9)])  # VIDIOC_STREAMON: printed at entry
def test_ioctl_split_joins_as_whole(req, ret):
    """An ioctl split at its stops reads as the whole call: the `, ` before
    an argument the entry did not show comes with the exit's half (before,
    `ioctl(-1, VIDIOC_QUERYCAPNULL)`)."""
    e, x, w = _split("ioctl", [-1 & 0xFFFFFFFFFFFFFFFF, req, 0, 0, 0, 0], ret)
    d = Decoder(DecodeOptions())
    rest, rtext = d.resumed_split(x, e)
    assert d.entry(e) + rest == Decoder(DecodeOptions()).call(w).rsplit(" = ", 1)[0]

"""recvmmsg's `(left {...})`: the time the kernel left of the timeout,
printed after the return unless -e verbose= leaves the call out (strace
6.1's mmsg-silent test: `= 1` alone under -e verbose=none)."""

from __future__ import annotations

import struct

from tracerd._wire import Rec, record
from tracerd.client.decode import DecodeOptions, Decoder

_NR_RECVMMSG = 299


def _line(opts: DecodeOptions) -> str:
    left = struct.pack("<qq", 0, 12332866)
    r = record(Rec.SYSCALL, 1, 0, 100, 100, 0, _NR_RECVMMSG, [3, 0x7FFD1000, 1, 0x40, 0x7FFD2000, 0], 1, False, 0,
               [[1, 4, left]], None, 0)
    return Decoder(opts).call(r)


def test_left_is_printed_when_verbose():
    assert _line(DecodeOptions()).endswith(" = 1 (left {tv_sec=0, tv_nsec=12332866})")


def test_verbose_none_prints_the_return_alone():
    line = _line(DecodeOptions(deref=frozenset()))
    assert line == "recvmmsg(3, 0x7ffd1000, 1, MSG_DONTWAIT, 0x7ffd2000) = 1"

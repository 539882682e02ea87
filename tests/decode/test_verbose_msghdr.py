"""-e verbose= for socket message headers: outside the set, sendmsg's and
sendmmsg's headers print as their addresses (strace's verbose() checks)."""

from __future__ import annotations

import struct

import pytest

from tracerd._wire import Pers, Rec, record
from tracerd.client.decode import DecodeOptions, Decoder

pytestmark = pytest.mark.unit

SENDMSG = 46
PID = 4242


def _sendmsg(mem):
    return record(Rec.SYSCALL, 1, 0, PID, PID, int(Pers.X86_64), SENDMSG, [3, 0x1000, 0, 0, 0, 0], -9, True, 100,
                  [list(m) for m in mem], None, 0)


def test_msghdr_is_an_address_outside_verbose():
    hdr = struct.pack("<QIxxxxQQQQixxxx", 0, 0, 0, 0, 0, 0, 0)  # an empty struct msghdr
    rec = _sendmsg([(0, 1, [hdr, None, None, None])])
    full = Decoder(DecodeOptions()).call(rec)
    assert full.startswith("sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=NULL, msg_iovlen=0,"), full
    plain = Decoder(DecodeOptions(deref=frozenset())).call(rec)
    assert plain == "sendmsg(3, 0x1000, 0) = -1 EBADF (Bad file descriptor)"
    listed = Decoder(DecodeOptions(deref=frozenset({(Pers.X86_64, SENDMSG)}))).call(rec)
    assert listed == full

"""pidfd_getfd's target fd under -y: named from the fd the call returned,
which the tracer named at the exit stop (strace 6.1's pidfd_getfd-y:
`pidfd_getfd(5<anon_inode:[pidfd]>, 5</dev/full>, 0) = 6</dev/full>`),
so the line is right after the processes are gone."""

from __future__ import annotations

from tracerd._wire import FD_RET, FD_SLOT, Rec, record
from tracerd.client.decode import DecodeOptions, Decoder

_NR_PIDFD_GETFD = 438


def test_target_named_from_the_returned_fd():
    mem = [[0, FD_SLOT + 0, b"anon_inode:[pidfd]"], [1, FD_SLOT + FD_RET, b"/dev/full"]]
    r = record(Rec.SYSCALL, 1, 0, 100, 100, 0, _NR_PIDFD_GETFD, [5, 5, 0, 0, 0, 0], 6, False, 0, mem, None, 0)
    line = Decoder(DecodeOptions(yflag=1, decode_fds=frozenset({"path"}))).call(r)
    assert line == "pidfd_getfd(5<anon_inode:[pidfd]>, 5</dev/full>, 0) = 6</dev/full>"

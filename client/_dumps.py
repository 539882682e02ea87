"""`-e read=SET` / `-e write=SET`: the hex dumps strace prints after a call's
line for the data a read or write moved on a chosen fd (strace's dumpio).

Which calls, and what is dumped (strace 6.1):

- write set, whatever the call returned (a failed write is dumped too):
  write, pwrite64, send, sendto, mq_timedsend the length argument's bytes;
  writev, pwritev, pwritev2, vmsplice each iovec whole; sendmsg its
  msghdr's iovecs whole; sendmmsg each message sent, its iovecs up to its
  msg_len.
- read set, only when the call succeeded: read, pread64, recv, recvfrom,
  mq_timedreceive the returned count's bytes; readv, preadv, preadv2 and
  recvmsg the iovecs up to the returned count; recvmmsg each message
  received, its iovecs up to its msg_len.

An iovec's dump starts with ` * N bytes in buffer I`, a message's with
` = N buffers in vector I`; a zero-length iovec (or the count used up) ends
the vector. Data that could not be read is not dumped, as strace skips a
buffer its first read fails on.

The tracer fetches the data with the fetch plan's string size, which
`-e read=`/`write=` raise to `DUMP_CHUNK` (client/_options.py): a buffer
longer than that is dumped as far as it was read.
"""

from __future__ import annotations

import struct

from tracerd._wire import Pers

# strace reads a dumped buffer 64 KiB at a time (and the plan's string size
# is raised to as much): a buffer that cannot be read whole within its first
# chunk is not dumped at all
DUMP_CHUNK = 1 << 16

_WRITE_STR = frozenset({"write", "pwrite64", "send", "sendto", "mq_timedsend", "mq_timedsend_time64"})
_WRITE_IOV = frozenset({"writev", "pwritev", "pwritev2", "vmsplice"})
_READ_STR = frozenset({"read", "pread64", "recv", "recvfrom", "mq_timedreceive", "mq_timedreceive_time64"})
_READ_IOV = frozenset({"readv", "preadv", "preadv2"})
_READ_MSG = frozenset({"recvmsg"})
_READ_MMSG = frozenset({"recvmmsg", "recvmmsg_time64"})

DUMPED = _WRITE_STR | _WRITE_IOV | _READ_STR | _READ_IOV | _READ_MSG | _READ_MMSG | {"sendmsg", "sendmmsg"}

_NO_LIMIT = (1 << 64) - 1


def dump_lines(data: bytes, length: int | None = None) -> str:
    """strace's hex dump of `data`, one line per 16 bytes: the offset (5 hex
    digits, more for a buffer longer than 1 MiB: `length`, the whole
    buffer's), the bytes in two groups of 8, the printable ones."""
    n = len(data) if length is None else length
    width = 5 if n <= 1 << 20 else 1 + ((n - 1).bit_length() - 1) // 4
    out = []
    for off in range(0, len(data), 16):
        chunk = data[off : off + 16]
        hx = "".join((f"{chunk[i]:02x} " if i < len(chunk) else "   ") + (" " if i == 7 else "") for i in range(16))
        text = "".join(chr(c) if 0x20 <= c < 0x7F else "." for c in chunk)
        out.append(f" | {off:0{width}x}  {hx} {text:<16} |\n")
    return "".join(out)


def _mem(mems, phase: int, arg: int):
    value = None
    for mem in mems:
        for ph, a, v in mem or ():
            if ph == phase and a == arg:
                value = v
    return value


def _dumpstr(data, length: int) -> str:
    """One buffer of `length` bytes, as far as the tracer read it (nothing
    when its first chunk could not be read)."""
    if length <= 0 or not isinstance(data, (bytes, bytearray)):
        return ""
    if len(data) < min(length, DUMP_CHUNK):  # memory ended within the first chunk
        return ""
    return dump_lines(bytes(data[:length]), length)


def _dumpiov(iov, data_size: int) -> str:
    """strace's dumpiov_upto: each element up to what is left of
    `data_size`; a zero-length one ends it."""
    if not isinstance(iov, list) or not all(isinstance(e, list) and len(e) == 3 for e in iov):
        return ""  # strace reads the array whole first: one that runs into unreadable memory is not dumped
    out = []
    for i, (_base, ln, data) in enumerate(iov):
        ln = min(ln, data_size)
        if not ln:
            break
        data_size -= ln
        out.append(f" * {ln} bytes in buffer {i}\n")
        out.append(_dumpstr(data, ln))
    return "".join(out)


def _iovlen(hdr: bytes, compat: bool) -> int:
    return struct.unpack_from("<I", hdr, 12)[0] if compat else struct.unpack_from("<Q", hdr, 24)[0]


def _dumpmsg(v, data_size: int) -> str:
    """A MSGHDR value [hdr, name, iov, control]: its iovecs."""
    if not isinstance(v, list) or len(v) != 4:
        return ""
    return _dumpiov(v[2], data_size)


def _dumpmmsg(v, count: int, compat: bool) -> str:
    """An MMSGHDR value: per message ` = N buffers in vector I`, then its
    iovecs up to its msg_len."""
    if not isinstance(v, list):
        return ""
    hsz = 28 if compat else 56
    out = []
    for i, m in enumerate(v[:count]):
        if not isinstance(m, list) or len(m) != 4 or not isinstance(m[0], (bytes, bytearray)) or len(m[0]) < hsz + 4:
            break
        hdr = bytes(m[0])
        (mlen,) = struct.unpack_from("<I", hdr, hsz)
        out.append(f" = {_iovlen(hdr, compat)} buffers in vector {i}\n")
        out.append(_dumpiov(m[2], mlen))
    return "".join(out)


def dump_text(name: str, pers: int, args, ret, is_error, mems, read_fds, write_fds) -> str:
    """The dump lines strace prints after the line of call `name` (its
    arguments `args`, return `ret`; `mems` the entry's and exit's fetched
    memory), or ""."""
    if not args or name not in DUMPED:
        return ""
    fd = args[0] & 0xFFFFFFFF
    if fd >= 1 << 31:  # strace takes the fd as an int: a negative one is never dumped
        return ""
    compat = pers != Pers.X86_64
    if write_fds and fd in write_fds:
        if name in _WRITE_STR:
            return _dumpstr(_mem(mems, 0, 1), args[2] if len(args) > 2 else 0)
        if name in _WRITE_IOV:
            return _dumpiov(_mem(mems, 0, 1), _NO_LIMIT)
        if name == "sendmsg":
            return _dumpmsg(_mem(mems, 0, 1), _NO_LIMIT)
        if name == "sendmmsg":
            return "" if is_error or not ret else _dumpmmsg(_mem(mems, 1, 1), ret, compat)
    if is_error or ret is None or not read_fds or fd not in read_fds:
        return ""
    if name in _READ_STR:
        return _dumpstr(_mem(mems, 1, 1), ret)
    if name in _READ_IOV:
        return _dumpiov(_mem(mems, 1, 1), ret)
    if name in _READ_MSG:
        return _dumpmsg(_mem(mems, 1, 1), ret)
    if name in _READ_MMSG:
        return _dumpmmsg(_mem(mems, 1, 1), ret, compat)
    return ""

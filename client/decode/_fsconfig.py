"""fsconfig(2) by command, as strace 6.1 prints it: the key a string of at
most 256 bytes for the SET commands (else its address); the value a string
(SET_STRING), a path (SET_PATH, SET_PATH_EMPTY), aux bytes in hex
(SET_BINARY, for an aux of at most 1 MiB) or its address; aux a dirfd, an
fd or a number. The value is the table's `struct[fsconfig_value, in]`: up
to a page read at entry, as far as it can be."""

from __future__ import annotations

from ._core import C, syscall
from ._fmt import quote

SET_FLAG, SET_STRING, SET_BINARY, SET_PATH, SET_PATH_EMPTY, SET_FD = range(6)
KEY_MAX = 256
PATH_MAX = 4096


def _strn(c: C, b: bytes, limit: int, reads: int) -> str:
    """A string printed up to `limit` characters, ending at a NUL within
    `reads` bytes (else `...`); memory that ends before either: the address."""
    p = b.find(b"\0", 0, reads)
    if p >= 0:
        return quote(b[:min(p, limit)], c.opts.xflag) + ("..." if p > limit else "")
    if len(b) < min(reads, limit + 1):
        return c.ptr(3)
    return quote(b[:limit], c.opts.xflag) + "..."


def _value(c: C, cmd: int, aux: int) -> str:
    if not c.ulong(3):
        return "NULL"
    if cmd not in (SET_STRING, SET_PATH, SET_PATH_EMPTY) and not (cmd == SET_BINARY and 0 <= aux <= 1 << 20):
        return c.ptr(3)
    v = c.m(3, 0)
    b = bytes(v) if isinstance(v, (bytes, bytearray)) else b""
    s = c.opts.strsize
    if cmd == SET_STRING:
        return _strn(c, b, min(KEY_MAX, s), KEY_MAX if KEY_MAX <= s else s + 1)
    if cmd in (SET_PATH, SET_PATH_EMPTY):  # a path prints whole, up to PATH_MAX - 1
        return _strn(c, b, PATH_MAX - 1, PATH_MAX)
    n = min(aux, s)
    if len(b) < n:
        return c.ptr(3)
    return quote(b[:n], force_hex=True) + ("..." if aux > s else "")


@syscall("fsconfig")
def _fsconfig(c: C):
    cmd, aux = c.uint(1), c.int(4)
    s = c.opts.strsize
    if cmd <= SET_FD:
        key = c.cstr(2, limit=min(KEY_MAX, s), reads=KEY_MAX if KEY_MAX <= s else s + 1)
    else:
        key = c.ptr(2)
    if cmd in (SET_PATH, SET_PATH_EMPTY):
        last = c.dirfd(4)
    elif cmd == SET_FD:
        last = c.fd(4)
    else:
        last = str(aux)
    return [c.fd(0), c.xval(1, "fsconfig_cmds"), key, _value(c, cmd, aux), last]

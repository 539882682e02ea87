"""ioctl's third argument by request: the `$` variants of ioctls.toml
(syzkaller's `ioctl$REQUEST`), compiled once into one printer a request.

    [ioctl_args]   request name -> kind   (BLKGETSIZE64 = "out:Q")
    [ioctl_types]  request type -> a printer of the type's numbered requests

A kind is
    none            no third argument at all:            ioctl(3, BLKRRPART)
    addr            NULL or the address (decoded by strace, not here)
    str             a C string read at entry
    val:FMT         the value itself: d (int), lu (unsigned long), x32 (an
                    unsigned int in hex), hex (the argument in hex), fd (an
                    fd, named under -y), flags[SET] / enum[SET] (unsigned
                    long), flags32[SET] (unsigned int)
    in:NUM          a pointer to numbers read at entry:     [5]
    out:NUM         a pointer the call fills, printed at exit (its address
                    when the call failed):                  [4096]
                    NUM: a struct-module code, i int, I unsigned, H unsigned
                    short, q/Q (un)signed 64 bits, l/L long; `*N` for N of
                    them: in:Q*2 prints [0, 4096]
    out:str[N]      a char buffer of N bytes the call fills
    in:NAME         a printer of _ioctl_util.PRINTERS: a struct of its size
    out:NAME        read at entry (in) or filled by the call (out: nothing
    inout:NAME      at entry, the address when the call failed); a printer of
                    the whole argument (no size) prints at both stops (inout:
                    what was asked, ` => `, what the call wrote)

A request absent from the table prints its argument in hex, as strace
prints what it does not decode. A value with several names (`SNDCTL_TMR_START
or TCSETS`) takes the first of its names the table has.
"""

from __future__ import annotations

import re
import struct
from functools import lru_cache
from typing import Callable

from ._core import C
from ._fmt import hexa
from ._ioctl_util import PRINTERS, SETS, TYPES, arg_bytes, field_fd

Printer = Callable[[C], list]

_NUM = re.compile(r"([iIHqQlL])(?:\*(\d+))?$")
_SIZES = {"i": 4, "I": 4, "H": 2, "q": 8, "Q": 8, "l": 8, "L": 8}
_SET = re.compile(r"(flags|flags32|enum)\[(\w+)\]$")


def _set(c: C, name: str):
    fs = SETS.get(name)
    return fs if fs is not None else c.fs(name)


def _value(what: str) -> Printer:
    simple = {
        "d": lambda c: [c.d(2)],
        "lu": lambda c: [c.lu(2)],
        "x32": lambda c: [hexa(c.uint(2))],
        "hex": lambda c: [c.hex(2)],
        "fd": lambda c: [field_fd(c, c.int(2))],
    }.get(what)
    if simple is not None:
        return simple
    m = _SET.match(what)
    if m is None:
        raise ValueError(f"val:{what}: not a value kind")
    form, name = m.groups()
    if form == "enum":
        return lambda c: [_set(c, name).xval(c.ulong(2), c.style)]
    if form == "flags32":
        return lambda c: [_set(c, name).flags(c.uint(2), c.style)]
    return lambda c: [_set(c, name).flags(c.ulong(2), c.style)]


def _nums(phase: int, fmt: str, count: int) -> Printer:
    size = _SIZES[fmt] * count
    code = "<" + {"l": "q", "L": "Q"}.get(fmt, fmt) * count  # a long is 64 bits here

    def show(c: C) -> list:
        if phase and not c.exiting:
            return []  # filled at exit: printed then
        v = arg_bytes(c, phase, size)
        if isinstance(v, str):
            return [v]
        return ["[" + ", ".join(str(x) for x in struct.unpack_from(code, v)) + "]"]

    return show


def _outstr(n: int) -> Printer:
    """A fixed-size buffer the call fills (strace's printstrn): its
    address unless the call succeeded."""

    def show(c: C) -> list:
        if not c.exiting:
            return []
        if c.ulong(2) == 0:
            return ["NULL"]
        if not c.ok:
            return [c.ptr(2)]
        return [c.buf(2, n, False, 1)]

    return show


def _named(d: str, name: str) -> Printer:
    if name not in PRINTERS:
        raise ValueError(f"{d}:{name}: no ioctl printer of that name")
    size, fn = PRINTERS[name]
    if size is None:
        if d == "out":
            return lambda c: [fn(c)] if c.exiting else []
        return lambda c: [fn(c)]
    if d == "inout":
        raise ValueError(f"{d}:{name}: a struct printer is read at entry (in) or exit (out)")
    phase = 0 if d == "in" else 1

    def show(c: C) -> list:
        if phase and not c.exiting:
            return []
        b = arg_bytes(c, phase, size)
        return [b if isinstance(b, str) else fn(c, b)]

    return show


def compile_kind(kind: str) -> Printer:
    """The printer of one kind of the table (ValueError for a kind that
    does not resolve)."""
    if kind == "none":
        return lambda c: []
    if kind == "addr":
        return lambda c: [c.ptr(2)]
    if kind == "str":
        return lambda c: [c.cstr(2)]
    d, sep, what = kind.partition(":")
    if not sep:
        raise ValueError(f"{kind}: not an ioctl argument kind")
    if d == "val":
        return _value(what)
    if d not in ("in", "out", "inout"):
        raise ValueError(f"{kind}: not an ioctl argument kind")
    m = _NUM.match(what)
    if m is not None and d != "inout":
        return _nums(0 if d == "in" else 1, m.group(1), int(m.group(2) or 1))
    if d == "out" and what.startswith("str[") and what.endswith("]"):
        return _outstr(int(what[4:-1]))
    return _named(d, what)


@lru_cache(maxsize=None)
def table() -> tuple[dict[str, Printer], dict[int, Callable]]:
    """([ioctl_args] compiled: name -> printer, [ioctl_types]: type -> printer)."""
    from . import _flags

    data = _flags._data()
    args = {name: compile_kind(kind) for name, kind in data["ioctl_args"].items()}
    types = {}
    for typ, name in data["ioctl_types"].items():
        if name not in TYPES:
            raise ValueError(f"[ioctl_types] {typ}: no type printer {name!r}")
        types[int(typ, 0)] = TYPES[name]
    return args, types


def argument(c: C, req: int, name: str | None) -> list:
    """What ioctl prints after its request: the type's printer first, then
    the request's variant, else the argument in hex."""
    args, types = table()
    fn = types.get((req >> 8) & 0xFF)
    if fn is not None:
        out = fn(c, req, name)
        if out is not None:
            return out
    if name:
        for n in name.split(" or "):
            p = args.get(n)
            if p is not None:
                return p(c)
    return [c.hex(2)]

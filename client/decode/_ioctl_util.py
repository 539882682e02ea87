"""Helpers of the ioctl printers: the registries ioctls.toml's `$`
variants ([ioctl_args], [ioctl_types]) name their printers in, the
argument struct as strace reads it, fixed-size C strings, arrays and
reserved words."""

from __future__ import annotations

import struct
from typing import Callable

from tracerd._wire import FD_SLOT

from ._core import C
from ._fmt import FlagSet, hexa, quote

# What ioctls.toml's [ioctl_args] names, registered by the modules that
# print it (_ioctl_args.py checks every name at its first use; a test holds
# the registries and the table to each other):
#   PRINTERS  NAME -> (size, fn): size None: fn(C) prints the whole argument
#             (it reads what it needs, both stops); a size: fn(C, bytes)
#             prints a struct of that many bytes read as strace reads it
#   TYPES     NAME -> fn(C, request, name): the requests of a type printed
#             by their number (evdev's EVIOCGBIT(ev, len)...): a list, or
#             None for the request table
#   SETS      the value and flag sets a module keeps (FlagSet objects), by
#             their own names, for `val:flags[SET]` / `val:enum[SET]`
PRINTERS: dict[str, tuple[int | None, Callable]] = {}
TYPES: dict[str, Callable] = {}
SETS: dict[str, FlagSet] = {}


def printer(name: str, size: int | None = None):
    """Register an ioctl argument printer under the name the table uses."""

    def deco(fn):
        if name in PRINTERS:
            raise ValueError(f"ioctl printer {name!r} registered twice")
        PRINTERS[name] = (size, fn)
        return fn

    return deco


def type_decoder(name: str):
    def deco(fn):
        TYPES[name] = fn
        return fn

    return deco


def value_sets(*sets: FlagSet) -> None:
    for fs in sets:
        SETS[fs.name] = fs


def arg_read(c: C, phase: int, size: int) -> bytes | str:
    """All that was read of ioctl's third argument at entry (phase 0) or
    exit (1), at least `size` bytes, or what strace prints instead: NULL,
    or the address (a call that failed, for what it fills; memory that
    cannot be read that far)."""
    if c.ulong(2) == 0:
        return "NULL"
    if phase == 1 and not c.ok:
        return c.ptr(2)
    v = c.m(2, phase)
    if not isinstance(v, (bytes, bytearray)) or len(v) < size:
        return c.ptr(2)
    return bytes(v)


def arg_bytes(c: C, phase: int, size: int) -> bytes | str:
    """The first `size` bytes of ioctl's third argument (arg_read), and the
    address outside `-e verbose=` too (the family decoders' structs)."""
    if c.ulong(2) != 0 and c.opts.deref is not None and c.key not in c.opts.deref:
        return c.ptr(2)  # outside -e verbose=: structs are not read
    v = arg_read(c, phase, size)
    return v if isinstance(v, str) else v[:size]


def exit_bytes(c: C, size: int) -> bytes | None:
    """What the call wrote back (`size` bytes), or None when unreadable."""
    w = c.m(2, 1)
    if not isinstance(w, (bytes, bytearray)) or len(w) < size:
        return None
    return bytes(w[:size])


def asked_got(c: C, size: int, entry, exit_) -> str:
    """`{ENTRY, EXIT}`: the fields asked at entry, then those the kernel
    wrote when the call succeeded and the struct can be read back."""
    b = arg_bytes(c, 0, size)
    if isinstance(b, str):
        return b
    out = "{" + entry(b)
    if c.exiting and c.ok:
        w = exit_bytes(c, size)
        if w is not None:
            out += exit_(b, w)
    return out + "}"


def cstring(field: bytes) -> str:
    """A char array field (strace's PRINT_FIELD_CSTRING): up to its NUL;
    with none, all but the last byte and `...`."""
    nul = field.find(0)
    return quote(field[:nul]) if nul >= 0 else quote(field[:-1]) + "..."


def array(c: C, items: list[str]) -> str:
    """Printed elements in brackets, cut at -s unless -v (print_array)."""
    if c.abbrev and len(items) > c.opts.strsize:
        items = items[: c.opts.strsize] + ["..."]
    return "[" + ", ".join(items) + "]"


def elems(c: C, data, addr: int, count: int, size: int, fn) -> tuple[str, bool]:
    """count elements of `size` bytes read at addr (a DEREF's or the
    argument's bytes), as strace's print_array: cut at -s when abbreviated,
    `... /* ADDR */` where memory ends (the address alone when the first
    cannot be read); and whether every element printed."""
    if not isinstance(data, (bytes, bytearray)) or len(data) < size:
        return hexa(addr), False
    out = []
    for k in range(count):
        if c.abbrev and k >= c.opts.strsize:
            out.append("...")
            break
        if len(data) < (k + 1) * size:
            out.append(f"... /* {hexa(addr + k * size)} */")
            return "[" + ", ".join(out) + "]", False
        out.append(fn(data, k * size))
    return "[" + ", ".join(out) + "]", True


def words(b: bytes, off: int, n: int) -> list[str]:
    """n unsigned ints in hex."""
    return [hexa(w) for w in struct.unpack_from(f"<{n}I", b, off)]


def rsv(b: bytes, off: int, n: int, name: str = "rsv") -> str:
    """`, rsv=[0x1, 0, ...]` when any of the n reserved words is nonzero."""
    w = struct.unpack_from(f"<{n}I", b, off)
    if not any(w):
        return ""
    return f", {name}=[" + ", ".join(hexa(x) for x in w) + "]"


def field_fd(c: C, v: int, at: int | None = None) -> str:
    """An fd ioctl takes, named under -y: at None, the argument itself
    (NBD_SET_SOCK, LOOP_SET_FD);
    else the int at index `at` of the struct it points to (the plan names
    both at the stop, docs/decoding.md). Without the stop's name (an older
    record), named from the decoder's table, for which the call's EBADF
    is about its own fd argument, not this one."""
    dec = c.dec
    if not dec._anyfd:
        return str(v)
    if c.name != "ioctl":  # a netlink attribute's fd: no name from the stop
        named = None
    elif at is None:
        named = c.mem.get((0, FD_SLOT + 2))
    else:
        arr = c.mem.get((1, FD_SLOT + 2))
        named = arr[at] if isinstance(arr, list) and len(arr) == 4 and at < 4 else None
    if named is not None:
        return dec.fd_named(v, named)
    was, dec._ebadf = dec._ebadf, False
    try:
        return dec.fd_text(v, c.tid)
    finally:
        dec._ebadf = was

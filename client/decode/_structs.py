"""Struct printers made from the syscall table's struct descriptions.

A struct of `[structs]` in bpfgen/syscalls.toml may carry its fields, as
syzkaller describes structs (docs/syscall-table.md, "Structs"):

    timespec = { x86_64 = 16, i386 = 8, fields = "tv_sec:int64, tv_nsec:uint64" }
    rusage = { x86_64 = 144, i386 = 72, abbrev = 2, fields = "ru_utime:timeval, ..." }

`NAME:KIND` per field, in order, each at the next offset its alignment allows
(C's natural layout, x86_64), or at `NAME:KIND@OFFSET` (a packed struct, a
union's members). Kinds:

- `int8` ... `int64`, `uint8` ... `uint64`: the number;
- `hex32`, `hex64`: in hex (`0` for 0); `ptr`: `NULL` or the address;
- `flags[SET]` (u32), `lflags[SET]` (u64): bits by name; `enum[SET]` (u32):
  a value by name (sets of client/decode/flagsets.toml), under -X as the
  call's arguments;
- `fd` (int32): with -y, the fd's path as the decoder knows it;
- `str[N]`: a char array of N bytes, quoted up to its NUL;
- `array[KIND, N]`: N elements `[a, b, c]`;
- another described struct's name: it, nested;
- a field kind a family module registers (`@field_kind("rlim", 8)`): a value
  strace prints its own way (`RLIM64_INFINITY`, `5*1024`).

`abbrev = N`: abbreviated (strace's default, not -v), only the first N
fields print, then `...`. `item = KIND` instead of fields: the struct is one
value of that kind, printed `[v]` (strace's printnum: an int the call wrote). The printer of a described struct is the one
`@struct` would register; a struct with a hand-written printer has no
description (`install()` refuses both).
"""

from __future__ import annotations

import struct as _struct
from collections.abc import Callable

from tracerd.bpfgen._table import _split_args  # the table's own split: commas outside [...]

from ._core import STRUCTS, C
from ._fmt import hexa, quote

# value kinds strace prints its own way: name -> (size in bytes, signed, (C, value) -> text)
FIELD_KINDS: dict[str, tuple[int, bool, Callable]] = {}

_INTS = {"int8": "b", "int16": "h", "int32": "i", "int64": "q", "uint8": "B", "uint16": "H", "uint32": "I",
         "uint64": "Q", "hex32": "I", "hex64": "Q", "ptr": "Q", "fd": "i"}
_SETS = {"flags": "I", "lflags": "Q", "enum": "I"}


def field_kind(name: str, size: int, signed: bool = False):
    """Register a field kind printed by `fn(c, value)` (an integer of `size` bytes)."""

    def deco(fn):
        if name in FIELD_KINDS or name in _INTS or name in _SETS:
            raise ValueError(f"field kind {name!r} is registered twice")
        FIELD_KINDS[name] = (size, signed, fn)
        return fn

    return deco


class StructError(ValueError):
    pass


class Layout:
    """One described struct: its fields (name, offset, text function) and
    `text(c, b, base=0)`, the printer generated from them once: one unpack
    of every plain integer field (those of the structs it nests too), the
    other fields by their functions (as compile_generic generates a table
    call's decoder)."""

    __slots__ = ("name", "fields", "end", "align", "abbrev", "text")

    def __init__(self, name: str, fields: list, end: int, align: int, abbrev: int | None, known: dict):
        self.name, self.fields, self.end, self.align, self.abbrev = name, fields, end, align, abbrev
        self.text = _generate(self, known)


def _body(lay: Layout, known: dict, base: int, codes: list, fns: list, k: int, lead: int | None) -> str:
    """The f-string of `lay` at `base`: plain integers as v[i] of one
    unpack (codes: their offsets and struct codes), nested structs inline,
    the rest as calls of _fK[i] (fns)."""
    parts = []
    for n, off, fn in lay.fields if lead is None else lay.fields[:lead]:
        what = known.get(id(fn))
        at = codes[-1][0] + _struct.calcsize("<" + codes[-1][1]) if codes else 0
        if what is not None and what[0] == "int" and base + off >= at:  # (a union's overlapping member: a call)
            codes.append((base + off, what[1]))
            parts.append(f"{n}={{v[{len(codes) - 1}]}}")
        elif what is not None and what[0] == "struct" and what[1].abbrev is None and what[1].fields[0][0] is not None:
            parts.append(f"{n}=" + _body(what[1], known, base + off, codes, fns, k, None))
        else:
            fns.append(fn)
            parts.append(f"{n}={{_f{k}[{len(fns) - 1}](c, b, base + {base + off})}}")
    if lead is not None:
        parts.append("...")
    return "{{" + ", ".join(parts) + "}}"


def _generate(lay: Layout, known: dict):
    if lay.fields[0][0] is None:  # `item = KIND`: [v]
        fn = lay.fields[0][2]
        what = known.get(id(fn))
        if what is not None and what[0] == "int":
            unpack = _struct.Struct("<" + what[1]).unpack_from
            return lambda c, b, base=0: f"[{unpack(b, base)[0]}]"
        return lambda c, b, base=0: f"[{fn(c, b, base)}]"
    ns: dict = {"_err": StructError}
    src = ["def text(c, b, base=0):", f"    if len(b) < base + {lay.end}:", f"        raise _err({lay.name + ': short'!r})"]

    def emit(k: int, lead: int | None, indent: str) -> list:
        codes: list = []
        fns: list = []
        body = _body(lay, known, 0, codes, fns, k, lead)
        fmt, at = "<", 0
        for off, code in codes:
            fmt += "x" * (off - at) + code
            at = off + _struct.calcsize("<" + code)
        ns[f"_f{k}"] = fns
        out = []
        if codes:
            ns[f"_u{k}"] = _struct.Struct(fmt).unpack_from
            out.append(f"{indent}v = _u{k}(b, base)")
        out.append(f'{indent}return f"{body}"')
        return out

    if lay.abbrev is not None:
        src.append("    if c.abbrev:")
        src += emit(1, lay.abbrev, "        ")
    src += emit(0, None, "    ")
    exec("\n".join(src), ns)  # noqa: S102
    return ns["text"]


class Structs:
    """Every described struct of a table, compiled on first use."""

    def __init__(self, descriptions: dict):
        self.descriptions = descriptions  # name -> (fields text, abbrev)
        self.layouts: dict[str, Layout] = {}
        self._busy: set[str] = set()
        # id of a field's text function -> ("int", struct code) for a plain
        # integer, ("struct", Layout) for a nested struct: what Layout inlines
        self.known: dict[int, tuple] = {}

    def layout(self, name: str) -> Layout:
        lay = self.layouts.get(name)
        if lay is None:
            if name not in self.descriptions:
                raise StructError(f"struct {name!r} has no description")
            if name in self._busy:
                raise StructError(f"struct {name!r} contains itself")
            self._busy.add(name)
            try:
                lay = self.layouts[name] = self._compile(name, *self.descriptions[name])
            finally:
                self._busy.discard(name)
        return lay

    def _compile(self, name: str, text: str, abbrev) -> Layout:
        if text.startswith("["):  # `item = KIND`: one value, `[v]`
            size, align, fn = self.kind(text[1:-1].strip(), f"struct {name}")
            return Layout(name, [(None, 0, fn)], size, align, None, self.known)
        fields, off, align = [], 0, 1
        for item in (i.strip() for i in _split_args(text)):
            fname, _, kind = item.partition(":")
            kind, _, at = kind.partition("@")
            fname, kind = fname.strip(), kind.strip()
            if not fname or not kind:
                raise StructError(f"struct {name}: bad field {item!r}")
            size, falign, fn = self.kind(kind, f"struct {name}, field {fname}")
            if at:
                off = int(at, 0)
            else:
                off = (off + falign - 1) // falign * falign
            fields.append((fname, off, fn))
            off += size
            align = max(align, falign)
        end = max((o for _, o, _ in fields), default=0)
        end = off if not fields else max(off, end)
        return Layout(name, fields, end, align, abbrev, self.known)

    def kind(self, kind: str, where: str) -> tuple[int, int, Callable]:
        """(size, alignment, (C, bytes, offset) -> text) of one field kind."""
        code = _INTS.get(kind)
        if code is not None:
            st = _struct.Struct("<" + code)
            unpack = st.unpack_from
            if kind == "ptr":
                return st.size, st.size, lambda c, b, o: (lambda v: "NULL" if v == 0 else f"{v:#x}")(unpack(b, o)[0])
            if kind.startswith("hex"):
                return st.size, st.size, lambda c, b, o: hexa(unpack(b, o)[0])
            if kind == "fd":
                return st.size, st.size, lambda c, b, o: _fd(c, unpack(b, o)[0])
            fn = lambda c, b, o: str(unpack(b, o)[0])  # noqa: E731
            self.known[id(fn)] = ("int", code)
            return st.size, st.size, fn
        head, _, rest = kind.partition("[")
        if rest:
            if not rest.endswith("]"):
                raise StructError(f"{where}: bad kind {kind!r}")
            inner = rest[:-1].strip()
            if head in _SETS:
                from . import _flags

                if not _flags.has(inner):
                    raise StructError(f"{where}: no flag set {inner!r}")
                st = _struct.Struct("<" + _SETS[head])
                unpack = st.unpack_from
                if head == "enum":
                    return st.size, st.size, lambda c, b, o: c.fs(inner).xval(unpack(b, o)[0], c.style)
                return st.size, st.size, lambda c, b, o: c.fs(inner).flags(unpack(b, o)[0], c.style)
            if head == "str":
                n = int(inner, 0)
                return n, 1, lambda c, b, o: quote(bytes(b[o : o + n]).split(b"\0", 1)[0])
            if head == "array":
                ekind, _, count = inner.rpartition(",")
                n = int(count, 0)
                esize, ealign, efn = self.kind(ekind.strip(), where)
                return esize * n, ealign, lambda c, b, o: "[" + ", ".join(efn(c, b, o + esize * k) for k in range(n)) + "]"
            raise StructError(f"{where}: unknown kind {kind!r}")
        custom = FIELD_KINDS.get(kind)
        if custom is not None:
            size, signed, fn = custom
            code = {1: "b", 2: "h", 4: "i", 8: "q"}[size]
            unpack = _struct.Struct("<" + (code if signed else code.upper())).unpack_from
            return size, size, lambda c, b, o: fn(c, unpack(b, o)[0])
        if kind in self.descriptions:
            sub = self.layout(kind)
            self.known[id(sub.text)] = ("struct", sub)
            return (sub.end + sub.align - 1) // sub.align * sub.align, sub.align, sub.text
        raise StructError(f"{where}: unknown kind {kind!r}")


def _fd(c: C, v: int) -> str:
    return c.dec.fd_text(v, c.tid) if c.dec._anyfd else str(v)


def described(table) -> Structs:
    """The table's struct descriptions (bpfgen's Table.struct_fields)."""
    return Structs(dict(getattr(table, "struct_fields", {}) or {}))


_INSTALLED: list = []


def install(table) -> None:
    """Register a printer for every described struct of `table` (once per
    process): C.struct and the generic decoder find them in STRUCTS as they
    find a family module's."""
    if _INSTALLED and _INSTALLED[0] is table:
        return
    structs = described(table)
    for name in structs.descriptions:
        if name in STRUCTS and not getattr(STRUCTS[name], "described", False):
            raise ValueError(f"struct {name!r} has a printer and a table description")
        lay = structs.layout(name)

        def printer(c, b, i, _lay=lay):
            return _lay.text(c, b)

        printer.described = True
        STRUCTS[name] = printer
    _INSTALLED[:] = [table]

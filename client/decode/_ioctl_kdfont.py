"""ioctl: the Linux console's fonts, colour map and screen maps
(linux/kd.h, request type 'K'): GIO/PIO_FONT, GIO/PIO_CMAP, GIO/PIO_SCRNMAP,
GIO/PIO_UNISCRNMAP, GIO/PIO_UNIMAP, PIO_UNIMAPCLR, GIO/PIO_FONTX, KDFONTOP.
A `get` request prints what the call wrote (its address when it failed), a
`put` request what it was given. The data behind a struct's pointer
(unimapdesc's entries, consolefontdesc's chardata, console_font_op's data)
is read by a DEREF op (bpfgen/syscalls.toml's [layouts], a `fetch` rule per
request): -s + 1 bytes of it, or -s + 1 entries."""

from __future__ import annotations

import struct

from ._core import C
from ._fmt import FlagSet, comment, hexa, quote, quote_buf
from ._ioctl_kd import _elems
from ._ioctl_util import arg_read, elems, printer

_H = "include/uapi/linux/kd.h"
_OPS = FlagSet("kd_font_ops", [("KD_FONT_OP_SET", 0), ("KD_FONT_OP_GET", 1), ("KD_FONT_OP_SET_DEFAULT", 2),
                               ("KD_FONT_OP_COPY", 3)], "KD_FONT_OP_???", _H)
_FLAGS = FlagSet("kd_font_flags", [("KD_FONT_FLAG_DONT_RECALC", 1), ("KD_FONT_FLAG_OLD", 0x80000000)],
                 "KD_FONT_FLAG_???", _H)
_PTR_OFF = 8  # the pointer after two shorts (unimapdesc, consolefontdesc) on x86_64
_FONTOP_DATA = 24
_FONT_NAME = 32


def _get(c: C) -> bool:
    """A request that fills its argument (GIO_*): even request numbers
    of the pairs, KDFONTOP's GET aside."""
    return (c.a(1) & 0xFF) in (0x40, 0x60, 0x66, 0x69, 0x6B, 0x70)


def _hexbuf(c: C, b, length: int) -> str | None:
    """length bytes quoted in hex (printstr_ex: -s + 1 bytes read), or None
    when unreadable."""
    if length == 0:
        return '""'
    if not isinstance(b, (bytes, bytearray)) or len(b) < min(length, c.opts.strsize + 1):
        return None
    return quote_buf(bytes(b), length, c.opts.strsize, c.opts.xflag, True)


def _fixed(size: int):
    """A table of `size` bytes, quoted in hex."""
    def show(c: C) -> str:
        if _get(c) and not c.exiting:
            return ""
        if c.ulong(2) == 0:
            return "NULL"
        if _get(c) and not c.ok:
            return c.ptr(2)
        text = _hexbuf(c, c.m(2, 1 if _get(c) else 0), size)
        return text if text is not None else c.ptr(2)
    return show


printer("kd_font")(_fixed(8192))
printer("kd_cmap")(_fixed(48))
printer("kd_scrnmap")(_fixed(256))


def _uni(c: C, v: int) -> str:
    if v & ~0x1FF != 0xF000 or c.style == "raw":
        return hexa(v)
    text = f"UNI_DIRECT_BASE+{hexa(v - 0xF000)}"
    return hexa(v) + comment(text) if c.style == "verbose" else text


@printer("kd_uniscrnmap")
def _uniscrnmap(c: C) -> str:
    b = arg_read(c, 1 if _get(c) else 0, 2)
    if isinstance(b, str):
        return b
    return _elems(c, b, 0, 256, 2, lambda b, o: _uni(c, struct.unpack_from("<H", b, o)[0]))


@printer("unimapdesc")
def _unimap(c: C) -> str:
    b = arg_read(c, 0, 16)
    if isinstance(b, str):
        return b
    cnt, ptr = struct.unpack_from("<H6xQ", b)
    get = _get(c)
    head = f"{{entry_ct={cnt}"
    if get:
        if not c.exiting:
            return head + "}"
        # the count read back, whether the call succeeded or not (the
        # entry's when the exit's was not fetched)
        w = c.m(2, 1)
        if isinstance(w, (bytes, bytearray)) and len(w) >= 2:
            cnt = struct.unpack_from("<H", w)[0]
        head += f" => {cnt}"
    if ptr == 0:
        return head + ", entries=NULL}"
    if cnt == 0 and (not get or c.ok):
        return head + ", entries=[]}"
    if get and not c.ok:
        return head + f", entries={hexa(ptr)}}}"
    data = c.deref(2, _PTR_OFF, 1 if get else 0)
    pairs = elems(c, data, ptr, cnt, 4, lambda d, o: "{{unicode={}, fontpos={}}}".format(
        *(hexa(x) for x in struct.unpack_from("<HH", d, o))))[0]
    return head + f", entries={pairs}}}"




printer("unimapinit", 6)(lambda c, b: "{{advised_hashsize={}, advised_hashstep={}, advised_hashlevel={}}}".format(
    *struct.unpack_from("<3H", b)))


def _chardata(c: C, ptr: int, length: int, phase: int) -> str:
    if ptr == 0:
        return "NULL"
    text = _hexbuf(c, c.deref(2, _PTR_OFF, phase), length) if length else None
    return text if text is not None else hexa(ptr)


@printer("consolefontdesc")
def _fontx(c: C) -> str:
    b = arg_read(c, 0, 16)
    if isinstance(b, str):
        return b
    cnt, height, ptr = struct.unpack_from("<HH4xQ", b)
    get = _get(c)
    one = lambda n, h, p, phase: f"{{charcount={n}, charheight={h}, chardata={_chardata(c, p, n * 32, phase) if not get or phase else hexa(p) if p else 'NULL'}}}"
    text = one(cnt, height, ptr, 0)
    if get and c.exiting and c.ok:
        w = c.m(2, 1)
        if isinstance(w, (bytes, bytearray)) and len(w) >= 16:
            n, h, p = struct.unpack_from("<HH4xQ", w)
            text += " => " + (one(n, h, p, 1) if n else f"{{charcount={n}, charheight={h}, chardata={'NULL' if not p else chr(34) * 2}}}")
    return text


@printer("console_font_op")
def _fontop(c: C) -> str:
    b = arg_read(c, 0, 32)
    if isinstance(b, str):
        return b
    op, flags, width, height, count, ptr = struct.unpack_from("<5I4xQ", b)
    opname = _OPS.xval(op, c.style)
    if op == 3:  # KD_FONT_OP_COPY
        return f"{{op={opname}, height={height}}}"
    data = c.deref(2, _FONTOP_DATA, 0)
    if op == 2:  # KD_FONT_OP_SET_DEFAULT: data names the font
        text = f"{{op={opname}, width={width}, height={height}, data={_name(c, data, ptr)}}}"
        if c.exiting and c.ok:
            w = c.m(2, 1)
            if isinstance(w, (bytes, bytearray)) and len(w) >= 16:
                text += " => {{width={}, height={}}}".format(*struct.unpack_from("<2I", w, 8))
        return text
    head = f"{{op={opname}, flags={_FLAGS.flags(flags, c.style)}, width={width}, height={height}, charcount={count}"
    text = head + f", data={_font_data(c, data, ptr, width, count) if op == 0 else _addr(ptr)}}}"
    if op == 0 or not (c.exiting and c.ok):
        return text
    w = c.m(2, 1)
    if not isinstance(w, (bytes, bytearray)) or len(w) < 32:
        return text
    _, _, width, height, count, ptr = struct.unpack_from("<5I4xQ", w)
    back = _font_data(c, c.deref(2, _FONTOP_DATA, 1), ptr, width, count) if op == 1 else _addr(ptr)
    return text + f" => {{width={width}, height={height}, charcount={count}, data={back}}}"


def _addr(ptr: int) -> str:
    return hexa(ptr) if ptr else "NULL"


def _font_data(c: C, data, ptr: int, width: int, count: int) -> str:
    """A font's glyphs: 32 rows of (width + 7) / 8 bytes each."""
    if ptr == 0:
        return "NULL"
    text = _hexbuf(c, data, (width + 7) // 8 * 32 * count)
    return text if text is not None else hexa(ptr)


def _name(c: C, data, ptr: int) -> str:
    if ptr == 0:
        return "NULL"
    if not isinstance(data, (bytes, bytearray)):
        return hexa(ptr)
    # a font name: at most 32 bytes (the kernel's MAX_FONT_NAME) with its
    # NUL, so 32 read; none among them: the first 31 and `...`
    limit = c.opts.strsize
    nul = bytes(data).find(0, 0, _FONT_NAME)
    if nul >= 0:
        return quote(bytes(data[:min(nul, limit)]), c.opts.xflag) + ("..." if nul > limit else "")
    if len(data) < _FONT_NAME:
        return hexa(ptr)
    return quote(bytes(data[:min(_FONT_NAME - 1, limit)]), c.opts.xflag) + "..."

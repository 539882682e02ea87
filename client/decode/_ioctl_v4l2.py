"""ioctl: video4linux (linux/videodev2.h, request type 'V'), the pieces
the request printers of _ioctl_v4l2_req.py share: fourcc codes, control
ids, rectangles and fractions, and struct v4l2_format by its buffer type
(the overlay window's clips are read behind their pointer: the plan's
DEREF, bpfgen/syscalls.toml's [layouts] v4l2_format). Value sets are in
flagsets.toml (v4l2_*). x86_64 layouts."""

from __future__ import annotations

import struct

from ._core import C
from ._fmt import FlagSet, comment, hexa
from ._ioctl_util import elems

# buffer type -> (union member, printer name)
_FMT_KIND = {1: "pix", 2: "pix", 9: "pix_mp", 10: "pix_mp", 3: "win", 8: "win", 4: "vbi", 5: "vbi",
             6: "sliced", 7: "sliced", 11: "sdr", 12: "sdr", 13: "meta", 14: "meta"}
_NEXT_FLAGS = FlagSet("v4l2_control_id_flags", [("V4L2_CTRL_FLAG_NEXT_CTRL", 0x80000000),
                                                ("V4L2_CTRL_FLAG_NEXT_COMPOUND", 0x40000000)])


def u32(b: bytes, off: int) -> int:
    return struct.unpack_from("<I", b, off)[0]


def xv(c: C, setname: str, v: int) -> str:
    return c.fs(setname).xval(v, c.style)


def fl(c: C, setname: str, v: int) -> str:
    return c.fs(setname).flags(v, c.style)


def _fourcc_char(ch: int) -> str:
    if ch in (0x27, 0x5C):
        return "'\\" + chr(ch) + "'"
    return f"'{chr(ch)}'" if 0x20 <= ch < 0x7F else f"'\\x{ch:02x}'"


def fourcc(c: C, v: int) -> str:
    """`v4l2_fourcc('Y', 'U', 'Y', 'V') /* V4L2_PIX_FMT_YUYV */` (hex under -X raw)."""
    if c.style == "raw":
        return hexa(v)
    text = "v4l2_fourcc(" + ", ".join(_fourcc_char((v >> s) & 0xFF) for s in (0, 8, 16, 24)) + ")"
    name = c.fs("v4l2_pix_fmts").lookup(v)
    return text + comment(name) if name else text


def cid(c: C, v: int, next_flags: bool = False) -> str:
    """A control id: its name, `V4L2_CTRL_CLASS_X+0x12` in a known class,
    else `0x... /* V4L2_CID_??? */`; QUERYCTRL's NEXT flags before it."""
    parts = []
    flags = v & 0xC0000000 if next_flags else 0
    if flags:
        if c.style == "raw":
            return hexa(v)
        parts.append(_NEXT_FLAGS.flags(flags, c.style))
        v &= ~flags
        if not v:
            return parts[0]
    name = c.fs("v4l2_control_ids").lookup(v)
    if name is None:
        cls = c.fs("v4l2_control_classes").lookup(v & 0xFFFF0000)
        if cls is not None:
            name = f"{cls}+{hexa(v & 0xFFFF)}"
    if c.style == "raw":
        text = hexa(v)
    elif name is None:
        text = hexa(v) + comment("V4L2_CID_???")
    else:
        text = name if c.style == "abbrev" else hexa(v) + comment(name)
    return "|".join(parts + [text])


def rect(b: bytes, off: int) -> str:
    left, top, w, h = struct.unpack_from("<iiII", b, off)
    return f"{{left={left}, top={top}, width={w}, height={h}}}"


def fract(b: bytes, off: int) -> str:
    return "{}/{}".format(*struct.unpack_from("<II", b, off))


def _clips(c: C, b: bytes, off: int, count: int, phase: int) -> tuple[str, bool]:
    """The clips array and whether it was printed whole (when not, strace
    prints no ` => ` part for what the call wrote)."""
    ptr = struct.unpack_from("<Q", b, off + 24)[0]
    if count == 0:
        return "[]", False
    if not ptr:
        return "NULL", False
    return elems(c, c.deref(2, off + 24, phase), ptr, count, 24, lambda v, at: f"{{c={rect(v, at)}}}")


def fmt_union(c: C, b: bytes, off: int, typ: int, phase: int) -> tuple[str | None, bool]:
    """`fmt.pix={...}`: the union of a v4l2_format at `off` by its type
    (None: a type without a member), and whether strace goes on to what
    the call wrote (not after a window with no clip printed)."""
    kind = _FMT_KIND.get(typ)
    if kind is None:
        return None, False
    ok = True
    if kind == "pix":
        w, h, pf, field, bpl, size, cs = struct.unpack_from("<7I", b, off)
        body = (f"width={w}, height={h}, pixelformat={fourcc(c, pf)}, field={xv(c, 'v4l2_fields', field)}, "
                f"bytesperline={bpl}, sizeimage={size}, colorspace={xv(c, 'v4l2_colorspaces', cs)}")
    elif kind == "pix_mp":
        w, h, pf, field, cs = struct.unpack_from("<5I", b, off)
        n = b[off + 180]
        planes = ", ".join("{{sizeimage={}, bytesperline={}}}".format(*struct.unpack_from("<II", b, off + 20 + 20 * k))
                           for k in range(min(n, 8)))
        body = (f"width={w}, height={h}, pixelformat={fourcc(c, pf)}, field={xv(c, 'v4l2_fields', field)}, "
                f"colorspace={xv(c, 'v4l2_colorspaces', cs)}, plane_fmt=[{planes}], num_planes={n}")
    elif kind == "win":
        field, key = struct.unpack_from("<II", b, off + 16)
        count, bitmap = u32(b, off + 32), struct.unpack_from("<Q", b, off + 40)[0]
        clips, ok = _clips(c, b, off, count, phase)
        body = (f"w={rect(b, off)}, field={xv(c, 'v4l2_fields', field)}, chromakey={hexa(key)}, "
                f"clips={clips}, clipcount={count}, bitmap={hexa(bitmap) if bitmap else 'NULL'}"
                + (f", global_alpha={hexa(b[off + 48])}" if b[off + 48] else ""))
    elif kind == "vbi":
        rate, offs, spl, sf = struct.unpack_from("<4I", b, off)
        s0, s1, n0, n1, flags = struct.unpack_from("<iiIII", b, off + 16)
        body = (f"sampling_rate={rate}, offset={offs}, samples_per_line={spl}, sample_format={fourcc(c, sf)}, "
                f"start=[{s0}, {s1}], count=[{n0}, {n1}], flags={fl(c, 'v4l2_vbi_flags', flags)}")
    elif kind == "sliced":
        lines = struct.unpack_from("<48H", b, off + 2)
        rows = ", ".join("[" + ", ".join(hexa(x) for x in lines[24 * r:24 * r + 24]) + "]" for r in (0, 1))
        body = (f"service_set={fl(c, 'v4l2_sliced_flags', struct.unpack_from('<H', b, off)[0])}, "
                f"service_lines=[{rows}], io_size={u32(b, off + 100)}")
    else:
        pf, size = struct.unpack_from("<II", b, off)
        body = f"{'pixelformat' if kind == 'sdr' else 'dataformat'}={fourcc(c, pf)}, buffersize={size}"
    return f"fmt.{kind}={{{body}}}", ok

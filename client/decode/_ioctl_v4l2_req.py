"""ioctl: video4linux requests (linux/videodev2.h), as strace 6.1 prints
them: what the request passes at entry (`{index=0, type=...`), then
after a call that succeeded what the driver filled in, in the same braces
(`, flags=0, description="..."}`) or after ` => ` where the call rewrote
what was passed (`{type=..., fmt.pix={...}} => {fmt.pix={...}}`).
Which request takes which printer: ioctls.toml's [ioctl_args]."""

from __future__ import annotations

import struct

from ._core import C
from ._fmt import hexa
from ._ioctl_util import arg_bytes, cstring, exit_bytes, printer
from ._ioctl_v4l2 import fl, fmt_union, fourcc, fract, rect, u32, xv

_TS_MASK, _SRC_MASK = 0xE000, 0x70000


def _pair(c: C, size: int, head, tail, sep: str = "") -> str:
    """head(c, entry bytes) then, after a success, sep + tail(c, exit
    bytes); the closing brace after (sep ` => `: tail has its own)."""
    b = arg_bytes(c, 0, size)
    if isinstance(b, str):
        return b
    text = head(c, b)
    w = exit_bytes(c, size) if c.exiting and c.ok and tail is not None else None
    if w is not None:
        more = tail(c, w)
        if more is not None:
            return text + sep + more if sep else text + more + "}"
    return text if sep else text + "}"


def reg(name: str, size: int, head, tail=None, sep: str = ""):
    printer(name)(lambda c: _pair(c, size, head, tail, sep))


def _out(name: str, size: int, fn):
    printer(name, size)(fn)


def _btype(c: C, b: bytes, off: int = 0) -> str:
    return xv(c, "v4l2_buf_types", u32(b, off))


# VIDIOC_QUERYCAP
def _cap(c: C, b: bytes) -> str:
    ver, caps, dcaps = struct.unpack_from("<III", b, 80)
    v = f"KERNEL_VERSION({ver >> 16}, {(ver >> 8) & 0xFF}, {ver & 0xFF})"
    v = hexa(ver) if c.style == "raw" else v if c.style == "abbrev" else f"{hexa(ver)} /* {v} */"
    text = (f"{{driver={cstring(b[0:16])}, card={cstring(b[16:48])}, bus_info={cstring(b[48:80])}, "
            f"version={v}, capabilities={fl(c, 'v4l2_device_capabilities', caps)}")
    if caps & 0x80000000:
        text += f", device_caps={fl(c, 'v4l2_device_capabilities', dcaps)}"
    return text + "}"


_out("v4l2_capability", 104, _cap)
reg("v4l2_fmtdesc", 64, lambda c, b: f"{{index={u32(b, 0)}, type={_btype(c, b, 4)}",
     lambda c, w: (f", flags={fl(c, 'v4l2_fmt_flags', u32(w, 8))}, description={cstring(w[12:44])}, "
                   f"pixelformat={fourcc(c, u32(w, 44))}"))


# VIDIOC_G_FMT, S_FMT, TRY_FMT: the format union by its type
reg("v4l2_format_get", 208, lambda c, b: f"{{type={_btype(c, b)}",
     lambda c, w: (lambda u: f", {u}" if u else "")(fmt_union(c, w, 8, u32(w, 0), 1)[0]))


def _fmt_set(c: C) -> str:
    b = arg_bytes(c, 0, 208)
    if isinstance(b, str):
        return b
    u, more = fmt_union(c, b, 8, u32(b, 0), 0)
    text = f"{{type={_btype(c, b)}" + (f", {u}" if u else "") + "}"
    w = exit_bytes(c, 208) if more and c.exiting and c.ok else None
    u = fmt_union(c, w, 8, u32(w, 0), 1)[0] if w is not None else None
    return text + (f" => {{{u}}}" if u else "")


printer("v4l2_format_set")(_fmt_set)
reg("v4l2_requestbuffers", 20,
     lambda c, b: (f"{{type={_btype(c, b, 4)}, memory={xv(c, 'v4l2_memories', u32(b, 8))}, "
                   f"count={u32(b, 0)}"),
     lambda c, w: f" => {u32(w, 0)}")


# VIDIOC_QUERYBUF, QBUF, DQBUF
def _buf_flags(c: C, v: int) -> str:
    if c.style == "raw":
        return hexa(v)
    parts = [fl(c, "v4l2_buf_flags", v & ~(_TS_MASK | _SRC_MASK))] if v & ~(_TS_MASK | _SRC_MASK) else []
    parts.append(xv(c, "v4l2_buf_flags_ts_type", v & _TS_MASK))
    parts.append(xv(c, "v4l2_buf_flags_ts_src", v & _SRC_MASK))
    return "|".join(parts)


def _buf_tail(c: C, w: bytes, dq: bool) -> str:
    index, used, flags = struct.unpack_from("<III", w, 0)[0], u32(w, 8), u32(w, 12)
    mem = u32(w, 60)
    text = (f", index={index}" if dq else "") + f", memory={xv(c, 'v4l2_memories', mem)}"
    if mem == 1:
        text += f", m.offset={hexa(u32(w, 64))}"
    elif mem == 2:
        text += f", m.userptr={hexa(struct.unpack_from('<Q', w, 64)[0])}"
    text += f", length={u32(w, 72)}, bytesused={used}, flags={_buf_flags(c, flags)}"
    if dq:
        text += "timestamp={{tv_sec={}, tv_usec={}}}".format(*struct.unpack_from("<qq", w, 24)).join([", ", ""])
    return text + ", ..."


reg("v4l2_buffer", 88, lambda c, b: f"{{type={_btype(c, b, 4)}, index={u32(b, 0)}",
     lambda c, w: _buf_tail(c, w, False))
reg("v4l2_buffer_dq", 88, lambda c, b: f"{{type={_btype(c, b, 4)}", lambda c, w: _buf_tail(c, w, True))


def _fbuf(c: C, b: bytes) -> str:
    base = struct.unpack_from("<Q", b, 8)[0]
    return f"{{capability={hexa(u32(b, 0))}, flags={hexa(u32(b, 4))}, base={hexa(base) if base else 'NULL'}}}"


printer("v4l2_framebuffer", 48)(_fbuf)
printer("v4l2_buf_type", 4)(lambda c, b: f"[{_btype(c, b)}]")
printer("v4l2_std_id", 8)(lambda c, b: f"[{hexa(struct.unpack_from('<Q', b)[0])}]")
printer("v4l2_input_index", 4)(lambda c, b: f"[{u32(b, 0)}]")


# VIDIOC_G_PARM, S_PARM: capture or output parameters by type
def _parm(c: C, b: bytes) -> str | None:
    typ = u32(b, 0)
    if typ not in (1, 2):
        return None
    caps, mode, ext, nbuf = u32(b, 4), u32(b, 8), u32(b, 20), u32(b, 24)
    m = "capture" if typ == 1 else "output"
    return (f"parm.{m}={{capability={fl(c, 'v4l2_streaming_capabilities', caps)}, "
            f"{m}mode={fl(c, 'v4l2_capture_modes', mode)}, timeperframe={fract(b, 12)}, "
            f"extendedmode={hexa(ext)}, {'read' if typ == 1 else 'write'}buffers={nbuf}}}")


reg("v4l2_streamparm_get", 204, lambda c, b: f"{{type={_btype(c, b)}",
     lambda c, w: (lambda p: f", {p}" if p else "")(_parm(c, w)))
reg("v4l2_streamparm_set", 204, lambda c, b: (lambda p: f"{{type={_btype(c, b)}" + (f", {p}}}" if p else "}"))(
     _parm(c, b)), lambda c, w: (lambda p: f"{{{p}}}" if p else None)(_parm(c, w)), " => ")
reg("v4l2_standard", 72, lambda c, b: f"{{index={u32(b, 0)}",
     lambda c, w: f", name={cstring(w[16:40])}, frameperiod={fract(w, 40)}, framelines={u32(w, 48)}")
reg("v4l2_input", 80, lambda c, b: f"{{index={u32(b, 0)}",
     lambda c, w: f", name={cstring(w[4:36])}, type={xv(c, 'v4l2_input_types', u32(w, 36))}")
def _tuner(c: C, b: bytes) -> str:
    typ, caps, low, high, sub, mode, sig, afc = struct.unpack_from("<6Iii", b, 36)
    return (f"name={cstring(b[4:36])}, type={xv(c, 'v4l2_tuner_types', typ)}, "
            f"capability={fl(c, 'v4l2_tuner_capabilities', caps)}, rangelow={low}, rangehigh={high}, "
            f"rxsubchans={fl(c, 'v4l2_tuner_rxsubchanses', sub)}, audmode={xv(c, 'v4l2_tuner_audmodes', mode)}, "
            f"signal={sig}, afc={afc}")


reg("v4l2_tuner_get", 84, lambda c, b: f"{{index={u32(b, 0)}", lambda c, w: ", " + _tuner(c, w))
reg("v4l2_tuner_set", 84, lambda c, b: f"{{index={u32(b, 0)}, {_tuner(c, b)}}}",
     lambda c, w: f"{{{_tuner(c, w)}}}", " => ")

reg("v4l2_cropcap", 44, lambda c, b: f"{{type={_btype(c, b)}",
     lambda c, w: f", bounds={rect(w, 4)}, defrect={rect(w, 20)}, pixelaspect={fract(w, 36)}")
reg("v4l2_crop_get", 20, lambda c, b: f"{{type={_btype(c, b)}", lambda c, w: f", c={rect(w, 4)}")
printer("v4l2_crop_set", 20)(lambda c, b: f"{{type={_btype(c, b)}, c={rect(b, 4)}}}")


def _frmsize(c: C, w: bytes) -> str:
    typ = u32(w, 8)
    text = f", type={xv(c, 'v4l2_framesize_types', typ)}"
    if typ == 1:
        return text + "discrete={{width={}, height={}}}".format(*struct.unpack_from("<II", w, 12)).join([", ", ""])
    if typ == 3:
        names = ("min_width", "max_width", "step_width", "min_height", "max_height", "step_height")
        vals = struct.unpack_from("<6I", w, 12)
        return text + ", stepwise={" + ", ".join(f"{n}={v}" for n, v in zip(names, vals)) + "}"
    return text


def _frmival(c: C, w: bytes) -> str:
    typ = u32(w, 16)
    text = f", type={xv(c, 'v4l2_frameinterval_types', typ)}"
    if typ == 1:
        return text + f", discrete={fract(w, 20)}"
    if typ in (2, 3):
        return text + f", stepwise={{min={fract(w, 20)}, max={fract(w, 28)}, step={fract(w, 36)}}}"
    return text


reg("v4l2_frmsizeenum", 44, lambda c, b: f"{{index={u32(b, 0)}, pixel_format={fourcc(c, u32(b, 4))}", _frmsize)
reg("v4l2_frmivalenum", 52, lambda c, b: (f"{{index={u32(b, 0)}, pixel_format={fourcc(c, u32(b, 4))}, "
                                           f"width={u32(b, 8)}, height={u32(b, 12)}"), _frmival)


def _create_bufs(c: C) -> str:
    b = arg_bytes(c, 0, 256)
    if isinstance(b, str):
        return b
    u = fmt_union(c, b, 24, u32(b, 16), 0)[0]
    return (f"{{count={u32(b, 4)}, memory={xv(c, 'v4l2_memories', u32(b, 8))}, "
            f"format={{type={_btype(c, b, 16)}" + (f", {u}" if u else "") + "}}")


printer("v4l2_create_buffers")(_create_bufs)


def create_bufs_ret(c: C) -> str | None:
    """VIDIOC_CREATE_BUFS's return with what the call filled in:
    `0 ({index=0, count=2})`."""
    w = exit_bytes(c, 8) if c.ok and isinstance(arg_bytes(c, 0, 256), bytes) else None
    return None if w is None else f"{c.rval} ({{index={u32(w, 0)}, count={u32(w, 4)}}})"


"""ioctl: video4linux controls (linux/videodev2.h): VIDIOC_G_CTRL and
S_CTRL, QUERYCTRL and QUERY_EXT_CTRL (the rest of their description under
-v), the extended controls (G/S/TRY_EXT_CTRLS: the controls array read
behind its pointer, [layouts] v4l2_ext_controls). Registered for
ioctls.toml's [ioctl_args] as _ioctl_v4l2_req's printers are."""

from __future__ import annotations

import struct

from ._core import C
from ._fmt import hexa
from ._ioctl_util import arg_bytes, cstring, elems, printer, rsv
from ._ioctl_v4l2 import cid, fl, u32, xv
from ._ioctl_v4l2_req import reg

reg("v4l2_control_get", 8, lambda c, b: f"{{id={cid(c, u32(b, 0))}",
     lambda c, w: f", value={struct.unpack_from('<i', w, 4)[0]}")
reg("v4l2_control_set", 8, lambda c, b: f"{{id={cid(c, u32(b, 0))}, value={struct.unpack_from('<i', b, 4)[0]}",
     lambda c, w: f" => {struct.unpack_from('<i', w, 4)[0]}")


def _ctrl_tail(c: C, w: bytes, ext: bool) -> str:
    """A control's description: its type and name, the rest under -v."""
    text = f", type={xv(c, 'v4l2_control_types', u32(w, 4))}, name={cstring(w[8:40])}"
    if c.abbrev:
        return text + ", ..."
    if ext:
        lo, hi, step, dflt = struct.unpack_from("<qqQq", w, 40)
        flags, esize, elems, ndims = struct.unpack_from("<4I", w, 72)
        dims = struct.unpack_from(f"<{min(ndims, 4)}I", w, 88)
        tail = (f", elem_size={esize}, elems={elems}, nr_of_dims={ndims}, dims=[{', '.join(map(str, dims))}]"
                + rsv(w, 104, 32, "reserved"))
    else:
        lo, hi, step, dflt, flags = struct.unpack_from("<iiiiI", w, 40)
        tail = rsv(w, 60, 2, "reserved")
    return (text + f", minimum={lo}, maximum={hi}, step={step}, default_value={dflt}, "
            f"flags={fl(c, 'v4l2_control_flags', flags)}" + tail)


reg("v4l2_queryctrl", 68, lambda c, b: f"{{id={cid(c, u32(b, 0), True)}", lambda c, w: _ctrl_tail(c, w, False))
reg("v4l2_query_ext_ctrl", 232, lambda c, b: f"{{id={cid(c, u32(b, 0), True)}", lambda c, w: _ctrl_tail(c, w, True))


def _controls(c: C, x: bytes, phase: int) -> tuple[str, bool]:
    """v4l2_ext_controls' array of 20-byte controls (read behind its
    pointer: [layouts] v4l2_ext_controls), and whether it printed whole.
    A string control's characters are a pointer further still, which the
    fetch does not follow: its address."""
    count, ptr = u32(x, 4), struct.unpack_from("<Q", x, 24)[0]
    v = c.deref(2, 24, phase) if ptr else None
    if v is None and phase:  # a failed call's exit: what was read at entry
        v = c.deref(2, 24, 0)
    if not ptr:
        return "NULL", False

    def one(v: bytes, at: int) -> str:
        cid_, size = struct.unpack_from("<II", v, at)
        text = f"{{id={xv(c, 'v4l2_control_ids', cid_)}, size={size}, "
        if size:
            sp = struct.unpack_from("<Q", v, at + 12)[0]
            return text + f"string={hexa(sp) if sp else 'NULL'}}}"
        return text + "value={}, value64={}}}".format(struct.unpack_from("<i", v, at + 12)[0],
                                                     struct.unpack_from("<q", v, at + 12)[0])

    return elems(c, v, ptr, count, 20, one)


def _ext_ctrls(c: C, get: bool) -> str:
    b = arg_bytes(c, 0, 32)
    if isinstance(b, str):
        return b
    text = f"{{ctrl_class={xv(c, 'v4l2_control_classes', u32(b, 0))}, count={u32(b, 4)}"
    if not u32(b, 4):
        return text + "}"
    if not get:
        arr, whole = _controls(c, b, 0)
        text += f", controls={arr}"
        if not whole:
            return text + "}"
    if not c.exiting:
        return text + "}"
    x = c.m(2, 1)
    if not isinstance(x, (bytes, bytearray)) or len(x) < 32:
        x = b  # not read again at the exit of a failed call: as at entry
    arr = _controls(c, bytes(x[:32]), 1)[0]
    text += (", " if get else "} => {") + f"controls={arr}"
    if not c.ok:
        text += f", error_idx={u32(x, 8)}"
    return text + "}"


printer("v4l2_ext_controls_get")(lambda c: _ext_ctrls(c, True))
printer("v4l2_ext_controls_set")(lambda c: _ext_ctrls(c, False))

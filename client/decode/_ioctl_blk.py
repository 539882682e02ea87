"""ioctl: block device partitions and tracing (linux/blkpg.h,
linux/blktrace_api.h): BLKPG's request and the partition behind its data
pointer (read by a DEREF op: bpfgen/syscalls.toml's [layouts]
blkpg_ioctl_arg), BLKTRACESETUP's setup and the name the call gives back."""

from __future__ import annotations

import struct

from ._core import C
from ._fmt import FlagSet, hexa
from ._ioctl_util import arg_read, cstring, printer

_OPS = FlagSet("blkpg_ops", [("BLKPG_ADD_PARTITION", 1), ("BLKPG_DEL_PARTITION", 2),
                             ("BLKPG_RESIZE_PARTITION", 3)], "BLKPG_???", "include/uapi/linux/blkpg.h")
_DATA_OFF = 16  # blkpg_ioctl_arg's data pointer on x86_64
_PART_SIZE = 152  # struct blkpg_partition


@printer("blkpg_ioctl_arg")
def _blkpg(c: C) -> str:
    b = arg_read(c, 0, 24)
    if isinstance(b, str):
        return b
    op, flags, datalen, ptr = struct.unpack_from("<iii4xQ", b)
    data = hexa(ptr)
    part = c.deref(2, _DATA_OFF, 0) if ptr else None  # whatever the op, as strace
    if isinstance(part, (bytes, bytearray)) and len(part) >= _PART_SIZE:
        start, length, pno = struct.unpack_from("<qqi", part)
        data = (f"{{start={start}, length={length}, pno={pno}, devname={cstring(part[20:84])}, "
                f"volname={cstring(part[84:148])}}}")
    elif not ptr:
        data = "NULL"
    return f"{{op={_OPS.xval(op & 0xFFFFFFFF, c.style)}, flags={flags}, datalen={datalen}, data={data}}}"


def _pid(c: C, v: int) -> str:
    t = c.dec.pidns
    return str(v) if t is None else f"{v}{t.comment(c.tid, v)}"


@printer("blk_user_trace_setup")
def _trace_setup(c: C) -> str:
    b = arg_read(c, 0, 72)
    if isinstance(b, str):
        return b
    mask, size, nr, start, end, pid = struct.unpack_from("<H2xII4xQQi", b, 32)
    text = (f"{{act_mask={mask}, buf_size={size}, buf_nr={nr}, start_lba={start}, end_lba={end}, "
            f"pid={_pid(c, pid)}}}")
    if c.exiting and c.ok:
        w = arg_read(c, 1, 32)
        if not isinstance(w, str):
            text += f" => {{name={cstring(w[:32])}}}"
    return text

"""ioctl: block devices' requests with a struct (linux/blkpg.h,
linux/blktrace_api.h): BLKPG's struct blkpg_ioctl_arg and the partition
its `data` points to (a DEREF the syscall table's ioctl fetch rule asks
for: `blkpg_ioctl_arg` in [layouts]), BLKTRACESETUP's struct
blk_user_trace_setup (its pid as our namespace numbers it too, under
--pidns-translation). Which request takes which: ioctls.toml's
[ioctl_args]."""

from __future__ import annotations

import struct

from ._core import C
from ._fmt import FlagSet, hexa
from ._ioctl_util import arg_bytes, cstring, printer

_BLKPG_OPS = FlagSet("blkpg_ops", [("BLKPG_ADD_PARTITION", 1), ("BLKPG_DEL_PARTITION", 2),
                                   ("BLKPG_RESIZE_PARTITION", 3)], "BLKPG_???", "include/uapi/linux/blkpg.h")
# struct blkpg_partition: start, length (long long), pno (int), devname[64], volname[64]
_PART = struct.Struct("<qqi")
_PART_SIZE = 152


def _partition(b: bytes) -> str:
    start, length, pno = _PART.unpack_from(b)
    return (f"{{start={start}, length={length}, pno={pno}, devname={cstring(b[20:84])}, "
            f"volname={cstring(b[84:148])}}}")


@printer("blkpg_ioctl_arg")
def _blkpg(c: C) -> str:
    compat = c.pers != 0
    b = arg_bytes(c, 0, 16 if compat else 24)
    if isinstance(b, str):
        return b
    op, flags, datalen = struct.unpack_from("<iii", b)
    ptr = struct.unpack_from("<I" if compat else "<Q", b, 12 if compat else 16)[0]
    data = hexa(ptr) if ptr else "NULL"
    if ptr:  # whatever the op
        d = c.deref(2, 12 if compat else 16, 0)
        if isinstance(d, (bytes, bytearray)) and len(d) >= _PART_SIZE:
            data = _partition(bytes(d))
    return f"{{op={_BLKPG_OPS.xval(op & 0xFFFFFFFF, c.style)}, flags={flags}, datalen={datalen}, data={data}}}"


@printer("blk_user_trace_setup", 72)
def _trace_setup(c: C, b: bytes) -> str:
    """At entry: what the caller asks (the name is the kernel's answer)."""
    act, size, nr, start, end, pid = struct.unpack_from("<H2xII4xQQi", b, 32)
    pid_s = str(pid)
    t = c.dec.pidns
    if t is not None:
        pid_s += t.comment(c.tid, pid)
    return (f"{{act_mask={act}, buf_size={size}, buf_nr={nr}, start_lba={start}, end_lba={end}, "
            f"pid={pid_s}}}")

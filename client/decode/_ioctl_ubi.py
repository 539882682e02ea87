"""ioctl: UBI volumes (mtd/ubi-user.h, request types 'o' and 'O'): attach,
volume make, resize, rename, LEB change and map requests, volume
properties (x86_64 layouts); a request that hands back a number prints
it after ` => ` when the call succeeded (`{ubi_num=0, ...} => [0]`).
Which request takes which is in ioctls.toml's [ioctl_args]."""

from __future__ import annotations

import struct

from ._core import C
from ._fmt import FlagSet, hexa
from ._ioctl_util import arg_bytes, cstring, exit_bytes, printer

_H = "include/uapi/mtd/ubi-user.h"
_DTYPES = FlagSet("ubi_data_types", [("UBI_LONGTERM", 1), ("UBI_SHORTTERM", 2), ("UBI_UNKNOWN", 3)], "UBI_???", _H)
_VOL_TYPES = FlagSet("ubi_volume_types", [("UBI_DYNAMIC_VOLUME", 3), ("UBI_STATIC_VOLUME", 4)], "UBI_???_VOLUME", _H)
_VOL_FLAGS = FlagSet("ubi_volume_flags", [("UBI_VOL_SKIP_CRC_CHECK_FLG", 1)], "UBI_VOL_???", _H)
_PROPS = FlagSet("ubi_volume_props", [("UBI_VOL_PROP_DIRECT_WRITE", 1)], "UBI_VOL_PROP_???", _H)
_MAX_NAME, _MAX_RNVOL = 127, 32


def _name(b: bytes, off: int, name_len: int) -> str:
    """A volume name of name_len characters (0..127) and its NUL: up to a
    NUL within them, else the name_len characters and `...`."""
    n = min(max(name_len, 0), _MAX_NAME)
    return cstring(b[off:off + n + 1])


def _returned(c: C, size: int, fmt: str, head: str) -> str:
    """head, then ` => [N]` (the number at the struct's start that the call
    wrote) when it succeeded."""
    if c.exiting and c.ok:
        w = exit_bytes(c, size)
        if w is not None:
            return f"{head} => [{struct.unpack_from(fmt, w)[0]}]"
    return head


@printer("ubi_attach_req")
def _attach(c: C) -> str:
    b = arg_bytes(c, 0, 24)
    if isinstance(b, str):
        return b
    ubi, mtd, vid, beb = struct.unpack_from("<iiih", b)
    return _returned(c, 4, "<i", f"{{ubi_num={ubi}, mtd_num={mtd}, vid_hdr_offset={vid}, max_beb_per1024={beb}}}")


@printer("ubi_mkvol_req")
def _mkvol(c: C) -> str:
    b = arg_bytes(c, 0, 152)
    if isinstance(b, str):
        return b
    vol_id, align, nbytes, vtype, flags, name_len = struct.unpack_from("<iiqbBh", b)
    head = (f"{{vol_id={vol_id}, alignment={align}, bytes={nbytes}, "
            f"vol_type={_VOL_TYPES.xval(vtype & 0xFF, c.style)}, flags={_VOL_FLAGS.flags(flags, c.style)}, "
            f"name_len={name_len}, name={_name(b, 24, name_len)}}}")
    return _returned(c, 4, "<i", head)


@printer("ubi_rnvol_req", 16 + _MAX_RNVOL * 136)
def _rnvol(c: C, b: bytes) -> str:
    count = struct.unpack_from("<i", b)[0]
    ents = []
    for k in range(min(max(count, 0), _MAX_RNVOL)):
        off = 16 + 136 * k
        vol_id, name_len = struct.unpack_from("<ih", b, off)
        ents.append(f"{{vol_id={vol_id}, name_len={name_len}, name={_name(b, off + 8, name_len)}}}")
    return f"{{count={count}, ents=[{', '.join(ents)}]}}"


printer("ubi_leb_change_req", 16)(lambda c, b: "{{lnum={}, bytes={}, dtype={}}}".format(
    *struct.unpack_from("<ii", b), _DTYPES.xval(b[8], c.style)))
printer("ubi_map_req", 8)(lambda c, b: "{{lnum={}, dtype={}}}".format(
    struct.unpack_from("<i", b)[0], _DTYPES.xval(b[4], c.style)))
printer("ubi_rsvol_req", 12)(lambda c, b: "{{bytes={}, vol_id={}}}".format(*struct.unpack_from("<qi", b)))
printer("ubi_set_vol_prop_req", 16)(lambda c, b: "{{property={}, value={}}}".format(
    _PROPS.xval(b[0], c.style), hexa(struct.unpack_from("<Q", b, 8)[0])))

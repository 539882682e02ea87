"""ioctl: loop devices (linux/loop.h, request type 'L'): the old and the
64-bit status structs, LOOP_CONFIGURE, fds and values. Without -v the
status structs print their common fields and `...`."""

from __future__ import annotations

import struct

from ._core import C
from ._fmt import FlagSet, hexa, quote_buf
from ._ioctl_util import cstring, field_fd, printer

_H = "include/uapi/linux/loop.h"
_FLAGS = FlagSet("loop_flags", [
    ("LO_FLAGS_READ_ONLY", 1), ("LO_FLAGS_USE_AOPS", 2), ("LO_FLAGS_AUTOCLEAR", 4), ("LO_FLAGS_PARTSCAN", 8),
    ("LO_FLAGS_DIRECT_IO", 16)], "LO_FLAGS_???", _H)
_CRYPT = FlagSet("loop_crypt_types", [
    ("LO_CRYPT_NONE", 0), ("LO_CRYPT_XOR", 1), ("LO_CRYPT_DES", 2), ("LO_CRYPT_FISH2", 3), ("LO_CRYPT_BLOW", 4),
    ("LO_CRYPT_CAST128", 5), ("LO_CRYPT_IDEA", 6), ("LO_CRYPT_DUMMY", 9), ("LO_CRYPT_SKIPJACK", 10),
    ("LO_CRYPT_CRYPTOAPI", 18)], "LO_CRYPT_???", _H)


def makedev(dev: int) -> str:
    """A 64-bit device number as glibc's major()/minor() split it (each
    32 bits)."""
    major = ((dev >> 8) & 0xFFF) | ((dev >> 32) & 0xFFFFF000)
    minor = (dev & 0xFF) | ((dev >> 12) & 0xFFFFFF00)
    return f"makedev({hexa(major)}, {hexa(minor)})"


def _key(c: C, b: bytes, off: int, size: int) -> str:
    n = min(size & 0xFFFFFFFF, 32)
    return quote_buf(b[off:off + n], n, c.opts.strsize, c.opts.xflag)


@printer("loop_info", 168)
def _info(c: C, b: bytes) -> str:
    """struct loop_info (x86_64: 168 bytes)."""
    if c.pers != 0:
        return c.ptr(2)  # i386's loop_info has 32-bit longs: its layout is not decoded
    number, device, inode, rdevice = struct.unpack_from("<i4xQQQ", b)
    offset, etype, ksize, flags = struct.unpack_from("<iiii", b, 32)
    full = not c.abbrev
    crypt = full or etype != 0
    out = [f"lo_number={number}"]
    if full:
        out += [f"lo_device={makedev(device)}", f"lo_inode={inode}", f"lo_rdevice={makedev(rdevice)}"]
    out.append(f"lo_offset={hexa(offset & 0xFFFFFFFF)}")
    if crypt:
        out += [f"lo_encrypt_type={_CRYPT.xval(etype & 0xFFFFFFFF, c.style)}", f"lo_encrypt_key_size={ksize & 0xFFFFFFFF}"]
    out += [f"lo_flags={_FLAGS.flags(flags & 0xFFFFFFFF, c.style)}", f"lo_name={cstring(b[48:112])}"]
    if crypt:
        out.append(f"lo_encrypt_key={_key(c, b, 112, ksize)}")
    if full:
        init = struct.unpack_from("<QQ", b, 144)
        out += [f"lo_init=[{hexa(init[0])}, {hexa(init[1])}]",
                "reserved=[" + ", ".join(hexa(x) for x in b[160:164]) + "]"]
    else:
        out.append("...")
    return "{" + ", ".join(out) + "}"


@printer("loop_info64", 232)
def _info64(c: C, b: bytes) -> str:
    """struct loop_info64 (232 bytes)."""
    device, inode, rdevice, offset, sizelimit, number, etype, ksize, flags = struct.unpack_from("<5Q4I", b)
    full = not c.abbrev
    crypt = full or etype != 0
    if full:
        out = [f"lo_device={makedev(device)}", f"lo_inode={inode}", f"lo_rdevice={makedev(rdevice)}",
               f"lo_offset={hexa(offset)}", f"lo_sizelimit={sizelimit}", f"lo_number={number}"]
    else:
        out = [f"lo_offset={hexa(offset)}", f"lo_number={number}"]
    if crypt:
        out += [f"lo_encrypt_type={_CRYPT.xval(etype, c.style)}", f"lo_encrypt_key_size={ksize}"]
    out += [f"lo_flags={_FLAGS.flags(flags, c.style)}", f"lo_file_name={cstring(b[56:120])}"]
    if crypt:
        out += [f"lo_crypt_name={cstring(b[120:184])}", f"lo_encrypt_key={_key(c, b, 184, ksize)}"]
    if full:
        init = struct.unpack_from("<QQ", b, 216)
        out.append(f"lo_init=[{hexa(init[0])}, {hexa(init[1])}]")
    else:
        out.append("...")
    return "{" + ", ".join(out) + "}"


@printer("loop_config", 304)
def _config(c: C, b: bytes) -> str:
    fd, bsize = struct.unpack_from("<iI", b)
    out = f"{{fd={field_fd(c, fd, 0)}, block_size={bsize}, info={_info64(c, b[8:240])}"
    rsv = struct.unpack_from("<8Q", b, 240)
    if any(rsv):
        out += ", __reserved=[" + ", ".join(hexa(x) for x in rsv) + "]"
    return out + "}"

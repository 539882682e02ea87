"""ioctl: memory technology devices (mtd/mtd-abi.h, request type 'M'):
erase and OOB requests, writes, OTP, device and region info, NAND layouts
and ECC statistics (x86_64 layouts). Their numbers are also the sound
mixer's (`MIXER_WRITE(2) or MEMERASE`), as strace names them."""

from __future__ import annotations

import struct

from ._core import C
from ._fmt import FlagSet, hexa
from ._ioctl_util import arg_bytes, array, exit_bytes

_H = "include/uapi/mtd/mtd-abi.h"
_OPS = FlagSet("mtd_mode_options", [("MTD_OPS_PLACE_OOB", 0), ("MTD_OPS_AUTO_OOB", 1), ("MTD_OPS_RAW", 2)],
               "MTD_OPS_???", _H)
_FILE_MODES = FlagSet("mtd_file_mode_options", [
    ("MTD_FILE_MODE_NORMAL", 0), ("MTD_FILE_MODE_OTP_FACTORY", 1), ("MTD_FILE_MODE_OTP_USER", 2),
    ("MTD_FILE_MODE_RAW", 3)], "MTD_FILE_MODE_???", _H)
_TYPES = FlagSet("mtd_type_options", [
    ("MTD_ABSENT", 0), ("MTD_RAM", 1), ("MTD_ROM", 2), ("MTD_NORFLASH", 3), ("MTD_NANDFLASH", 4),
    ("MTD_DATAFLASH", 6), ("MTD_UBIVOLUME", 7), ("MTD_MLCNANDFLASH", 8)], "MTD_???", _H)
_FLAGS = FlagSet("mtd_flags_options", [
    ("MTD_WRITEABLE", 0x400), ("MTD_BIT_WRITEABLE", 0x800), ("MTD_NO_ERASE", 0x1000), ("MTD_POWERUP_LOCK", 0x2000),
    ("MTD_SLC_ON_MLC_EMULATION", 0x4000)], "MTD_???", _H)
_OTP = FlagSet("mtd_otp_options", [("MTD_OTP_OFF", 0), ("MTD_OTP_FACTORY", 1), ("MTD_OTP_USER", 2)],
               "MTD_OTP_???", _H)
_NANDECC = FlagSet("mtd_nandecc_options", [
    ("MTD_NANDECC_OFF", 0), ("MTD_NANDECC_PLACE", 1), ("MTD_NANDECC_AUTOPLACE", 2), ("MTD_NANDECC_PLACEONLY", 3),
    ("MTD_NANDECC_AUTOPL_USR", 4)], "MTD_NANDECC_???", _H)


def _ptr(v: int) -> str:
    return hexa(v) if v else "NULL"


def _xs(b: bytes, off: int, n: int) -> list[str]:
    return [hexa(x) for x in struct.unpack_from(f"<{n}I", b, off)]


def _fields(fmt: str, names: tuple, fn):
    """A struct of fields printed by fn(name, value) (hex unless fn says)."""
    size = struct.calcsize("<" + fmt)

    def pr(c: C, phase: int) -> str:
        b = arg_bytes(c, phase, size)
        if isinstance(b, str):
            return b
        vals = struct.unpack_from("<" + fmt, b)
        return "{" + ", ".join(f"{n}={fn(c, n, v)}" for n, v in zip(names, vals) if n) + "}"

    return pr


def _hex_or(c: C, name: str, v: int) -> str:
    if name in ("ptr", "usr_ptr", "usr_data", "usr_oob"):
        return _ptr(v)
    if name == "mode":
        return _OPS.xval(v, c.style)
    if name in ("locked",):
        return str(v)
    return hexa(v)


_ERASE = _fields("II", ("start", "length"), _hex_or)
_ERASE64 = _fields("QQ", ("start", "length"), _hex_or)
_OOB = _fields("IIQ", ("start", "length", "ptr"), _hex_or)
_OOB64 = _fields("QIIQ", ("start", "", "length", "usr_ptr"), _hex_or)
_OTP_INFO = _fields("III", ("start", "length", "locked"), _hex_or)
_WRITE = _fields("QQQQQB", ("start", "len", "ooblen", "usr_data", "usr_oob", "mode"), _hex_or)


def _info(c: C) -> str:
    b = arg_bytes(c, 1, 32)
    if isinstance(b, str):
        return b
    typ, flags, size, erase, write, oob, pad = struct.unpack_from("<B3xIIIIIQ", b)
    return (f"{{type={_TYPES.xval(typ, c.style)}, flags={_FLAGS.flags(flags, c.style)}, size={hexa(size)}, "
            f"erasesize={hexa(erase)}, writesize={hexa(write)}, oobsize={hexa(oob)}, padding={hexa(pad)}}}")


def _oobinfo(c: C) -> str:
    b = arg_bytes(c, 1, 200)
    if isinstance(b, str):
        return b
    useecc, eccbytes = struct.unpack_from("<II", b)
    pairs = ["[" + ", ".join(_xs(b, 8 + 8 * k, 2)) + "]" for k in range(8)]
    return (f"{{useecc={_NANDECC.xval(useecc, c.style)}, eccbytes={hexa(eccbytes)}, oobfree={array(c, pairs)}, "
            f"eccpos={array(c, _xs(b, 72, 32))}}}")


def _ecclayout(c: C) -> str:
    b = arg_bytes(c, 1, 328)
    if isinstance(b, str):
        return b
    free = [f"{{offset={hexa(o)}, length={hexa(n)}}}" for o, n in
            (struct.unpack_from("<II", b, 264 + 8 * k) for k in range(8))]
    return (f"{{eccbytes={hexa(struct.unpack_from('<I', b)[0])}, eccpos={array(c, _xs(b, 4, 64))}, "
            f"oobavail={hexa(struct.unpack_from('<I', b, 260)[0])}, oobfree={array(c, free)}}}")


def _num(c: C, phase: int, fmt: str) -> str:
    b = arg_bytes(c, phase, struct.calcsize("<" + fmt))
    return b if isinstance(b, str) else f"[{struct.unpack_from('<' + fmt, b)[0]}]"


def _region(c: C) -> str:
    b = arg_bytes(c, 0, 16)
    if isinstance(b, str):
        return b
    out = f"{{regionindex={hexa(struct.unpack_from('<I', b, 12)[0])}"
    if c.exiting and c.ok:
        w = exit_bytes(c, 16)
        if w is not None:
            off, erase, num = struct.unpack_from("<III", w)
            out += f", offset={hexa(off)}, erasesize={hexa(erase)}, numblocks={hexa(num)}"
    return out + "}"


# request name -> (printer of (C, phase), read at exit)
_REQUESTS = {
    "MEMERASE": (_ERASE, False), "MEMLOCK": (_ERASE, False), "MEMUNLOCK": (_ERASE, False),
    "MEMISLOCKED": (_ERASE, False), "MEMERASE64": (_ERASE64, False), "MEMWRITEOOB": (_OOB, False),
    "MEMREADOOB": (_OOB, False), "MEMWRITEOOB64": (_OOB64, False), "MEMREADOOB64": (_OOB64, False),
    "MEMWRITE": (_WRITE, False), "OTPLOCK": (_OTP_INFO, False), "OTPGETREGIONINFO": (_OTP_INFO, True),
    "OTPSELECT": (lambda c, p: (lambda b: b if isinstance(b, str) else
                                f"[{_OTP.xval(struct.unpack_from('<I', b)[0], c.style)}]")(arg_bytes(c, p, 4)),
                  False),
    "MEMGETBADBLOCK": (lambda c, p: _num(c, p, "Q"), False), "MEMSETBADBLOCK": (lambda c, p: _num(c, p, "Q"), False),
    "MEMGETINFO": (lambda c, p: _info(c), True), "MEMGETOOBSEL": (lambda c, p: _oobinfo(c), True),
    "ECCGETLAYOUT": (lambda c, p: _ecclayout(c), True),
    "ECCGETSTATS": (_fields("IIII", ("corrected", "failed", "badblocks", "bbtblocks"), _hex_or), True),
    "OTPGETREGIONCOUNT": (lambda c, p: _num(c, p, "I"), True), "MEMGETREGIONCOUNT": (lambda c, p: _num(c, p, "i"), True),
    "MEMGETREGIONINFO": (lambda c, p: _region(c), False),
}


def decode(c: C, code: int, name: str | None) -> list[str] | None:
    """The third argument of an MTD request by its name (among the names
    the number has); None for the requests strace prints as a value."""
    for n in (name or "").split(" or "):
        if n == "MTDFILEMODE":
            return [_FILE_MODES.xval(c.ulong(2), c.style)]
        req = _REQUESTS.get(n)
        if req is not None:
            fn, at_exit = req
            if at_exit:
                return [fn(c, 1)] if c.exiting else []
            return [fn(c, 0)]
    return None

"""ioctl: memory technology devices (mtd/mtd-abi.h, request type 'M'):
erase and OOB requests, writes, OTP, device and region info, NAND layouts
and ECC statistics (x86_64 layouts). Their numbers are also the sound
mixer's (`MIXER_WRITE(2) or MEMERASE`), as strace names them."""

from __future__ import annotations

import struct

from ._core import C
from ._fmt import FlagSet, hexa
from ._ioctl_util import arg_bytes, array, exit_bytes, printer, value_sets

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


def _fields(name: str, fmt: str, names: tuple, fn) -> None:
    """Register a struct of fields printed by fn(name, value) (hex unless fn says)."""

    @printer(name, struct.calcsize("<" + fmt))
    def pr(c: C, b: bytes) -> str:
        vals = struct.unpack_from("<" + fmt, b)
        return "{" + ", ".join(f"{n}={fn(c, n, v)}" for n, v in zip(names, vals) if n) + "}"


def _hex_or(c: C, name: str, v: int) -> str:
    if name in ("ptr", "usr_ptr", "usr_data", "usr_oob"):
        return _ptr(v)
    if name == "mode":
        return _OPS.xval(v, c.style)
    if name in ("locked",):
        return str(v)
    return hexa(v)


_fields("erase_info_user", "II", ("start", "length"), _hex_or)
_fields("erase_info_user64", "QQ", ("start", "length"), _hex_or)
_fields("mtd_oob_buf", "IIQ", ("start", "length", "ptr"), _hex_or)
_fields("mtd_oob_buf64", "QIIQ", ("start", "", "length", "usr_ptr"), _hex_or)
_fields("otp_info", "III", ("start", "length", "locked"), _hex_or)
_fields("mtd_write_req", "QQQQQB", ("start", "len", "ooblen", "usr_data", "usr_oob", "mode"), _hex_or)
_fields("mtd_ecc_stats", "IIII", ("corrected", "failed", "badblocks", "bbtblocks"), _hex_or)
value_sets(_FILE_MODES)


@printer("mtd_info_user", 32)
def _info(c: C, b: bytes) -> str:
    typ, flags, size, erase, write, oob, pad = struct.unpack_from("<B3xIIIIIQ", b)
    return (f"{{type={_TYPES.xval(typ, c.style)}, flags={_FLAGS.flags(flags, c.style)}, size={hexa(size)}, "
            f"erasesize={hexa(erase)}, writesize={hexa(write)}, oobsize={hexa(oob)}, padding={hexa(pad)}}}")


@printer("nand_oobinfo", 200)
def _oobinfo(c: C, b: bytes) -> str:
    useecc, eccbytes = struct.unpack_from("<II", b)
    pairs = ["[" + ", ".join(_xs(b, 8 + 8 * k, 2)) + "]" for k in range(8)]
    return (f"{{useecc={_NANDECC.xval(useecc, c.style)}, eccbytes={hexa(eccbytes)}, oobfree={array(c, pairs)}, "
            f"eccpos={array(c, _xs(b, 72, 32))}}}")


@printer("nand_ecclayout_user", 328)
def _ecclayout(c: C, b: bytes) -> str:
    free = [f"{{offset={hexa(o)}, length={hexa(n)}}}" for o, n in
            (struct.unpack_from("<II", b, 264 + 8 * k) for k in range(8))]
    return (f"{{eccbytes={hexa(struct.unpack_from('<I', b)[0])}, eccpos={array(c, _xs(b, 4, 64))}, "
            f"oobavail={hexa(struct.unpack_from('<I', b, 260)[0])}, oobfree={array(c, free)}}}")


@printer("mtd_otp_mode", 4)
def _otp_mode(c: C, b: bytes) -> str:
    return f"[{_OTP.xval(struct.unpack_from('<I', b)[0], c.style)}]"


@printer("region_info_user")
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

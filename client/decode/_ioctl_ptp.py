"""ioctl: PTP hardware clocks (linux/ptp_clock.h, request type '='), both
request generations (PTP_*2 also print their reserved words when nonzero).
The largest argument, ptp_sys_offset_extended, is 1216 bytes: the fetch
plan reads that much of ioctl's third argument."""

from __future__ import annotations

import struct

from ._core import C
from ._fmt import FlagSet, hexa
from ._ioctl_util import arg_bytes as _arg, array as _array, cstring, exit_bytes, printer, rsv as _rsv
from ._time import _date

_EXTTS_FLAGS = FlagSet("ptp_extts_flags", [
    ("PTP_ENABLE_FEATURE", 1), ("PTP_RISING_EDGE", 2), ("PTP_FALLING_EDGE", 4), ("PTP_STRICT_FLAGS", 8)],
    "PTP_???", "include/uapi/linux/ptp_clock.h")
_PEROUT_FLAGS = FlagSet("ptp_perout_flags", [
    ("PTP_PEROUT_ONE_SHOT", 1), ("PTP_PEROUT_DUTY_CYCLE", 2), ("PTP_PEROUT_PHASE", 4)],
    "PTP_PEROUT_???", "include/uapi/linux/ptp_clock.h")
_PIN_FUNCS = FlagSet("ptp_pin_funcs", [
    ("PTP_PF_NONE", 0), ("PTP_PF_EXTTS", 1), ("PTP_PF_PEROUT", 2), ("PTP_PF_PHYSYNC", 3)],
    "PTP_PF_???", "include/uapi/linux/ptp_clock.h")
_MAX_SAMPLES = 25


def _time(c: C, b: bytes, off: int, dated: bool) -> str:
    """struct ptp_clock_time {s64 sec; u32 nsec; u32 reserved}: reserved
    only when nonzero; an absolute time dated in a comment (not -X raw)."""
    sec, nsec, rsv = struct.unpack_from("<qII", b, off)
    text = f"{{sec={sec}, nsec={nsec}" + (f", reserved={hexa(rsv)}}}" if rsv else "}")
    if dated and c.style != "raw":
        text += _date(sec, nsec)
    return text


@printer("ptp_clock_caps", 80)
def _caps(c: C, b: bytes) -> str:
    f = struct.unpack_from("<8i", b)
    names = ("max_adj", "n_alarm", "n_ext_ts", "n_per_out", "pps", "n_pins", "cross_timestamping", "adjust_phase")
    return "{" + ", ".join(f"{n}={v}" for n, v in zip(names, f)) + _rsv(b, 32, 12) + "}"


def _extts(c: C, b: bytes, v2: bool) -> str:
    index, flags = struct.unpack_from("<II", b)
    return (f"{{index={index}, flags={_EXTTS_FLAGS.flags(flags, c.style)}"
            + (_rsv(b, 8, 2) if v2 else "") + "}")


def _perout(c: C, b: bytes, v2: bool) -> str:
    index, flags = struct.unpack_from("<II", b, 32)
    first = f"phase={_time(c, b, 0, False)}" if flags & 4 else f"start={_time(c, b, 0, True)}"
    out = (f"{{{first}, period={_time(c, b, 16, False)}, index={index}, "
           f"flags={_PEROUT_FLAGS.flags(flags, c.style)}")
    if flags & 2:
        out += f", on={_time(c, b, 40, False)}"
    elif v2:
        out += _rsv(b, 40, 4)
    return out + "}"


def _sys_offset(c: C, extended: bool) -> str:
    """{n_samples=N[, rsv]} asked; after success the samples the clock
    wrote (2N+1 times, or N triples when extended); `???` when they cannot
    be read."""
    size = 1216 if extended else 832
    b = _arg(c, 0, size)
    if isinstance(b, str):
        return b
    n = struct.unpack_from("<I", b)[0]
    out = f"{{n_samples={n}" + _rsv(b, 4, 3)
    if not c.exiting or not c.ok:
        return out + "}"
    w = exit_bytes(c, size)
    if w is None:
        return out + ", ???}"
    k = min(n, _MAX_SAMPLES)
    if extended:
        items = ["[" + ", ".join(_time(c, w, 16 + 48 * j + 16 * t, True) for t in range(3)) + "]" for j in range(k)]
    else:
        items = [_time(c, w, 16 + 16 * j, True) for j in range(2 * k + 1)]
    return out + ", ts=" + _array(c, items) + "}"


def _pin(c: C, get: bool, v2: bool) -> str:
    b = _arg(c, 0, 96)
    if isinstance(b, str):
        return b
    index = struct.unpack_from("<I", b, 64)[0]
    out = f"{{index={index}"
    if get:
        if v2:
            out += _rsv(b, 76, 5)
        if not c.exiting or not c.ok:
            return out + "}"
        w = exit_bytes(c, 96)
        if w is None:
            return out + ", ???}"
        b = w
        out += ", name=" + cstring(b[:64])
    func, chan = struct.unpack_from("<II", b, 68)
    out += f", func={_PIN_FUNCS.xval(func, c.style)}, chan={chan}"
    if not get and v2:
        out += _rsv(b, 76, 5)
    return out + "}"


@printer("ptp_sys_offset_precise", 64)
def _precise(c: C, b: bytes) -> str:
    return (f"{{device={_time(c, b, 0, True)}, sys_realtime={_time(c, b, 16, True)}, "
            f"sys_monoraw={_time(c, b, 32, False)}" + _rsv(b, 48, 4) + "}")


# the request generations: the second ("...2") shows its reserved words
printer("ptp_extts_request", 16)(lambda c, b: _extts(c, b, False))
printer("ptp_extts_request2", 16)(lambda c, b: _extts(c, b, True))
printer("ptp_perout_request", 56)(lambda c, b: _perout(c, b, False))
printer("ptp_perout_request2", 56)(lambda c, b: _perout(c, b, True))
printer("ptp_sys_offset")(lambda c: _sys_offset(c, False))
printer("ptp_sys_offset_extended")(lambda c: _sys_offset(c, True))
printer("ptp_pin_desc_get")(lambda c: _pin(c, True, False))
printer("ptp_pin_desc_get2")(lambda c: _pin(c, True, True))
printer("ptp_pin_desc_set")(lambda c: _pin(c, False, False))
printer("ptp_pin_desc_set2")(lambda c: _pin(c, False, True))

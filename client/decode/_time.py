"""Time family: timespec/timeval/itimerspec structs, clocks, sleeps, timers."""

from __future__ import annotations

import os
import struct
import time

from ._core import C, struct as register_struct, syscall
from ._structs import field_kind
from ._fmt import comment, hexa


def _date(sec: int, nsec: int) -> str:
    """` /* 2020-01-01T00:00:00+0000 */` after an absolute time, as strace."""
    from ._stat import _time

    return _time(sec, nsec, "x")[0][len(f"x={sec}"):]


@register_struct("timespec2")
def timespec2_text(c: C, b: bytes, i: int) -> str:
    out = []
    for k in range(2):
        sec, nsec = struct.unpack_from("<qQ", b, 16 * k)
        ns = {(1 << 30) - 1: "UTIME_NOW", (1 << 30) - 2: "UTIME_OMIT"}.get(nsec)
        if ns and c.style != "abbrev":  # -X raw: the numbers; -X verbose: with the name as a comment
            raw = f"{{tv_sec={sec}, tv_nsec={nsec}}}"
            out.append(raw if c.style == "raw" else f"{raw} /* {ns} */")
            continue
        out.append(ns if ns else f"{{tv_sec={sec}, tv_nsec={nsec}}}" + _date(sec, nsec))
    return "[" + ", ".join(out) + "]"


def stamp(sec: int) -> str | None:
    """`2009-02-13T23:31:30+0000`: a time_t in local time, as strace dates it (None for 0)."""
    if not sec:
        return None
    try:
        lt = time.localtime(sec)
        return time.strftime("%Y-%m-%dT%H:%M:%S", lt) + time.strftime("%z", lt)
    except (OverflowError, OSError, ValueError):
        return None


def _time_ret(c: C) -> str:
    s = stamp(c.ret)
    return f"{c.ret} ({s})" if s else str(c.ret)


@syscall("time", ret=_time_ret)
def _time(c: C):
    v = c.m(0, 1)
    if c.ok and isinstance(v, (bytes, bytearray)) and len(v) >= 8:
        sec = struct.unpack_from("<q", v)[0]
        s = stamp(sec)
        return [f"[{sec}{comment(s) if s else ''}]"]
    return [c.ptr(0)]


@syscall("nanosleep", head=lambda c: [c.struct(0, "timespec", 0)])
def _nanosleep(c: C):
    return [c.struct(1, "timespec", 1) if c.exiting and c.is_error else c.ptr(1)]


@syscall("clock_nanosleep", head=lambda c: [c.xval(0, "clocks"), c.flags(1, "timer_flags"), c.struct(2, "timespec", 0)])
def _clock_nanosleep(c: C):
    # the remaining time of an interrupted relative sleep (an absolute one leaves it)
    return [c.struct(3, "timespec", 1) if c.exiting and c.is_error and not c.uint(1) & 1 else c.ptr(3)]


@register_struct("sigevent")
def sigevent_text(c: C, b: bytes, i: int) -> str:
    """struct sigevent as far as the kernel reads it (32 bytes: the value,
    the signal, how to notify, the thread id or function and attributes):
    the signal by name only for a notification that sends one."""
    value, signo, notify, fn, attr = struct.unpack_from("<QIiQQ", b)
    from ._core import sigtext

    p = []
    if value:
        p.append(f"sigev_value={{sival_int={struct.unpack_from('<i', b)[0]}, sival_ptr={hexa(value)}}}")
    p.append(f"sigev_signo={sigtext(signo, c.style) if notify in (0, 2, 4) else signo}")
    p.append(f"sigev_notify={c.fs('sigev_notify').xval(notify & 0xFFFFFFFF, c.style)}")
    if notify == 4:
        p.append(f"sigev_notify_thread_id={struct.unpack_from('<i', b, 16)[0]}")
    elif notify == 2:
        p += [f"sigev_notify_function={hexa(fn) if fn else 'NULL'}", f"sigev_notify_attributes={hexa(attr) if attr else 'NULL'}"]
    return "{" + ", ".join(p) + "}"


@syscall("timer_create")
def _timer_create(c: C):
    v = c.m(2, 1)
    tid = f"[{struct.unpack_from('<i', v)[0]}]" if c.ok and isinstance(v, (bytes, bytearray)) and len(v) >= 4 else c.ptr(2)
    return [c.xval(0, "clocks"), c.struct(1, "sigevent", 0), tid]


@field_kind("clock_t", 8)
def clock_t_text(c: C, v: int) -> str:
    """A clock_t in ticks, its seconds in a comment (`37 /* 0.37 s */`)."""
    import os

    if c.style == "raw":
        return str(v)
    try:
        hz = os.sysconf("SC_CLK_TCK")
    except (ValueError, OSError):
        return str(v)
    prec = 6 if hz > 100000 else 5 if hz > 10000 else 4 if hz > 1000 else 3 if hz > 100 else 2 if hz > 10 else 1 if hz > 1 else 0
    return f"{v} /* {v / hz:.{prec}f} s */"


def _date_us(sec: int, usec: int) -> str:
    """` /* 2017-04-16T13:51:18.000042+0000 */` for a valid, non-zero time (microseconds)."""
    if (not sec and not usec) or not 0 <= usec <= 999999:
        return ""
    try:
        lt = time.localtime(sec)
    except (OverflowError, OSError, ValueError):
        return ""
    frac = f".{usec:06d}" if usec else ""
    return comment(time.strftime("%Y-%m-%dT%H:%M:%S", lt) + frac + time.strftime("%z", lt))


@register_struct("timeval_pair")
def timeval_pair_text(c: C, b: bytes, i: int) -> str:
    out = []
    for k in range(2):
        sec, usec = struct.unpack_from("<qQ", b, 16 * k)
        out.append(f"{{tv_sec={sec}, tv_usec={usec}}}" + _date_us(sec, usec))
    return "[" + ", ".join(out) + "]"


@register_struct("utimbuf")
def utimbuf_text(c: C, b: bytes, i: int) -> str:
    a, m = struct.unpack_from("<qq", b)
    sa, sm = stamp(a), stamp(m)
    return (f"{{actime={a}{comment(sa) if sa else ''}, "
            f"modtime={m}{comment(sm) if sm else ''}}}")


@register_struct("timex")
def timex_text(c: C, b: bytes, i: int) -> str:
    """struct timex (x86_64's 208 bytes) as strace's print_timex: modes and
    status by name, the time as {tv_sec, tv_usec}, the rest signed."""
    modes, offset, freq, maxerror, esterror, status, constant, precision, tolerance, sec, usec, tick, ppsfreq, \
        jitter, shift, stabil, jitcnt, calcnt, errcnt, stbcnt, tai = struct.unpack_from("<Ixxxxqqqqixxxxqqqqqqqqixxxxqqqqqi", b)
    return (f"{{modes={c.fs('adjtimex_modes').flags(modes, c.style)}, offset={offset}, freq={freq}, "
            f"maxerror={maxerror}, esterror={esterror}, status={c.fs('adjtimex_status').flags(status & 0xFFFFFFFF, c.style)}, "
            f"constant={constant}, precision={precision}, tolerance={tolerance}, "
            f"time={{tv_sec={sec}, tv_usec={usec & 0xFFFFFFFFFFFFFFFF}}}, tick={tick}, ppsfreq={ppsfreq}, "
            f"jitter={jitter}, shift={shift}, stabil={stabil}, jitcnt={jitcnt}, calcnt={calcnt}, errcnt={errcnt}, "
            f"stbcnt={stbcnt}, tai={tai}}}")


def _adjtimex_ret(c: C) -> str:
    """The clock state by name (`5 (TIME_ERROR)`), when the struct was read."""
    name = c.fs("adjtimex_state").lookup(c.ret) if c.ret is not None else None
    v = c.m(c.name != "adjtimex", 1)
    return f"{c.ret} ({name})" if name and isinstance(v, (bytes, bytearray)) and len(v) >= 208 else str(c.ret)


@syscall("adjtimex", ret=_adjtimex_ret)
def _adjtimex(c: C):
    """Read at exit only, as strace does (what the call left there)."""
    return [c.struct(0, "timex", 1)]


@syscall("clock_adjtime", "clock_adjtime64", ret=_adjtimex_ret)
def _clock_adjtime(c: C):
    return [c.xval(0, "clocks"), c.struct(1, "timex", 1)]

"""ioctl: GPIO character devices (linux/gpio.h, request type 0xb4), the v1
and v2 line interfaces. A request that asks and answers (line info, line
requests, values) prints what was asked at entry and, when the call
succeeded, ` => ` and what the kernel wrote back. The largest argument,
gpio_v2_line_request, is 592 bytes."""

from __future__ import annotations

import struct

from ._core import C
from ._fmt import FlagSet, hexa
from ._ioctl_util import arg_bytes, array, cstring, exit_bytes, printer, words

_H = "include/uapi/linux/gpio.h"
_LINE_FLAGS = FlagSet("gpio_line_flags", [(f"GPIOLINE_FLAG_{n}", 1 << i) for i, n in enumerate((
    "KERNEL", "IS_OUT", "ACTIVE_LOW", "OPEN_DRAIN", "OPEN_SOURCE", "BIAS_PULL_UP", "BIAS_PULL_DOWN",
    "BIAS_DISABLE"))], "GPIOLINE_FLAG_???", _H)
_HANDLE_FLAGS = FlagSet("gpio_handle_flags", [(f"GPIOHANDLE_REQUEST_{n}", 1 << i) for i, n in enumerate((
    "INPUT", "OUTPUT", "ACTIVE_LOW", "OPEN_DRAIN", "OPEN_SOURCE", "BIAS_PULL_UP", "BIAS_PULL_DOWN",
    "BIAS_DISABLE"))], "GPIOHANDLE_REQUEST_???", _H)
_EVENT_FLAGS = FlagSet("gpio_event_flags", [
    ("GPIOEVENT_REQUEST_BOTH_EDGES", 3), ("GPIOEVENT_REQUEST_RISING_EDGE", 1),
    ("GPIOEVENT_REQUEST_FALLING_EDGE", 2)], "GPIOEVENT_REQUEST_???", _H)
_V2_FLAGS = FlagSet("gpio_v2_line_flags", [(f"GPIO_V2_LINE_FLAG_{n}", 1 << i) for i, n in enumerate((
    "USED", "ACTIVE_LOW", "INPUT", "OUTPUT", "EDGE_RISING", "EDGE_FALLING", "OPEN_DRAIN", "OPEN_SOURCE",
    "BIAS_PULL_UP", "BIAS_PULL_DOWN", "BIAS_DISABLED", "EVENT_CLOCK_REALTIME", "EVENT_CLOCK_HTE"))],
    "GPIO_V2_LINE_FLAG_???", _H)


def _uints(b: bytes, off: int, n: int, size: int = 4) -> list[str]:
    return [str(x) for x in struct.unpack_from("<" + ("I" if size == 4 else "B") * n, b, off)]


def _attr(c: C, b: bytes, off: int, field: bool) -> str:
    """struct gpio_v2_line_attribute by its id; an unknown id or a nonzero
    padding raw: `id=N, padding=0x.., data=0x..` (in `attr={...}` as a field)."""
    aid, pad, val = struct.unpack_from("<IIQ", b, off)
    if not pad:
        if aid == 1:
            return f"flags={_V2_FLAGS.flags(val, c.style)}"
        if aid == 2:
            return f"values={hexa(val)}"
        if aid == 3:
            return f"debounce_period_us={val & 0xFFFFFFFF}"
    raw = f"id={aid}" + (f", padding={hexa(pad)}" if pad else "") + f", data={hexa(val)}"
    return f"attr={{{raw}}}" if field else raw


def _config(c: C, b: bytes, off: int) -> str:
    flags, n = struct.unpack_from("<QI", b, off)
    out = f"{{flags={_V2_FLAGS.flags(flags, c.style)}, num_attrs={n}"
    pad = struct.unpack_from("<5I", b, off + 12)
    if any(pad):
        out += ", padding=[" + ", ".join(words(b, off + 12, 5)) + "]"
    if n:
        items = []
        for k in range(min(n, 10)):
            a = off + 32 + 24 * k
            mask = struct.unpack_from("<Q", b, a + 16)[0]
            items.append(f"{{{_attr(c, b, a, True)}, mask={hexa(mask)}}}")
        out += ", attrs=" + array(c, items)
    return out + "}"


def _asked(c: C, size: int, entry, exit_) -> str:
    """`ENTRY => EXIT`: what was asked, then (the call succeeded) what the
    kernel wrote, or its address when that cannot be read."""
    b = arg_bytes(c, 0, size)
    if isinstance(b, str):
        return b
    out = entry(b)
    if not c.exiting or not c.ok:
        return out
    w = exit_bytes(c, size)
    return f"{out} => {exit_(w) if w is not None else c.ptr(2)}"


@printer("gpiochip_info", 68)
def _chipinfo(c: C, b: bytes) -> str:
    return f"{{name={cstring(b[:32])}, label={cstring(b[32:64])}, lines={struct.unpack_from('<I', b, 64)[0]}}}"


@printer("gpioline_info")
def _lineinfo(c: C) -> str:
    return _asked(c, 72, lambda b: f"{{line_offset={struct.unpack_from('<I', b)[0]}}}",
                  lambda w: (f"{{flags={_LINE_FLAGS.flags(struct.unpack_from('<I', w, 4)[0], c.style)}, "
                             f"name={cstring(w[8:40])}, consumer={cstring(w[40:72])}}}"))


@printer("gpiohandle_request")
def _handle_request(c: C) -> str:
    def entry(b: bytes) -> str:
        lines = struct.unpack_from("<I", b, 356)[0]
        n = min(lines, 64)
        flags = struct.unpack_from("<I", b, 256)[0]
        return (f"{{lines={lines}, lineoffsets={array(c, _uints(b, 0, n))}, "
                f"flags={_HANDLE_FLAGS.flags(flags, c.style)}, default_values={array(c, _uints(b, 260, n, 1))}, "
                f"consumer_label={cstring(b[324:356])}}}")

    return _asked(c, 364, entry, lambda w: f"{{fd={struct.unpack_from('<i', w, 360)[0]}}}")


@printer("gpioevent_request")
def _event_request(c: C) -> str:
    def entry(b: bytes) -> str:
        off, hflags, eflags = struct.unpack_from("<III", b)
        return (f"{{lineoffset={off}, handleflags={_HANDLE_FLAGS.flags(hflags, c.style)}, "
                f"eventflags={_EVENT_FLAGS.flags(eflags, c.style)}, consumer_label={cstring(b[12:44])}}}")

    return _asked(c, 48, entry, lambda w: f"{{fd={struct.unpack_from('<i', w, 44)[0]}}}")


@printer("gpiohandle_data", 64)
def _values(c: C, b: bytes) -> str:
    return f"{{values={array(c, _uints(b, 0, 64, 1))}}}"


@printer("gpiohandle_config", 84)
def _handle_config(c: C, b: bytes) -> str:
    flags = struct.unpack_from("<I", b)[0]
    return (f"{{flags={_HANDLE_FLAGS.flags(flags, c.style)}, "
            f"default_values={array(c, _uints(b, 4, 64, 1))}}}")


@printer("gpio_v2_line_info")
def _v2_lineinfo(c: C) -> str:
    def exit_(w: bytes) -> str:
        n, flags = struct.unpack_from("<IQ", w, 68)
        out = (f"{{name={cstring(w[:32])}, consumer={cstring(w[32:64])}, "
               f"flags={_V2_FLAGS.flags(flags, c.style)}, num_attrs={n}")
        if n:
            out += ", attrs=" + array(c, [f"{{{_attr(c, w, 80 + 16 * k, False)}}}" for k in range(min(n, 10))])
        if any(struct.unpack_from("<4I", w, 240)):
            out += ", padding=[" + ", ".join(words(w, 240, 4)) + "]"
        return out + "}"

    return _asked(c, 256, lambda b: f"{{offset={struct.unpack_from('<I', b, 64)[0]}}}", exit_)


@printer("gpio_v2_line_request")
def _v2_line_request(c: C) -> str:
    def entry(b: bytes) -> str:
        n, ebs = struct.unpack_from("<II", b, 560)
        out = (f"{{num_lines={n}, offsets={array(c, _uints(b, 0, min(n, 64)))}, "
               f"consumer={cstring(b[256:288])}, config={_config(c, b, 288)}")
        if ebs:
            out += f", event_buffer_size={ebs}"
        if any(struct.unpack_from("<5I", b, 568)):
            out += ", padding=[" + ", ".join(words(b, 568, 5)) + "]"
        return out + "}"

    return _asked(c, 592, entry, lambda w: f"{{fd={struct.unpack_from('<i', w, 588)[0]}}}")


printer("gpioline_info_unwatch", 4)(lambda c, b: f"{{offset={struct.unpack_from('<I', b)[0]}}}")
printer("gpio_v2_line_config", 272)(lambda c, b: _config(c, b, 0))
printer("gpio_v2_line_values_get")(lambda c: _asked(
    c, 16, lambda b: f"{{mask={hexa(struct.unpack_from('<Q', b, 8)[0])}}}",
    lambda w: f"{{bits={hexa(struct.unpack_from('<Q', w)[0])}}}"))
printer("gpio_v2_line_values", 16)(
    lambda c, b: "{{bits={}, mask={}}}".format(*(hexa(x) for x in struct.unpack_from("<QQ", b))))

"""ioctl: input devices (linux/input.h, request type 'E'), and the request
names strace builds from a request's number and size (`EVIOCGBIT(EV_KEY,
8)`, `EVIOCGABS(ABS_X)`, `MIXER_READ(17)`, `HIDIOCGRAWNAME(8)`).

A read request prints its argument at exit (its address when the call
failed), a write request at entry; other directions print the value in hex
as strace's generic path does. Value sets: ioctls.toml's `evdev_*`,
generated from linux/input-event-codes.h by scripts/gen_ioctl_names.py."""

from __future__ import annotations

import struct

from ._core import C
from ._fmt import comment, hexa
from ._ioctl_util import arg_bytes, type_decoder

_READ, _WRITE = 2, 1


def _ioc(code: int) -> tuple[int, int, int, int]:
    """(dir, type, nr, size) of a request."""
    return code >> 30, (code >> 8) & 0xFF, code & 0xFF, (code >> 16) & 0x3FFF


def _param(c: C, setname: str, v: int) -> str:
    """An argument inside a parametrised name: by name; unknown as
    `0xe /* ABS_??? */`, bare `0xe` inside -X verbose's comment."""
    fs = c.fs(setname)
    n = fs.lookup(v)
    if n:
        return n
    return hexa(v) if c.style == "verbose" else hexa(v) + comment(fs.dflt)


# read requests named by their number with the size as the parameter
_SIZED_E = {0x06: "EVIOCGNAME", 0x07: "EVIOCGPHYS", 0x08: "EVIOCGUNIQ", 0x09: "EVIOCGPROP", 0x0A: "EVIOCGMTSLOTS",
            0x18: "EVIOCGKEY", 0x19: "EVIOCGLED", 0x1A: "EVIOCGSND", 0x1B: "EVIOCGSW"}
_SIZED_H = {0x04: "HIDIOCGRAWNAME", 0x05: "HIDIOCGRAWPHYS", 0x06: "HIDIOCGRAWUNIQ", 0x12: "HIDIOCGPHYS",
            0x13: "HIDIOCGNAME"}


def param_name(c: C, code: int) -> str | None:
    """strace's parametrised name of a request, or None (the table's names
    then follow it, joined by ` or `)."""
    d, typ, nr, size = _ioc(code)
    if typ == 0x45:  # 'E'
        if d == _WRITE and 0xC0 <= nr <= 0xFF:
            return f"EVIOCSABS({_param(c, 'evdev_abs', nr - 0xC0)})"
        if d != _READ:
            return None
        if 0x20 <= nr <= 0x3F:
            ev = "0" if nr == 0x20 else _param(c, "evdev_ev", nr - 0x20)
            return f"EVIOCGBIT({ev}, {size})"
        if 0x40 <= nr <= 0x7F:
            return f"EVIOCGABS({_param(c, 'evdev_abs', nr - 0x40)})"
        n = _SIZED_E.get(nr)
        return f"{n}({size})" if n else None
    if typ == 0x48:  # 'H': hiddev and hidraw
        if d == _READ and nr in _SIZED_H:
            return f"{_SIZED_H[nr]}({size})"
        if d == 3 and nr in (0x06, 0x07):
            return f"{'HIDIOCSFEATURE' if nr == 6 else 'HIDIOCGFEATURE'}({size})"
        return None
    if typ == 0x4D:  # 'M': sound mixers
        if d == _WRITE:
            return f"MIXER_WRITE({nr})"
        if d == _READ:
            return f"MIXER_READ({nr})"
        return None
    if typ == 0x55 and d == _READ and nr == 0x2C:
        return f"UI_GET_SYSNAME({size})"
    if typ == 0x6A and d == _READ and nr == 0x13:
        return f"JSIOCGNAME({size})"
    if typ == 0x6B and d == _WRITE and nr == 0:
        return f"SPI_IOC_MESSAGE({size})"
    return None


def _mem(c: C, phase: int, size: int) -> bytes | None:
    v = c.m(2, phase)
    if not isinstance(v, (bytes, bytearray)) or len(v) < size:
        return None
    return bytes(v)


def _ints(c: C, phase: int, fmt, count: int) -> str:
    """`count` ints in brackets, each printed by `fmt` (str, hexa, or the
    signed value for "d")."""
    b = arg_bytes(c, phase, 4 * count)
    if isinstance(b, str):
        return b
    vals = struct.unpack_from(("<" + "i" * count) if fmt == "d" else ("<" + "I" * count), b)
    return "[" + ", ".join(str(x) if fmt == "d" else fmt(x) for x in vals) + "]"


def _keycode(c: C, phase: int) -> str:
    b = arg_bytes(c, phase, 8)
    if isinstance(b, str):
        return b
    scan, key = struct.unpack_from("<II", b)
    return f"[{scan}, {c.fs('evdev_keycode').xval(key, c.style)}]"


def _keycode_v2(c: C, phase: int) -> str:
    b = arg_bytes(c, phase, 40)
    if isinstance(b, str):
        return b
    flags, length, index, key = struct.unpack_from("<BBHI", b)
    if c.abbrev:
        return f"{{flags={flags}, len={length}, ...}}"
    scan = ", ".join(hexa(x) for x in b[8:40])
    return (f"{{flags={flags}, len={length}, index={index}, "
            f"keycode={c.fs('evdev_keycode').xval(key, c.style)}, scancode=[{scan}]}}")


def _absinfo(c: C, phase: int, sz: int) -> str:
    """struct input_absinfo, of the size the request names: the address
    when it is shorter than the original 20 bytes, `...` past the 24."""
    if sz < 20:
        return c.ptr(2)
    b = arg_bytes(c, phase, min(sz, 24))
    if isinstance(b, str):
        return b
    f = struct.unpack_from("<" + "I" * (len(b[:24]) // 4), b)  # printed unsigned, as strace does
    head = f"{{value={f[0]}, minimum={f[1]}"
    if c.abbrev:
        return head + ", ...}"
    out = head + f", maximum={f[2]}, fuzz={f[3]}, flat={f[4]}"
    if sz > 20:
        if sz >= 24:
            out += f", resolution={f[5]}"
        if sz != 24:
            out += ", ..."
    return out + "}"


def _id(c: C) -> str:
    b = arg_bytes(c, 1, 8)
    if isinstance(b, str):
        return b
    bus, vendor, product, version = struct.unpack_from("<HHHH", b)
    return f"{{bustype={bus}, vendor={vendor}, product={product}, version={version}}}"


# EVIOCGBIT's event type -> (value set, highest number)
_BIT_SETS = {0: ("evdev_ev", 0x1F), 1: ("evdev_keycode", 0x2FF), 2: ("evdev_relative_axes", 0x0F),
             3: ("evdev_abs", 0x3F), 4: ("evdev_misc", 0x07), 5: ("evdev_switch", 0x10), 0x11: ("evdev_leds", 0x0F),
             0x12: ("evdev_snd", 0x07), 0x14: ("evdev_autorepeat", 0x01), 0x15: ("evdev_ff_types", 0x7F),
             0x17: ("evdev_ff_status", 0x01)}
_SIZED_BITS = {0x09: ("evdev_prop", 0x1F), 0x1A: ("evdev_snd", 0x07), 0x1B: ("evdev_switch", 0x10),
               0x18: ("evdev_keycode", 0x2FF), 0x19: ("evdev_leds", 0x0F)}


def _bitset(c: C, setname: str, max_nr: int) -> str:
    """A bit set the call filled, as many bytes as it returned (at most the
    set's size), rounded up to whole words: `[KEY_1 KEY_2]`, at most four
    names unless -v; -X raw the words, -X verbose both."""
    ret = c.rval
    bits = max_nr if ret > max_nr // 8 else ret * 8
    word = 8 if c.pers == 0 else 4
    size = -(-(-(-bits // 8)) // word) * word
    if c.ulong(2) == 0:
        return "NULL"
    if not c.ok or not size:
        return c.ptr(2)
    b = _mem(c, 1, size)
    if b is None:
        return c.ptr(2)
    out = ""
    if c.style != "raw":
        fs = c.fs(setname)
        names, shown = [], 0
        for i in range(bits):
            if b[i >> 3] >> (i & 7) & 1:
                if names and c.abbrev and shown >= 3:
                    names.append("...")
                    break
                if names:
                    shown += 1
                names.append(fs.xval(i, c.style))
        out = "[" + " ".join(names) + "]"
    if c.style == "abbrev":
        return out
    words = struct.unpack_from("<" + ("Q" if word == 8 else "I") * (size // word), b)
    arr = "[" + ", ".join(hexa(w) for w in words) + "]"
    return arr if c.style == "raw" else out + comment(arr)


def _mtslots(c: C, size: int) -> str:
    n = size // 4
    if not n:
        return c.ptr(2)
    b = arg_bytes(c, 1, 4)
    if isinstance(b, str):
        return b
    code = struct.unpack_from("<I", b)[0]
    addr = c.ulong(2) + 4
    vals, count = [], n - 1
    for k in range(count):
        if c.abbrev and k >= c.opts.strsize:
            vals.append("...")
            break
        off = 4 + 4 * k
        if len(b) < off + 4:
            b = _mem(c, 1, off + 4) or b
        if len(b) < off + 4:
            vals.append(f"... /* {hexa(addr + 4 * k)} */" if k else "")
            break
        vals.append(str(struct.unpack_from("<i", b, off)[0]))
    values = hexa(addr) if vals == [""] else "[" + ", ".join(vals) + "]"
    return f"{{code={c.fs('evdev_mtslots').xval(code, c.style)}, values={values}}}"


def _envelope(b: bytes, off: int) -> str:
    al, alev, fl, flev = struct.unpack_from("<HHHH", b, off)
    return f"envelope={{attack_length={al}, attack_level={alev}, fade_length={fl}, fade_level={hexa(flev)}}}"


def _ff_effect(c: C) -> str:
    b = arg_bytes(c, 0, 48)
    if isinstance(b, str):
        return b
    typ, fid, direction, button, interval, length, delay = struct.unpack_from("<HhHHHHH", b)
    head = f"{{type={c.fs('evdev_ff_types').xval(typ, c.style)}, id={fid}, direction={direction}, "
    if c.abbrev:
        return head + "...}"
    out = head + f"trigger={{button={button}, interval={interval}}}, replay={{length={length}, delay={delay}}}"
    u = 16
    if typ == 0x52:  # FF_CONSTANT
        level = struct.unpack_from("<h", b, u)[0]
        out += f", constant={{level={level}, {_envelope(b, u + 2)}}}"
    elif typ == 0x57:  # FF_RAMP
        start, end = struct.unpack_from("<hh", b, u)
        out += f", ramp={{start_level={start}, end_level={end}, {_envelope(b, u + 4)}}}"
    elif typ == 0x51:  # FF_PERIODIC
        wave, period, mag, offset, phase = struct.unpack_from("<HHhhH", b, u)
        clen, cdata = struct.unpack_from("<IQ", b, u + 20)
        out += (f", periodic={{waveform={wave}, period={period}, magnitude={mag}, offset={offset}, "
                f"phase={phase}, {_envelope(b, u + 10)}, custom_len={clen}, "
                f"custom_data={hexa(cdata) if cdata else 'NULL'}}}")
    elif typ == 0x50:  # FF_RUMBLE
        strong, weak = struct.unpack_from("<HH", b, u)
        out += f", rumble={{strong_magnitude={strong}, weak_magnitude={weak}}}"
    return out + "}"


# fixed requests: code -> printer of the argument (read at exit, written at entry)
_READS = {
    0x80044501: lambda c: _ints(c, 1, hexa, 1),  # EVIOCGVERSION
    0x80044584: lambda c: _ints(c, 1, str, 1),  # EVIOCGEFFECTS
    0x80084502: _id,  # EVIOCGID
    0x80084503: lambda c: _ints(c, 1, str, 2),  # EVIOCGREP
    0x80084504: lambda c: _keycode(c, 1),  # EVIOCGKEYCODE
    0x80284504: lambda c: _keycode_v2(c, 1),  # EVIOCGKEYCODE_V2
}
_WRITES = {
    0x40084503: lambda c: _ints(c, 0, str, 2),  # EVIOCSREP
    0x40084504: lambda c: _keycode(c, 0),  # EVIOCSKEYCODE
    0x40284504: lambda c: _keycode_v2(c, 0),  # EVIOCSKEYCODE_V2
    0x40044581: lambda c: c.d(2),  # EVIOCRMFF: the effect id, an int value
    0x40044590: lambda c: str(c.ulong(2)),  # EVIOCGRAB: a value
    0x40044591: lambda c: str(c.ulong(2)),  # EVIOCREVOKE
    0x400445A0: lambda c: _ints(c, 0, str, 1),  # EVIOCSCLOCKID
}


def _read(c: C, code: int) -> str:
    fn = _READS.get(code)
    if fn is not None:
        return fn(c)
    _d, _t, nr, size = _ioc(code)
    if nr == 0x0A:
        return _mtslots(c, size)
    if nr in (0x06, 0x07, 0x08):  # NAME, PHYS, UNIQ: the string the call wrote
        return c.outbuf(2)
    if nr in _SIZED_BITS:
        return _bitset(c, *_SIZED_BITS[nr])
    if 0x40 <= nr <= 0x7F:
        return _absinfo(c, 1, size)
    if 0x20 <= nr <= 0x3F:
        ev = nr - 0x20
        if ev == 0x16:  # EV_PWR
            return _ints(c, 1, "d", 1)
        if ev in _BIT_SETS:
            return _bitset(c, *_BIT_SETS[ev])
    return c.ptr(2)


def _write(c: C, code: int) -> str:
    fn = _WRITES.get(code)
    if fn is not None:
        return fn(c)
    if code == 0x40304580 and c.pers == 0:  # EVIOCSFF (x86_64's struct ff_effect)
        return _ff_effect(c)
    _d, _t, nr, size = _ioc(code)
    if 0xC0 <= nr <= 0xFF:
        return _absinfo(c, 0, size)
    return c.ptr(2)


@type_decoder("evdev")
def decode(c: C, code: int, name: str | None = None) -> list[str] | None:
    """The third argument of an input device request (an empty list at the
    entry of a read request: printed at exit), or None when strace prints
    it as a plain value."""
    d = code >> 30
    if d == _READ:
        return [_read(c, code)] if c.exiting else []
    if d == _WRITE:
        return [_write(c, code)]
    return None

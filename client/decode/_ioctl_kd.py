"""ioctl: the Linux console's keyboard and display requests (linux/kd.h,
linux/keyboard.h, request type 'K'): modes, LEDs, tones, key table
entries, function key strings, accent tables. Which request takes which
printer is in ioctls.toml's [ioctl_args]; the font and screen map
requests are in _ioctl_kdfont.py."""

from __future__ import annotations

import struct

from ._core import C, sigtext
from ._fmt import FlagSet, comment, hexa, quote
from ._ioctl_util import arg_read, elems, exit_bytes, printer

_H = "include/uapi/linux/kd.h"
_PIT_HZ = 1193182  # the PC speaker's timer clock, the requests' divisor base

_SETS = {fs.name: fs for fs in (
    FlagSet("kd_modes", [("KD_TEXT", 0), ("KD_GRAPHICS", 1), ("KD_TEXT0", 2), ("KD_TEXT1", 3)], "KD_???", _H),
    FlagSet("kd_leds", [("LED_SCR", 1), ("LED_NUM", 2), ("LED_CAP", 4)], "LED_???", _H),
    FlagSet("kd_kbd_leds", [("LED_SCR", 1), ("LED_NUM", 2), ("LED_CAP", 4), ("LED_SCR<<4", 0x10),
                            ("LED_NUM<<4", 0x20), ("LED_CAP<<4", 0x40)], "LED_???", _H),
    FlagSet("kd_kbd_types", [("KB_84", 1), ("KB_101", 2), ("KB_OTHER", 3)], "KB_???", _H),
    FlagSet("kd_kbd_modes", [("K_RAW", 0), ("K_XLATE", 1), ("K_MEDIUMRAW", 2), ("K_UNICODE", 3), ("K_OFF", 4)],
            "K_???", _H),
    FlagSet("kd_meta", [("K_METABIT", 3), ("K_ESCPREFIX", 4)], "K_???", _H),
)}
_TABLES = FlagSet("kd_key_tables", [("K_NORMTAB", 0), ("K_SHIFTTAB", 1), ("K_ALTTAB", 2), ("K_ALTSHIFTTAB", 3)])
_SHIFTS = FlagSet("kd_key_shifts", [("1<<KG_SHIFT", 1), ("1<<KG_ALTGR", 2), ("1<<KG_CTRL", 4), ("1<<KG_ALT", 8),
                                    ("1<<KG_SHIFTL", 16), ("1<<KG_SHIFTR", 32), ("1<<KG_CTRLL", 64),
                                    ("1<<KG_CTRLR", 128)])

# keysym names (linux/keyboard.h), by type: a list from value 0
_SHIFT_NAMES = ["SHIFT", "ALTGR", "CTRL", "ALT", "SHIFTL", "SHIFTR", "CTRLL", "CTRLR", "CAPSSHIFT"]
_FN = ([f"F{i}" for i in range(1, 21)] + "FIND INSERT REMOVE SELECT PGUP PGDN MACRO HELP DO PAUSE".split()
       + [f"F{i}" for i in range(21, 246)] + ["UNDO"])
_KEYSYMS = {
    1: _FN,
    2: ("HOLE ENTER SH_REGS SH_MEM SH_STAT BREAK CONS CAPS NUM HOLD SCROLLFORW SCROLLBACK BOOT CAPSON "
        "COMPOSE SAK DECRCONSOLE INCRCONSOLE SPAWNCONSOLE BARENUMLOCK").split() + [None] * 106
    + ["ALLOCATED", "NOSUCHMAP"],
    3: [f"P{i}" for i in range(10)] + "PPLUS PMINUS PSTAR PSLASH PENTER PCOMMA PDOT PPLUSMINUS PPARENL PPARENR".split(),
    4: ("DGRAVE DACUTE DCIRCM DTILDE DDIERE DCEDIL DMACRON DBREVE DABDOT DABRING DDBACUTE DCARON DOGONEK DIOTA "
        "DVOICED DSEMVOICED DBEDOT DHOOK DHORN DSTROKE DABCOMMA DABREVCOMMA DDBGRAVE DINVBREVE DBECOMMA "
        "DCURRENCY DGREEK").split(),
    6: ["DOWN", "LEFT", "RIGHT", "UP"],
    7: _SHIFT_NAMES,
    9: [f"ASC{i}" for i in range(10)] + [f"HEX{i}" for i in "0123456789abcdef"],
    10: [n + "LOCK" for n in _SHIFT_NAMES],
    12: [n + "_SLOCK" for n in _SHIFT_NAMES],
    14: ["BRL_BLANK"] + [f"BRL_DOT{i}" for i in range(1, 11)],
}
_KT = ["KT_LATIN", "KT_FN", "KT_SPEC", "KT_PAD", "KT_DEAD", "KT_CONS", "KT_CUR", "KT_SHIFT", "KT_META",
       "KT_ASCII", "KT_LOCK", "KT_LETTER", "KT_SLOCK", "KT_DEAD2", "KT_BRL"]
_CHAR_TYPES = {0, 8, 11, 13}  # a character value: K(KT_LATIN, 'a')


def char(v: int) -> str:
    """A character in single quotes: printable as is, else `\\xNN`."""
    if v == 0x27 or v == 0x5C:
        return "'\\" + chr(v) + "'"
    if 0x20 <= v < 0x7F:
        return f"'{chr(v)}'"
    return {0x09: "'\\t'", 0x0A: "'\\n'", 0x0B: "'\\v'", 0x0C: "'\\f'", 0x0D: "'\\r'"}.get(v, f"'\\x{v:02x}'")


def keysym(v: int) -> str:
    """A key table value: its name or K(TYPE, value), in a comment."""
    typ, val = v >> 8, v & 0xFF
    names = _KEYSYMS.get(typ)
    if names and val < len(names) and names[val]:
        return "K_" + names[val]
    t = _KT[typ] if typ < len(_KT) else hexa(typ)
    return f"K({t}, {char(val) if typ in _CHAR_TYPES else hexa(val)})"


def _with(c: C, raw: str, text: str) -> str:
    return raw if c.style == "raw" else raw + comment(text)


def _sound(c: C) -> list:
    v = c.ulong(2)
    hz = _PIT_HZ // v if v else 0
    return _with(c, str(v), f"{hz} Hz" if hz else "off")


def _tone(c: C) -> list:
    v = c.ulong(2) & 0xFFFFFFFF
    ms, div = v >> 16, v & 0xFFFF
    raw = f"{ms}<<16|{div}" if ms else str(div)
    return _with(c, raw, f"{_PIT_HZ // div} Hz, {ms} ms" if ms and div else "off")


def _io_port(c: C) -> list:
    v = c.ulong(2)
    return _with(c, hexa(v), f"GPFIRST + {v - 0x3B4}") if 0x3B4 <= v <= 0x3DF else hexa(v)


def _sig(c: C) -> list:
    v = c.ulong(2)
    return sigtext(v, c.style) if 0 < v <= 64 else str(v)


for _name, _fn in (("kd_sound", _sound), ("kd_tone", _tone), ("kd_io_port", _io_port), ("kd_signal", _sig)):
    printer(_name)(_fn)


_OUT = {"kd_out_led": ("<B", "kd_leds", True), "kd_out_kbd_led": ("<B", "kd_kbd_leds", True),
        "kd_out_kbd_type": ("<B", "kd_kbd_types", False), "kd_out_mode": ("<I", "kd_modes", False),
        "kd_out_kbd_mode": ("<i", "kd_kbd_modes", False), "kd_out_meta": ("<I", "kd_meta", False)}


def _out_num(fmt: str, setname: str, bits: bool):
    """A number the call writes: `[NAME]` when it succeeded."""
    def show(c: C) -> str:
        b = arg_read(c, 1, struct.calcsize(fmt))
        if isinstance(b, str):
            return b
        v = struct.unpack_from(fmt, b)[0]
        fs = _SETS[setname]
        if bits:
            return f"[{fs.flags(v, c.style)}]"
        return f"[{fs.xval(v, c.style, 'd' if fmt == '<i' else 'x')}]"
    return show


for _name, (_f, _s, _b) in _OUT.items():
    printer(_name)(_out_num(_f, _s, _b))
printer("kd_kbd_mode")(lambda c: _SETS["kd_kbd_modes"].xval(c.int(2), c.style, "d"))
printer("kd_mode")(lambda c: _SETS["kd_modes"].xval(c.uint(2), c.style))
printer("kd_meta")(lambda c: _SETS["kd_meta"].xval(c.uint(2), c.style))
printer("kd_led")(lambda c: _SETS["kd_leds"].flags(c.ulong(2) & 0xFF, c.style))
printer("kd_kbd_led")(lambda c: _SETS["kd_kbd_leds"].flags(c.ulong(2) & 0xFF, c.style))


@printer("kbentry")
def _entry(c: C) -> str:
    """struct kbentry: the table and index asked, the value set (KDSKBENT)
    or read back (KDGKBENT, when it succeeded); ??? when unreadable."""
    b = arg_read(c, 0, 2)
    if isinstance(b, str):
        return b
    tbl = _TABLES.lookup(b[0]) if b[0] < 4 else None
    tbl = (hexa(b[0]) + comment(tbl) if c.style == "verbose" else tbl) if tbl else _SHIFTS.flags(b[0], c.style)
    if c.style == "raw":
        tbl = hexa(b[0]) if b[0] else "0"
    head = f"{{kb_table={tbl}, kb_index={b[1]}"
    setting = (c.a(1) & 0xFF) == 0x47
    if not setting and not (c.exiting and c.ok):
        return head + "}"
    w = arg_read(c, 0 if setting else 1, 4)
    if isinstance(w, str) or len(w) < 4:
        return head + ", kb_value=???}"
    v = struct.unpack_from("<H", w, 2)[0]
    return head + f", kb_value={_with(c, hexa(v), keysym(v))}}}"


def _kb_func(c: C, v: int) -> str:
    name = "KVAL(K_" + _FN[v] + ")"
    return hexa(v) if c.style == "raw" else (hexa(v) + comment(name) if c.style == "verbose" else name)


@printer("kbsentry")
def _sentry(c: C) -> str:
    """struct kbsentry: the function key, and its string (set, or read
    back when the call succeeded); ??? when the string cannot be read."""
    b = arg_read(c, 0, 1)
    if isinstance(b, str):
        return b
    head = "{kb_func=" + _kb_func(c, b[0])
    setting = (c.a(1) & 0xFF) == 0x49
    if not setting and not (c.exiting and c.ok):
        return head + "}"
    s = arg_read(c, 0 if setting else 1, 1)
    s = b"" if isinstance(s, str) else s[1:513]
    limit = min(c.opts.strsize, 512)  # strace reads this many, a NUL ends the string
    nul = s.find(0, 0, limit)
    if nul >= 0:
        text = quote(s[:nul], c.opts.xflag)
    elif len(s) < limit:
        text = "???"
    else:
        text = quote(s[:limit], c.opts.xflag) + "..."
    return head + ", kb_string=" + text + "}"


def _elems(c: C, b: bytes, off: int, count: int, size: int, fn) -> str:
    """count elements of `size` bytes from off of the argument (print_array)."""
    return elems(c, bytes(b[off:]), c.ulong(2) + off, count, size, fn)[0] if count else "[]"


def _diacrs(field: str, size: int, fn):
    def show(c: C) -> str:
        setting = (c.a(1) & 0xFF) in (0x4B, 0xFB)
        if not setting and not c.exiting:
            return ""
        b = arg_read(c, 0 if setting else 1, 4)
        if isinstance(b, str):
            return b
        cnt = struct.unpack_from("<I", b)[0]
        items = _elems(c, b, 4, min(cnt, 256), size, fn)
        if cnt > 256 and not items.endswith("...]") and not items.endswith("*/]"):
            items = items[:-1] + ", ...]"  # the table holds 256
        return f"{{kb_cnt={cnt}, {field}={items}}}"
    return show


printer("kbdiacrs")(_diacrs("kbdiacr", 3, lambda b, o: "{{diacr={}, base={}, result={}}}".format(
    *(char(x) for x in b[o:o + 3]))))
printer("kbdiacrsuc")(_diacrs("kbdiacruc", 12, lambda b, o: "{{diacr={}, base={}, result={}}}".format(
    *(hexa(x) for x in struct.unpack_from("<3I", b, o)))))


def _pair(fmt: str, names: tuple[str, str], back: str | None):
    """A struct of two ints, and what the call wrote back when it succeeded
    (KDGETKEYCODE: its keycode; KDKBDREP: the whole)."""
    def show(c: C) -> str:
        b = arg_read(c, 0, 8)
        if isinstance(b, str):
            return b
        one = lambda w: f"{{{names[0]}={fmt(w[0])}, {names[1]}={fmt(w[1])}"
        v = struct.unpack_from("<II" if fmt is hexa else "<ii", b)
        w = exit_bytes(c, 8) if c.exiting and c.ok else None
        if w is not None:
            w = struct.unpack_from("<II" if fmt is hexa else "<ii", w)
        if back == "keycode":
            return one(v) + (f" => {hexa(w[1])}" if w is not None else "") + "}"
        return one(v) + "}" + (" => " + one(w) + "}" if back and w is not None else "")
    return show


printer("kbkeycode_get")(_pair(hexa, ("scancode", "keycode"), "keycode"))
printer("kbkeycode_set")(_pair(hexa, ("scancode", "keycode"), None))
printer("kbd_repeat")(_pair(str, ("delay", "period"), "all"))

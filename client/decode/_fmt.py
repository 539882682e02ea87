"""Low-level text formatting shared by every decoder: strings, numbers, flag
sets, errno. Written by hand because strace's exact quoting (shortest octal
escapes, -x/-xx hex, `"..."...` truncation) is what no library reproduces."""

from __future__ import annotations

import errno as _errno
import os
import re

_ESC = {0x22: '\\"', 0x5C: "\\\\", 0x09: "\\t", 0x0A: "\\n", 0x0B: "\\v", 0x0C: "\\f", 0x0D: "\\r"}


def _needs_hex(data: bytes) -> bool:
    # -x: the whole string goes hex when one byte is neither printable nor a
    # C whitespace escape.
    for c in data:
        if c > 0x7E or (c < 0x20 and not 9 <= c <= 13):
            return True
    return False


_PLAIN = re.compile(rb"[\x20\x21\x23-\x5b\x5d-\x7e]*")
# each byte's escape when no octal digit follows it
_SHORT = [_ESC.get(c) or (chr(c) if 0x20 <= c < 0x7F else f"\\{c:o}") for c in range(256)]
_HEXES = [f"\\x{c:02x}" for c in range(256)]
# --strings-in-hex=non-ascii-chars (xflag 3): the bytes that need an escape
# other than a C one print as \xNN, the rest as without it
_SHORT_HEX = [_ESC.get(c) or (chr(c) if 0x20 <= c < 0x7F else _HEXES[c]) for c in range(256)]


# A byte whose short escape is octal (not printable, not a C escape) takes
# the 3-digit form when an octal digit follows it, which translate cannot
# decide alone. This table maps such bytes to 1, octal digits to "0" and the
# rest to "a", so b"\x010" in data.translate(_KINDS) finds that case.
_ESC_CHARS = sorted(((chr(c), e) for c, e in _ESC.items()), key=lambda p: p[0] != "\\")
_KINDS = bytes(1 if (c < 0x20 and c not in _ESC) or c >= 0x7F else 0x30 if 0x30 <= c <= 0x37 else 0x61 for c in range(256))


def quote(data: bytes, xflag: int = 0, force_hex: bool = False) -> str:
    """`data` as strace quotes it, with the double quotes."""
    if force_hex or xflag == 2 or (xflag == 1 and _needs_hex(data)):
        return '"' + "".join([_HEXES[c] for c in data]) + '"'
    if xflag == 3:
        return '"' + data.decode("latin-1").translate(_SHORT_HEX) + '"'
    if _PLAIN.fullmatch(data):
        return '"' + data.decode("ascii") + '"'
    kinds = data.translate(_KINDS)
    if b"\x01" not in kinds:  # printable ASCII and C escapes (\n, \"...) only
        text = data.decode("ascii")
        for ch, esc in _ESC_CHARS:  # the backslash first
            text = text.replace(ch, esc)
        return '"' + text + '"'
    if b"\x010" not in kinds:  # every byte takes its short escape
        return '"' + data.decode("latin-1").translate(_SHORT) + '"'
    out = []
    n = len(data)
    for i, c in enumerate(data):
        if (c < 0x20 or c >= 0x7F) and c not in _ESC and i + 1 < n and 0x30 <= data[i + 1] <= 0x37:
            out.append(f"\\{c:03o}")
        else:
            out.append(_SHORT[c])
    return '"' + "".join(out) + '"'


# Quoted texts of recent strings and buffers: pure functions of their
# arguments, and a trace repeats the same paths (ld.so.cache, libc) and the
# same file heads (ELF headers) in every process it starts.
_QUOTED: dict = {}
_QUOTED_MAX = 4096
_MEMO_BYTES = 512  # longer values are quoted afresh (hashing them costs too)


def quote_cstr(value: bytes, limit: int, xflag: int = 0) -> str:
    """A fetched C string (CSTR value: the NUL included when it was found)."""
    if len(value) > _MEMO_BYTES or type(value) is not bytes:
        return _quote_cstr(value, limit, xflag)
    key = (value, limit, xflag)
    text = _QUOTED.get(key)
    if text is None:
        text = _quote_cstr(value, limit, xflag)
        if len(_QUOTED) >= _QUOTED_MAX:
            _QUOTED.clear()
        _QUOTED[key] = text
    return text


def _quote_cstr(value: bytes, limit: int, xflag: int) -> str:
    if value.endswith(b"\0"):
        s = value[:-1]
        if len(s) > limit:
            return quote(s[:limit], xflag) + "..."
        return quote(s, xflag)
    # no NUL within what was read: the string goes on
    return quote(value[:limit], xflag) + "..."


def quote_buf(value: bytes, length: int, limit: int, xflag: int = 0, force_hex: bool = False) -> str:
    """A buffer of `length` bytes of which `value` was fetched."""
    if len(value) > _MEMO_BYTES or type(value) is not bytes:
        return _quote_buf(value, length, limit, xflag, force_hex)
    key = (value, length, limit, xflag, force_hex)
    text = _QUOTED.get(key)
    if text is None:
        text = _quote_buf(value, length, limit, xflag, force_hex)
        if len(_QUOTED) >= _QUOTED_MAX:
            _QUOTED.clear()
        _QUOTED[key] = text
    return text


def _quote_buf(value: bytes, length: int, limit: int, xflag: int, force_hex: bool) -> str:
    shown = value[: min(length, limit)]
    more = length > len(shown)
    return quote(shown, xflag, force_hex) + ("..." if more else "")


def hexa(v: int) -> str:
    return f"{v:#x}" if v else "0"


def ptr(v: int) -> str:
    return "NULL" if v == 0 else f"{v:#x}"


def s64(v: int) -> int:
    v &= 0xFFFFFFFFFFFFFFFF
    return v - (1 << 64) if v >> 63 else v


def s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


def u32(v: int) -> int:
    return v & 0xFFFFFFFF


def comment(s: str) -> str:
    return f" /* {s} */"


class FlagSet:
    """An ordered flag or value set: (name, value) pairs in strace's order."""

    __slots__ = ("name", "items", "by_value", "dflt", "header", "_memo", "field")

    def __init__(self, name: str, items, dflt: str | None = None, header: str = "", field=None):
        self.name = name
        # (mask, FlagSet, rest_comment): a value field printed first, by name, then the bits
        # (open's access mode: `O_RDONLY|O_CLOEXEC`, `O_RDONLY` for 0)
        self.field = field
        self.items = [(n, int(v)) for n, v in items]
        self.by_value = {}
        for n, v in self.items:
            self.by_value.setdefault(v, n)
        # dflt "": unknown bits print bare (memfd_secret's `0xde97face`)
        self.dflt = dflt if dflt is not None else (self.items[0][0].split("_")[0] + "_???" if self.items else "???")
        self.header = header
        self._memo: dict[int, str] = {}  # value -> _flags text (the same few values recur)

    def flags(self, v: int, style: str = "abbrev") -> str:
        """Bit flags as strace's printflags: `A|B|0x40`, `0x80000000 /* X_??? */`."""
        if style == "abbrev":
            text = self._memo.get(v)
            if text is not None:
                return text
        if style == "raw":
            return hexa(v)
        text = self._flags(v)
        if style == "verbose":
            if text.startswith("0x") or text == hexa(v):
                return text  # nothing known: already `0x... /* X_??? */`
            return hexa(v) + comment(text)
        return text

    def _flags(self, v: int) -> str:
        text = self._memo.get(v)
        if text is None:
            text = self._flags_of(v)
            if len(self._memo) >= 512:
                self._memo.clear()
            self._memo[v] = text
        return text

    def _flags_of(self, v: int) -> str:
        if self.field is not None:
            mask, fs, rest_comment = self.field
            head = fs.lookup(v & mask) or (hexa(v & mask) + comment(fs.dflt) if fs.dflt else hexa(v & mask))
            rest = v & ~mask
            if not rest:
                return head
            r = self._bits(rest)
            return head + "|" + (r.split(" ")[0] if " /* " in r and not rest_comment else r)
        return self._bits(v)

    def _bits(self, v: int) -> str:
        if v == 0:
            z = self.by_value.get(0)
            return z if z else "0"
        parts = []
        left = v
        for n, bit in self.items:
            if bit and (left & bit) == bit:
                parts.append(n)
                left &= ~bit
        if parts:
            if left:
                parts.append(f"{left:#x}")
            return "|".join(parts)
        return f"{v:#x}" + comment(self.dflt) if self.dflt else f"{v:#x}"

    def lookup(self, v: int) -> str | None:
        return self.by_value.get(v)

    def xval(self, v: int, style: str = "abbrev", fmt: str = "x") -> str:
        """One value as strace's printxval: the name, or `0x7 /* SEEK_??? */`."""
        raw = (f"{v:#x}" if v else "0") if fmt == "x" else str(v)
        if style == "raw":
            return raw
        n = self.by_value.get(v)
        if style == "verbose":
            return raw + comment(n) if n else (raw + comment(self.dflt) if self.dflt else raw)
        return n if n else (raw + comment(self.dflt) if self.dflt else raw)


# kernel-internal codes (include/linux/errno.h) that strace names; the first
# four are printed as `= ? NAME (text)` because the call will be restarted.
KERNEL_ERRNO = {
    512: ("ERESTARTSYS", "To be restarted if SA_RESTART is set"),
    513: ("ERESTARTNOINTR", "To be restarted"),
    514: ("ERESTARTNOHAND", "To be restarted if no handler"),
    515: ("ENOIOCTLCMD", None),
    516: ("ERESTART_RESTARTBLOCK", "Interrupted by signal"),
    517: ("EPROBE_DEFER", None),
    518: ("EOPENSTALE", None),
    519: ("ENOPARAM", None),
    521: ("EBADHANDLE", None),
    522: ("ENOTSYNC", None),
    523: ("EBADCOOKIE", None),
    524: ("ENOTSUPP", None),
    525: ("ETOOSMALL", None),
    526: ("ESERVERFAULT", None),
    527: ("EBADTYPE", None),
    528: ("EJUKEBOX", None),
    529: ("EIOCBQUEUED", None),
    530: ("ERECALLCONFLICT", None),
}

# where errno.errorcode's alias choice differs from strace's name
_ERRNO_NAME = {_errno.EAGAIN: "EAGAIN", _errno.EDEADLK: "EDEADLK", _errno.EOPNOTSUPP: "EOPNOTSUPP"}


def errno_name(e: int) -> str:
    if e in _ERRNO_NAME:
        return _ERRNO_NAME[e]
    if e in KERNEL_ERRNO:
        return KERNEL_ERRNO[e][0]
    return _errno.errorcode.get(e, f"errno {e}")


def error_text(e: int) -> str:
    """The part after `= `: `-1 ENOENT (No such file or directory)`."""
    if 512 <= e <= 516 and KERNEL_ERRNO[e][1] and e != 515:
        name, text = KERNEL_ERRNO[e]
        return f"? {name} ({text})"
    name = errno_name(e)
    if e not in _errno.errorcode and e not in KERNEL_ERRNO:
        return f"-1 {e} ({os.strerror(e)})"
    return f"-1 {name} ({os.strerror(e)})"


_ERROR_TEXTS: dict[int, str] = {}


def error_text_memo(e: int) -> str:
    """error_text, remembered (a trace repeats the same few errors)."""
    text = _ERROR_TEXTS.get(e)
    if text is None:
        text = error_text(e)
        if len(_ERROR_TEXTS) < 4096:
            _ERROR_TEXTS[e] = text
    return text


# -e inject=/fault=: what strace appends after the return value of a call it
# tampered with (SysFlag bits of the record)
_INJECTED, _POKED, _DELAYED = 0x8, 0x10, 0x20


def tamper_marks(flags: int) -> str:
    """` (INJECTED)`, ` (INJECTED: args)`, ` (INJECTED: args, retval)`, then
    ` (DELAYED)`, as strace prints them; "" for a call left alone."""
    if not flags & (_INJECTED | _POKED | _DELAYED):
        return ""
    out = ""
    if flags & _POKED:
        out = " (INJECTED: args, retval)" if flags & _INJECTED else " (INJECTED: args)"
    elif flags & _INJECTED:
        out = " (INJECTED)"
    if flags & _DELAYED:
        out += " (DELAYED)"
    return out


def tamper_list(flags: int) -> list[str] | None:
    """The JSON `injected` field: what was done to the call, or None."""
    out = [name for bit, name in ((_INJECTED, "retval"), (_POKED, "args"), (_DELAYED, "delay"), (0x40, "signal")) if flags & bit]
    return out or None

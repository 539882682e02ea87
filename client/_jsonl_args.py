"""--format=jsonl's `args`: a call's arguments by name (the syscall table's
names), each a JSON value read back from the text strace would print, so
what a log query compares is what the trace line shows (-y paths included):

- a string: `"/etc/shadow"` -> "/etc/shadow" (C escapes undone; bytes that
  are not UTF-8 stay as \\xNN); cut at -s: {"str": "...", "truncated": true}
- flags (a table `flags` argument, or `A|B`): a list of names, numbers for
  a leftover (`O_RDONLY|0x100000` -> ["O_RDONLY", 1048576])
- a structure: an object (`{st_mode=S_IFREG|0644, st_size=3, ...}` ->
  {"st_mode": ["S_IFREG", 420], "st_size": 3, "...": true})
- an array: a list; `[1 2]` (signal and cpu sets) too
- an fd with its -y path: {"fd": 3, "path": "/etc/hostname"}; without: 3
- `x => y` (a value the call updated): {"in": x, "out": y}
- numbers (decimal, hex, octal as printed): integers; NULL: null
- anything else: the printed text, as a string.
"""

from __future__ import annotations

import re

_NUM = re.compile(r"-?(?:0x[0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\Z")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_FD = re.compile(r"(-?[0-9]+|AT_FDCWD)<(.*)>\Z", re.S)
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.\[\]]*)=(.*)\Z", re.S)
_ESCAPES = {"n": 10, "t": 9, "r": 13, "v": 11, "f": 12, "\\": 92, '"': 34, "a": 7, "b": 8}
_CLOSE = {"(": ")", "[": "]", "{": "}", "<": ">"}


def split_top(text: str, sep: str = ",") -> list[str]:
    """`text` split at the top-level `sep` (not inside quotes, brackets,
    braces, angle brackets or /* comments */), each part stripped."""
    parts, depth, cur, i, n = [], [], [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            cur.append(text[i : j + 1])
            i = j + 1
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            cur.append(text[i:j])
            i = j
            continue
        if ch in _CLOSE and not (ch == "<" and not cur and not depth):
            depth.append(_CLOSE[ch])
        elif depth and ch == depth[-1]:
            depth.pop()
        elif ch == sep and not depth:
            parts.append("".join(cur).strip())
            cur = []
            i += 1
            continue
        cur.append(ch)
        i += 1
    tail = "".join(cur).strip()
    if tail or parts:
        parts.append(tail)
    return parts


def _unquote(s: str) -> str:
    """The bytes of a C string literal (without its quotes) as text."""
    out = bytearray()
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if ch != "\\" or i + 1 >= n:
            out += ch.encode("utf-8", "surrogateescape")
            i += 1
            continue
        nxt = s[i + 1]
        if nxt == "x" and i + 3 < n + 1:
            out.append(int(s[i + 2 : i + 4], 16))
            i += 4
        elif nxt in "01234567":
            j = i + 1
            while j < n and j < i + 4 and s[j] in "01234567":
                j += 1
            out.append(int(s[i + 1 : j], 8) & 0xFF)
            i = j
        else:
            out.append(_ESCAPES.get(nxt, ord(nxt)))
            i += 2
    return out.decode("utf-8", "backslashreplace")


def _int(s: str):
    s = s.strip()
    if _NUM.match(s):
        neg = s.startswith("-")
        body = s[1:] if neg else s
        v = int(body, 16) if body.startswith("0x") else int(body, 8) if len(body) > 1 and body.startswith("0") else int(body)
        return -v if neg else v
    return None


def value(text: str, kind: str | None = None):
    """One printed argument (or structure member) as a JSON value."""
    t = text.strip()
    comment = t.rfind(" /* ")
    if comment > 0 and t.endswith("*/") and not t.startswith('"'):
        t = t[:comment].rstrip()
    if not t:
        return None
    if t == "NULL":
        return None
    if " => " in t and not t.startswith('"'):
        parts = split_top(t, "=")  # "a => b" splits at the top-level "=" of "=>"
        if len(parts) == 2 and parts[1].startswith(">"):
            return {"in": value(parts[0], kind), "out": value(parts[1][1:], kind)}
    n = _int(t)
    if n is not None:
        return [n] if kind == "flags" else n
    if t.startswith('"'):
        end = t.rfind('"')
        if end > 0:
            s = _unquote(t[1:end])
            rest = t[end + 1 :]
            if rest == "":
                return s
            if rest == "...":
                return {"str": s, "truncated": True}
        return t
    m = _FD.match(t)
    if m and kind in ("fd", "dirfd", None):
        fd = -100 if m.group(1) == "AT_FDCWD" else int(m.group(1))
        return {"fd": fd, "path": m.group(2)}
    if t.startswith("{") and t.endswith("}"):
        obj = {}
        for i, part in enumerate(split_top(t[1:-1])):
            if part == "...":
                obj["..."] = True
                continue
            km = _KEY.match(part)
            if km:
                obj[km.group(1)] = value(km.group(2))
            else:
                obj[str(i)] = value(part)
        return obj
    if t.startswith("[") and t.endswith("]"):
        inner = t[1:-1]
        items = split_top(inner)
        if len(items) == 1 and " " in inner and "," not in inner and " => " not in inner and not inner.startswith(("{", '"')):
            items = inner.split()
        return [value(x) for x in items if x != ""]
    if "|" in t and not t.startswith(("{", "[", "~")):
        parts = split_top(t, "|")
        if all(_IDENT.match(p) or _int(p) is not None for p in parts):
            return [(_int(p) if _int(p) is not None else p) for p in parts]
    if kind == "flags" and _IDENT.match(t):
        return [t]
    return t


def args_object(texts: list[str], sc) -> dict:
    """Argument texts (in order) -> {name: value}; names from the table
    entry `sc` (arg0.. when it has none or fewer)."""
    spec = list(sc.args) if sc is not None else []
    out = {}
    for i, t in enumerate(texts):
        a = spec[i] if i < len(spec) else None
        out[a.name if a is not None else f"arg{i}"] = value(t, a.kind if a is not None else None)
    return out


def call_args(text: str) -> list[str] | None:
    """The argument texts of a whole call's text `name(a, b) = r`."""
    open_ = text.find("(")
    if open_ < 0:
        return None
    head, sep, _ = text.rpartition(" = ")
    body = head if sep else text
    close = body.rfind(")")
    if close < open_:
        return None
    return split_top(body[open_ + 1 : close])

"""--format=jsonl: one JSON object per record (documented in docs/jsonl.md).

Raw fields keep the names of tracerd._wire.FIELDS; decoded fields are added
next to them: `syscall`, `text`, `retval`, `errno`, `signal`. Every key
emitted here is listed in JSON_FIELDS, which docs/jsonl.md documents one by one
(the tests check both ways).
"""

from __future__ import annotations

import errno as _errno
import json

from tracerd._wire import EXT, FIELDS, Rec, ext

from .decode._fmt import tamper_list, tamper_marks

# The version of the objects' layout, in every object as `schema`. 2: `args`
# holds the arguments by name (decoded), the raw registers moved to `regs`.
SCHEMA = 2
# raw fields whose JSON name is not the wire's
RENAMED = {"args": "regs"}
# decoded fields added to the raw ones, by record type
DECODED = {
    Rec.SYSCALL: ("syscall", "text", "args", "retval", "errno", "injected"),
    Rec.SYSCALL_ENTRY: ("syscall", "text", "args"),
    Rec.SYSCALL_EXIT: ("syscall", "text", "args", "retval", "errno", "injected"),
    Rec.SIGNAL: ("signal", "text"),
    Rec.KILLED: ("signal",),
    Rec.STOPPED: ("signal",),
}
# every key a JSON object may carry
JSON_FIELDS = frozenset(RENAMED.get(n, n) for f in FIELDS.values() for n in f) | {n for d in DECODED.values() for n in d} | {EXT, "decode_error", "schema"}


def _plain(v):
    """msgpack values -> JSON values: bytes become lowercase hex strings."""
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    return v


def _signame(signo):
    from ._output import signame

    return signame(signo) if signo is not None else None


_TYPE_NAME = {int(t): t.name.lower() for t in Rec}
_BINARY = ("mem", "siginfo")  # the only fields that may hold bytes


def _named_args(obj: dict, rtype, rec, decoder, entry, entry_text) -> dict | None:
    """`args`: the arguments by name, read back from the call's text (what
    -y and the decoder printed), the names from the syscall table. An exit's
    head is the text its entry printed (entry_text), formatted again only
    when the caller did not keep it."""
    from . import _jsonl_args
    from .decode import _table

    text = obj.get("text")
    if text is None:
        return None
    if rtype == Rec.SYSCALL:
        texts = _jsonl_args.call_args(text)
    elif rtype == Rec.SYSCALL_ENTRY:
        texts = _jsonl_args.call_args(text + ")")
        texts = [t for t in texts or () if t]
    else:  # an exit: the arguments printed after `resumed>`, named by position
        head = entry_text
        if head is None and entry is not None:
            try:
                head = decoder.entry(entry)
            except Exception:
                head = None
        if head is None:
            return None
        texts = _jsonl_args.call_args(head + text)
    if texts is None:
        return None
    try:
        sc = _table.lookup(int(obj["pers"]), obj["nr"])
    except Exception:
        sc = None
    return _jsonl_args.args_object(texts, sc)


def to_dict(rec: list, decoder, entry: list | None = None, entry_text: str | None = None) -> dict:
    """One record as a JSON object. An exit names its entry record (entry)
    and, where the caller kept it, the text that entry's object carried
    (entry_text), so the call's head is not formatted twice."""
    rtype = Rec(rec[0])
    names = FIELDS[rtype]
    obj = dict(zip(names, rec))
    obj["type"] = _TYPE_NAME[rec[0]]
    obj["schema"] = SCHEMA
    if len(rec) < len(names):
        for name in names[len(rec) :]:
            obj[name] = None
    if "args" in obj:
        obj["regs"] = obj.pop("args")
    for name in _BINARY:
        v = obj.get(name)
        if v:
            obj[name] = _plain(v)
    x = ext(rec)
    if x:
        obj[EXT] = _plain(x)
    try:
        if rtype in (Rec.SYSCALL, Rec.SYSCALL_ENTRY, Rec.SYSCALL_EXIT):
            obj["syscall"] = decoder.name(obj["pers"], obj["nr"])
        if rtype == Rec.SYSCALL:
            obj["text"] = decoder.call(rec)
        elif rtype == Rec.SYSCALL_ENTRY:
            obj["text"] = decoder.entry(rec)
        elif rtype == Rec.SYSCALL_EXIT:
            obj["text"] = decoder.resumed(rec, entry)
        elif rtype == Rec.SIGNAL:
            obj["text"] = decoder.signal(rec)
    except Exception as exc:  # a record that cannot be decoded still goes out raw
        obj["text"] = None
        obj["decode_error"] = f"{type(exc).__name__}: {exc}"
    if rtype in (Rec.SYSCALL, Rec.SYSCALL_ENTRY, Rec.SYSCALL_EXIT):
        try:
            obj["args"] = _named_args(obj, rtype, rec, decoder, entry, entry_text)
        except Exception:  # never lose the record for its arguments
            obj["args"] = None
    if rtype in (Rec.SYSCALL, Rec.SYSCALL_EXIT):
        text = obj.get("text") or ""
        head, sep, ret = text.rpartition(" = ")
        obj["retval"] = ret if sep else None
        r = obj["ret"]
        obj["errno"] = _errno.errorcode.get(-r, str(-r)) if obj["is_error"] and r is not None else None
        obj["injected"] = tamper_list(obj.get("flags") or 0)
        if obj["injected"] and obj.get("text"):
            obj["text"] += tamper_marks(obj["flags"])
    if rtype in (Rec.SIGNAL, Rec.KILLED, Rec.STOPPED):
        obj["signal"] = _signame(obj["signo"])
    return obj


_raw_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
# JSON lets U+0085, U+2028 and U+2029 stand raw in a string, but line readers
# (Python's splitlines, many log shippers) end a line there: escape them so
# one record is always one line
_LINE_ENDS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def _encode(obj) -> str:
    s = _raw_encode(obj)
    if "\x85" in s or "\u2028" in s or "\u2029" in s:
        s = s.translate(_LINE_ENDS)
    return s


encode_line = _encode


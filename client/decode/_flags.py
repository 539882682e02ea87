"""Flag and value sets by name: the TOML data (uapi sets the standard library
lacks) plus sets built from Python's own modules (signal, errno, fcntl)."""

from __future__ import annotations

import fcntl
import os
from functools import lru_cache

from tracerd._signals import KERNEL_SIGRTMIN, NSIG, signame  # noqa: F401 (the decoder's names for signals)

from ._fmt import FlagSet



# flagsets.toml, then the generated tables of one family each (a set name
# is defined once: a later file may not redefine it)
_FILES = ("flagsets.toml", "netlink.toml", "ioctls.toml")


@lru_cache(maxsize=None)
def _data() -> dict:
    # each file parsed once per version of its bytes and kept in the
    # on-disk cache (TOML parsing was ~15 ms of every tracectl start)
    from tracerd.bpfgen._cache import cached_toml

    here = os.path.dirname(os.path.abspath(__file__))
    out: dict = {}
    for name in _FILES:
        path = os.path.join(here, name)
        if not os.path.isfile(path):
            continue
        d = cached_toml(path, name.split(".")[0] + "-")
        dup = out.keys() & d.keys()
        if dup:
            raise ValueError(f"{name}: flag set {sorted(dup)[0]!r} is already defined")
        out.update(d)
    return out


@lru_cache(maxsize=None)
def get(name: str) -> FlagSet:
    if name in _BUILTIN:
        return _BUILTIN[name]()
    d = _data()[name]
    if "field" in d:  # a value field, then the bits of another set (open's access mode + flags)
        bits = get(d["bits"])
        # rest_comment: unknown bits after the field keep their `/* X_??? */` (fanotify_init)
        return FlagSet(name, bits.items, bits.dflt, d.get("header", bits.header),
                       (d["mask"], get(d["field"]), d.get("rest_comment", False)))
    return FlagSet(name, d["items"], d.get("dflt"), d.get("header", ""))


def has(name: str) -> bool:
    return name in _BUILTIN or name in _data()


def _signals() -> FlagSet:
    return FlagSet("signals", [(signame(i), i) for i in range(1, NSIG + 1)], "SIG???", "include/uapi/asm-generic/signal.h")


def _fcntl_cmds() -> FlagSet:
    # names in fcntl's order of value; fcntl lacks a few of them on 3.11
    names = ["F_DUPFD", "F_GETFD", "F_SETFD", "F_GETFL", "F_SETFL", "F_GETLK", "F_SETLK", "F_SETLKW",
             "F_SETOWN", "F_GETOWN", "F_SETSIG", "F_GETSIG", "F_SETOWN_EX", "F_GETOWN_EX",
             "F_OFD_GETLK", "F_OFD_SETLK", "F_OFD_SETLKW", "F_SETLEASE", "F_GETLEASE", "F_NOTIFY",
             "F_DUPFD_CLOEXEC", "F_SETPIPE_SZ", "F_GETPIPE_SZ", "F_ADD_SEALS", "F_GET_SEALS",
             "F_GET_RW_HINT", "F_SET_RW_HINT", "F_GET_FILE_RW_HINT", "F_SET_FILE_RW_HINT"]
    extra = {"F_SETSIG": 10, "F_GETSIG": 11, "F_SETOWN_EX": 15, "F_GETOWN_EX": 16, "F_OFD_GETLK": 36,
             "F_OFD_SETLK": 37, "F_OFD_SETLKW": 38, "F_GET_RW_HINT": 1035, "F_SET_RW_HINT": 1036,
             "F_GET_FILE_RW_HINT": 1037, "F_SET_FILE_RW_HINT": 1038}
    items = [(n, getattr(fcntl, n, extra.get(n))) for n in names]
    return FlagSet("fcntl_cmds", [(n, v) for n, v in items if v is not None], "F_???", "include/uapi/asm-generic/fcntl.h")


def _multiplexer_calls(mux: str, prefix: str, header: str):
    """The i386 multiplexer's subcall names (`SYS_SOCKET`, `SHMGET`), from the
    syscall table's [multiplexers] (their one home)."""

    def build() -> FlagSet:
        from . import _table

        subs = _table.table().multiplexers[mux] if _table.table() is not None else {}
        return FlagSet(f"{mux}_calls", [(prefix + n.upper(), v) for v, n in sorted(subs.items())], f"{prefix}???" if prefix else "???", header)

    return build


_BUILTIN = {"signals": _signals, "fcntl_cmds": _fcntl_cmds,
            "socketcall_calls": _multiplexer_calls("socketcall", "SYS_", "include/uapi/linux/net.h"),
            "ipc_calls": _multiplexer_calls("ipc", "", "include/uapi/linux/ipc.h (ipc(2) calls)")}

"""Access to bpfgen's declarative syscall table (names, argument kinds).

Names come from the table; while a number is missing there (or bpfgen is not
importable), libseccomp's own resolver (the table's source of numbers) names it.
"""

from __future__ import annotations

from functools import lru_cache

from tracerd._wire import Pers


@lru_cache(maxsize=1)
def table():
    from tracerd.bpfgen import load_table

    try:
        return load_table()
    except Exception:  # a broken table must not stop decoding: names fall back
        return None


@lru_cache(maxsize=4096)
def lookup(pers: int, nr: int):
    t = table()
    if t is None:
        return None
    try:
        return t.lookup(Pers(pers), nr)
    except (KeyError, ValueError):
        return None


@lru_cache(maxsize=4096)
def _seccomp_name(pers: int, nr: int) -> str | None:
    try:
        import pyseccomp
    except ImportError:
        return None
    arch = {Pers.X86_64: pyseccomp.Arch.X86_64, Pers.I386: pyseccomp.Arch.X86, Pers.X32: pyseccomp.Arch.X32}[Pers(pers)]
    try:
        name = pyseccomp.resolve_syscall(arch, nr)
    except (ValueError, OSError):
        return None
    return name.decode() if isinstance(name, bytes) else name


def name(pers: int, nr: int) -> str:
    sc = lookup(pers, nr)
    if sc is not None:
        return sc.name
    n = _seccomp_name(pers, nr)
    if n:
        return n
    return f"syscall_{nr:#x}"

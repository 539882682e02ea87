"""Filters and fetch plans for the native tests, built here with pyseccomp and
tracerd._wire's structs (tracerd.bpfgen's compile_filter/build_plan are used
instead when they exist; see `filter_and_plan`)."""

from __future__ import annotations

import io
import tempfile

import pyseccomp as sc

from tracerd import _wire
from tracerd._wire import EntryFlag as EF
from tracerd._wire import Op, Pers

_ARCH = {Pers.X86_64: sc.Arch.X86_64, Pers.I386: sc.Arch.X86}


def nr_of(name: str, pers: Pers = Pers.X86_64) -> int:
    return sc.resolve_syscall(_ARCH[pers], name)


def compile_filter(sel: dict[tuple[Pers, str], int]) -> bytes:
    """sel: (pers, name) -> EntryFlag bits. One filter per personality,
    merged (libseccomp resolves names per arch)."""
    merged = None
    for pers, arch in _ARCH.items():
        f = sc.SyscallFilter(sc.ALLOW)
        if arch != sc.system_arch():
            f.add_arch(arch)
            f.remove_arch(sc.system_arch())
        for (p, name), flags in sel.items():
            if p == pers:
                f.add_rule(sc.TRACE(flags), name)
        if merged is None:
            merged = f
        else:
            merged.merge(f)
    with tempfile.TemporaryFile() as tf:
        merged.export_bpf(tf)
        tf.seek(0)
        return tf.read()


def build_plan(entries: dict[tuple[Pers, str], tuple[int, list[tuple]]], strsize=32, flags=0) -> bytes:
    """entries: (pers, name) -> (eflags, [(phase, kind, arg, len_src, size), ...])."""
    rows = []
    for (pers, name), (eflags, ops) in entries.items():
        rows.append((int(pers), nr_of(name, pers), eflags, ops))
    rows.sort(key=lambda r: (r[0], r[1]))
    out = io.BytesIO()
    out.write(_wire.PLAN_HEADER.pack(_wire.PLAN_MAGIC, _wire.PLAN_VERSION, len(rows), strsize, flags))
    for pers, nr, eflags, ops in rows:
        out.write(_wire.PLAN_ENTRY.pack(pers, len(ops), eflags, nr))
        for op in ops:
            out.write(_wire.PLAN_OP.pack(*op))
    return out.getvalue()


def eflags_of(ops, exit_=True) -> int:
    f = EF.EXIT if exit_ else 0
    if any(o[0] == 0 for o in ops):
        f |= EF.FETCH_ENTRY
    if any(o[0] == 1 for o in ops):
        f |= EF.FETCH_EXIT
    return f


# A few syscalls with their fetch ops, shaped as bpfgen describes them.
N = _wire.LEN_NONE
OPS = {
    "openat": [(0, Op.CSTR, 1, N, _wire.PATH_MAX)],
    "open": [(0, Op.CSTR, 0, N, _wire.PATH_MAX)],
    "chdir": [(0, Op.CSTR, 0, N, _wire.PATH_MAX)],
    "execve": [(0, Op.CSTR, 0, N, _wire.PATH_MAX), (0, Op.STRARR, 1, N, 0), (0, Op.STRARR, 2, N, 0)],
    "write": [(0, Op.BUF, 1, 2, 0)],
    "read": [(1, Op.BUF, 1, _wire.LEN_RET, 0)],
    "writev": [(0, Op.IOVEC, 1, 2, 0)],
    "readv": [(1, Op.IOVEC, 1, 2, 0)],
    "fstat": [(1, Op.STRUCT, 1, _wire.LEN_FIXED, 144)],
    "newfstatat": [(0, Op.CSTR, 1, N, _wire.PATH_MAX), (1, Op.STRUCT, 2, _wire.LEN_FIXED, 144)],
}


def spec(names, pers=Pers.X86_64, exit_=True, extra=None):
    """(bpf, plan) tracing `names` (with OPS where known)."""
    entries = {}
    for n in names:
        ops = OPS.get(n, [])
        entries[(pers, n)] = (eflags_of(ops, exit_), ops)
    if extra:
        entries.update(extra)
    return entries


def filter_and_plan(entries, strsize=32, flags=0):
    bpf = compile_filter({k: v[0] for k, v in entries.items()})
    plan = build_plan(entries, strsize=strsize, flags=flags)
    return bpf, plan

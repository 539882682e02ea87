"""The struct sizes the C loop uses are the syscall table's (bpfgen/syscalls.toml
[structs]), tested like the wire constants."""

from __future__ import annotations

import pytest

from tracerd._wire import Pers
from tracerd.bpfgen import load_table

try:
    from tracerd.native import _tracer
except ImportError as exc:  # not built here
    pytest.skip(f"native loop not built: {exc}", allow_module_level=True)


def test_msghdr_sizes_are_the_tables():
    t, lib = load_table(), _tracer.lib
    assert (lib.TR_MSGHDR_SIZE, lib.TR_MSGHDR_COMPAT_SIZE) == (t.struct_size("msghdr", Pers.X86_64), t.struct_size("msghdr", Pers.I386))
    assert (lib.TR_MMSGHDR_SIZE, lib.TR_MMSGHDR_COMPAT_SIZE) == (t.struct_size("mmsghdr", Pers.X86_64), t.struct_size("mmsghdr", Pers.I386))
    # x32 passes the compat layout, as i386 (the C side picks it by pointer size)
    assert t.struct_size("msghdr", Pers.X32) == lib.TR_MSGHDR_COMPAT_SIZE
    assert t.struct_size("mmsghdr", Pers.X32) == lib.TR_MMSGHDR_COMPAT_SIZE

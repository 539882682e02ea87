"""Struct descriptions of the syscall table (bpfgen/syscalls.toml [structs],
`fields = ...`) and the generic printer made from them (client/decode/_structs.py):
every description resolves, its layout is the C compiler's, and no struct has a
hand-written printer as well."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tracerd._wire import Pers
from tracerd.bpfgen import load_table
from tracerd.client.decode import DecodeOptions, Decoder
from tracerd.client.decode._core import STRUCTS, C
from tracerd.client.decode._structs import StructError, Structs, described

T = load_table()
S = described(T)

# the C type each described struct is, for the layout check (the
# kernel's layout for x86_64 is glibc's for these)
C_TYPES = {
    "timespec": "struct timespec",
    "timeval": "struct timeval",
    "timezone": "struct timezone",
    "itimerspec": "struct itimerspec",
    "itimerval": "struct itimerval",
    "tms": "struct tms",
    "rusage": "struct rusage",
    "rlimit": "struct rlimit",
    "rlimit64": "struct rlimit64",
    "sysinfo": "struct sysinfo",
    "utsname": "struct utsname",
}


def test_some_structs_are_described():
    assert set(C_TYPES) <= set(T.struct_fields)


@pytest.mark.parametrize("name", sorted(T.struct_fields))
def test_every_description_resolves_to_the_tables_size(name):
    lay = S.layout(name)
    size = (lay.end + lay.align - 1) // lay.align * lay.align
    assert size == T.struct_size(name, Pers.X86_64)


def test_every_described_struct_has_the_generic_printer():
    Decoder(DecodeOptions())  # installs them
    for name in T.struct_fields:
        assert getattr(STRUCTS[name], "described", False), name


def test_a_bad_description_is_refused():
    for fields in ("a:int32, b:nosuchkind", "a:flags[no_such_set]", "a:str[x]", "a", "a:self_"):
        with pytest.raises((StructError, ValueError)):
            Structs({"x": (fields, None), "self_": ("a:self_", None)}).layout("x")


def test_offsets_and_nesting():
    s = Structs({"p": ("a:uint8, b:uint64, c:uint16", None), "q": ("x:uint32, p:p, y:hex32@36", 1)})
    assert [(n, o) for n, o, _ in s.layout("p").fields] == [("a", 0), ("b", 8), ("c", 16)]
    assert [(n, o) for n, o, _ in s.layout("q").fields] == [("x", 0), ("p", 8), ("y", 36)]
    d = Decoder(DecodeOptions(abbrev=frozenset()))
    c = C(d, 0, 0, "x", [0] * 6, 0, False, {}, 1, True, None)
    b = bytes([7]) + bytes(7) + (5).to_bytes(8, "little") + (3).to_bytes(2, "little") + bytes(6)
    q = (9).to_bytes(4, "little") + bytes(4) + b + bytes(4) + (255).to_bytes(4, "little")
    assert s.layout("q").text(c, q) == "{x=9, p={a=7, b=5, c=3}, y=0xff}"
    with pytest.raises(StructError):
        s.layout("q").text(c, q[:39])  # short: the caller prints the address


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_layouts_are_the_c_compilers(tmp_path):
    """Each field's offset and each struct's size, as gcc lays out the C type."""
    lines = ["#define _GNU_SOURCE", "#include <stdio.h>", "#include <stddef.h>", "#include <time.h>",
             "#include <sys/time.h>", "#include <sys/times.h>", "#include <sys/resource.h>",
             "#include <sys/sysinfo.h>", "#include <sys/utsname.h>", "int main(void) {"]
    want = []
    for name, ctype in C_TYPES.items():
        lines.append(f'printf("%zu\\n", sizeof({ctype}));')
        lay = S.layout(name)
        want.append((name, "sizeof", (lay.end + lay.align - 1) // lay.align * lay.align))
        for fname, off, _ in lay.fields:
            lines.append(f'printf("%zu\\n", offsetof({ctype}, {fname}));')
            want.append((name, fname, off))
    lines.append("return 0; }")
    src = tmp_path / "layouts.c"
    src.write_text("\n".join(lines) + "\n")
    subprocess.run(["gcc", "-o", str(tmp_path / "layouts"), str(src)], check=True)
    got = subprocess.run([str(tmp_path / "layouts")], capture_output=True, text=True, check=True).stdout.split()
    assert [(n, f, int(v)) for (n, f, _), v in zip(want, got)] == want

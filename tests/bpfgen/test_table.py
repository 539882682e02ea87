"""The syscall table: complete, consistent with libseccomp, documented vocabulary."""

import re
import tomllib
from pathlib import Path

import pytest

pyseccomp = pytest.importorskip("pyseccomp")

from tracerd._wire import X32_SYSCALL_BIT, Pers
from tracerd.bpfgen import ARG_KINDS, CLASSES, TableError, load_table
from tracerd.bpfgen._table import libseccomp_arch, load_table_from, parse_arg

ROOT = Path(__file__).resolve().parents[2]
TOML = ROOT / "bpfgen" / "syscalls.toml"


def _libseccomp_names():
    names = set()
    for pers, base in ((Pers.X86_64, 0), (Pers.I386, 0), (Pers.X32, X32_SYSCALL_BIT)):
        for n in range(base, base + 1100):
            try:
                names.add(pyseccomp.resolve_syscall(libseccomp_arch(pers), n).decode())
            except ValueError:
                pass
    return names


def test_every_libseccomp_syscall_is_in_the_table():
    table = load_table()
    missing = _libseccomp_names() - set(table.syscalls)
    assert not missing, f"not in syscalls.toml: {sorted(missing)}"


def test_numbers_are_libseccomps():
    table = load_table()
    checked = 0
    for sc in table.syscalls.values():
        for pers, nr in sc.numbers.items():
            resolved = pyseccomp.resolve_syscall(libseccomp_arch(pers), sc.name)
            if resolved >= 0:
                assert resolved == nr, (sc.name, pers)
            else:  # i386 direct socket/ipc numbers: libseccomp names them the other way round
                assert pers == Pers.I386 and sc.subcall is not None
                assert pyseccomp.resolve_syscall(libseccomp_arch(pers), nr).decode() == sc.name
            assert table.lookup(pers, nr) is sc or table.lookup(pers, nr).name == sc.name
            checked += 1
    assert checked > 1100


def test_known_numbers_and_personalities():
    t = load_table()
    assert t.syscalls["openat"].numbers == {Pers.X86_64: 257, Pers.I386: 295, Pers.X32: 257 | X32_SYSCALL_BIT}
    assert t.syscalls["connect"].numbers[Pers.I386] == 362  # direct i386 socket call
    assert Pers.I386 not in t.syscalls["accept"].numbers  # only through socketcall
    assert t.syscalls["accept"].subcall == ("socketcall", 5)
    assert t.syscalls["readv"].numbers[Pers.X32] == 515 | X32_SYSCALL_BIT
    assert t.lookup(Pers.I386, 102).name == "socketcall"
    assert t.lookup(Pers.X86_64, 99999) is None
    assert t.subcall("ipc", 23).name == "shmget"
    for sc in t.syscalls.values():
        if Pers.X32 in sc.numbers:
            assert sc.numbers[Pers.X32] & X32_SYSCALL_BIT


def test_classes_as_strace():
    c = load_table().classes
    assert set(c) == set(CLASSES)
    assert {"open", "openat", "execve", "stat", "unlink"} <= c["file"]
    assert {"read", "write", "close", "openat", "mmap"} <= c["desc"]
    assert {"socket", "connect", "accept4", "sendto"} <= c["network"]
    assert {"clone", "execve", "exit_group", "wait4", "kill"} <= c["process"]
    assert {"rt_sigaction", "kill"} <= c["signal"]
    assert {"mmap", "brk", "munmap"} <= c["memory"]
    assert c["stat"] == {"stat", "stat64", "oldstat"}
    assert "newfstatat" in c["fstat"] and "newfstatat" in c["%stat"]
    assert "fstatfs" in c["%statfs"] and "ustat" in c["%statfs"]
    assert {"getpid", "gettid", "getuid"} <= c["pure"]
    assert "read" not in c["file"]


def test_argument_kinds():
    t = load_table()
    openat = t.syscalls["openat"]
    assert [a.kind for a in openat.args] == ["dirfd", "path", "flags", "mode"]
    assert openat.args[2].ref == "open_modes" and openat.args[3].when == (2, 0o20000100) and openat.ret == "fd"
    read = t.syscalls["read"].args[1]
    assert (read.kind, read.dir, read.len) == ("buf", "out", "ret")
    write = t.syscalls["write"].args[1]
    assert (write.kind, write.dir, write.len) == ("buf", "in", 2)
    connect = t.syscalls["connect"].args[1]
    assert (connect.kind, connect.len, connect.ref) == ("buf", 2, "sockaddr")
    fstat = t.syscalls["fstat"].args[1]
    assert (fstat.kind, fstat.ref, fstat.dir) == ("struct", "stat", "out")
    assert [a.kind for a in t.syscalls["execve"].args] == ["path", "strarr", "strarr"]
    assert t.syscalls["writev"].args[1].kind == "iovec" and t.syscalls["writev"].args[1].len == 2
    assert t.syscalls["exit_group"].noreturn and t.syscalls["exit"].noreturn and t.syscalls["exit"].described
    sysfs = t.syscalls["sysfs"]
    assert not sysfs.described and [a.kind for a in sysfs.args] == ["hex"] * 3
    # i386 passes one pointer to a block for mmap (old_mmap)
    assert [a.kind for a in t.syscalls["mmap"].args_for(Pers.I386)] == ["struct"]
    assert len(t.syscalls["mmap"].args_for(Pers.X86_64)) == 6


def test_struct_sizes():
    t = load_table()
    assert t.struct_size("stat", Pers.X86_64) == 144
    assert t.struct_size("stat", Pers.I386) == 64
    assert t.struct_size("stat", Pers.X32) == 144
    assert t.struct_size("statx", Pers.I386) == 256
    assert t.struct_size("timespec", Pers.X86_64) == 16
    assert t.struct_size("timespec", Pers.I386) == 8
    assert t.struct_size("pollfd", Pers.X86_64) == 8


def test_typical_classes_are_described():
    """Everything in %file %desc %process %network %signal %memory has kinds."""
    t = load_table()
    for cls in ("file", "desc", "process", "network", "signal", "memory"):
        for name in t.classes[cls]:
            assert t.syscalls[name].described, (cls, name)
    assert sum(sc.described for sc in t.syscalls.values()) >= 150


def test_every_kind_used_is_documented():
    doc = (ROOT / "docs" / "syscall-table.md").read_text()
    used = {a.kind for sc in load_table().syscalls.values() for a in sc.args}
    assert used <= ARG_KINDS
    for kind in ARG_KINDS:
        assert re.search(rf"`{kind}(\[|`)", doc), f"kind {kind} not documented"


@pytest.mark.parametrize(
    "text, message",
    [
        ("fd:file", "unknown argument kind"),
        ("buf:buf[in]", "needs a len"),
        ("x:struct[stat]", "needs a dir"),
        ("x:flags", "needs a ref"),
        ("x:buf[in, len=arg9]", "bad len"),
        ("x:int[in]", "takes no parameters"),
        ("nonsense", "cannot parse"),
    ],
)
def test_parse_arg_rejects(text, message):
    with pytest.raises(TableError, match=message):
        parse_arg(text, "test")


def test_loader_rejects_bad_data():
    data = tomllib.loads(TOML.read_text())
    data["syscalls"]["read"] = {"args": "fd:fd", "classes": "%files"}
    with pytest.raises(TableError, match="unknown class"):
        load_table_from(data)
    data = tomllib.loads(TOML.read_text())
    data["syscalls"]["read"] = {"args": "fd:fd, s:struct[nosuch, out]"}
    with pytest.raises(TableError, match="unknown struct"):
        load_table_from(data)
    data = tomllib.loads(TOML.read_text())
    data["syscalls"]["read"] = {"args": "fd:fd, buf:buf[in, len=ret], n:size"}
    with pytest.raises(TableError, match="only at exit"):
        load_table_from(data)
    data = tomllib.loads(TOML.read_text())
    data["syscalls"]["read"] = {"args": "fd:fd, buf:buf[out, len=arg5], n:size"}
    with pytest.raises(TableError, match="past the last argument"):
        load_table_from(data)
    data = tomllib.loads(TOML.read_text())
    data["multiplexers"]["socketcall"]["99"] = "nosuch"
    with pytest.raises(TableError, match="unknown syscall"):
        load_table_from(data)


@pytest.mark.parametrize("stack", [{"x86_64": [297, 8]}, {"x86_64": [4096, 8]}, {"x86_64": [8, 0]}, {"arm": [8, 8]}, {"x86_64": "296"}])
def test_loader_rejects_bad_stack_reads(stack):
    data = tomllib.loads(TOML.read_text())
    data["syscalls"]["rt_sigreturn"]["stack"] = stack
    with pytest.raises(TableError, match="bad stack entry"):
        load_table_from(data)


def test_rt_sigreturn_reads_the_saved_mask_off_the_stack():
    from tracerd._wire import LEN_FIXED, MEM_PHASE_ENTRY, Op, Pers
    from tracerd.bpfgen._plan import syscall_ops

    t = load_table()
    sc = t.syscalls["rt_sigreturn"]
    assert sc.stack == {Pers.X86_64: (296, 8)}
    assert syscall_ops(sc, Pers.X86_64, t) == [(MEM_PHASE_ENTRY, Op.STACK, 37, LEN_FIXED, 8)]
    assert syscall_ops(sc, Pers.I386, t) == []


def test_conditional_argument_syntax():
    from tracerd.bpfgen._table import TableError, parse_arg

    assert parse_arg("mode:mode[if=arg2&0o100]").when == (2, 0o100)
    assert parse_arg("x:int[if=arg0&0x4]").when == (0, 4)
    with pytest.raises(TableError, match="bad condition"):
        parse_arg("mode:mode[if=flags&O_CREAT]")

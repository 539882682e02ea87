"""The syscall table is the one home for argument knowledge: every name it
uses resolves, every family decoder is for a call it holds, and where a
decoder and the table disagreed, strace 6.1's output decided (the lines
below were printed by strace on this machine)."""

from __future__ import annotations

import pytest

from tracerd._wire import Pers, Rec, record
from tracerd.bpfgen import load_table
from tracerd.client.decode import DecodeOptions, Decoder
from tracerd.client.decode import _flags
from tracerd.client.decode._core import REGISTRY, syscall

T = load_table()
NR = {n: sc.numbers[Pers.X86_64] for n, sc in T.syscalls.items() if Pers.X86_64 in sc.numbers}
G = 0xDEADBEEF00000000  # garbage the kernel ignores in an int argument

def _refs():
    for sc in T.syscalls.values():
        for args in (sc.args, *sc.pers_args.values()):
            for a in args:
                if a.kind in ("flags", "enum"):
                    yield sc.name, a.ref


def test_every_flag_and_enum_reference_resolves():
    missing = sorted({(n, r) for n, r in _refs() if not _flags.has(r)})
    assert not missing, f"sets the table names but flagsets.toml lacks: {missing}"


def test_no_rename_map():
    assert not hasattr(_flags, "ALIASES"), "flag-set names are used as the table spells them"


def test_every_decoder_is_for_a_table_syscall():
    assert sorted(n for n in REGISTRY if n not in T.syscalls) == []


def test_entry_counts_live_in_the_table():
    """How many arguments print at entry is the table's alone: a decoder
    cannot say it (@syscall takes no count), and a table `entry` differs
    from what the directions give (the loader refuses a restatement)."""
    import inspect

    from tracerd.bpfgen._table import TableError, dir_entry_count, load_table_from

    assert "entry" not in inspect.signature(syscall).parameters
    for name, spec in REGISTRY.items():
        sc = T.syscalls[name]
        if sc.described:
            assert spec.entry == (None if sc.entry_count == len(sc.args) else sc.entry_count), name
    counted = {n: sc.entry for n, sc in T.syscalls.items() if sc.entry is not None}
    assert counted and all(e != dir_entry_count(T.syscalls[n].args) for n, e in counted.items())
    import tomllib
    from importlib import resources

    data = tomllib.loads(resources.files("tracerd.bpfgen").joinpath("syscalls.toml").read_text())
    data["syscalls"]["getgroups"]["entry"] = 1  # what `list:array[gid, out, ...]` already says
    with pytest.raises(TableError, match="says what the directions say"):
        load_table_from(data)


def _call(name, args, ret, err=False):
    args = list(args) + [0] * (6 - len(args))
    return Decoder(DecodeOptions()).call(record(Rec.SYSCALL, 1, 0, 9, 9, 0, NR[name], args, ret, err, 0, [], None, 0))


def _entry(name, args, mem=()):
    args = list(args) + [0] * (6 - len(args))
    return Decoder(DecodeOptions()).entry(record(Rec.SYSCALL_ENTRY, 1, 0, 9, 9, 0, NR[name], args, list(mem), 0))


@pytest.mark.parametrize("name,args,ret,err,line", [
    # dup3's flags are open flags (was pipe_flags: O_NONBLOCK|O_CLOEXEC|0x40)
    ("dup3", [5, 50, G | 0o2004100], -22, True, "dup3(5, 50, O_CREAT|O_NONBLOCK|O_CLOEXEC) = -1 EINVAL (Invalid argument)"),
    ("dup3", [0, 51, 2], -22, True, "dup3(0, 51, 0x2 /* O_??? */) = -1 EINVAL (Invalid argument)"),
    # unlinkat's flags are the AT_ set (was unlinkat_flags: AT_REMOVEDIR|0x101)
    ("unlinkat", [-100, 0, G | 0x301], -22, True, "unlinkat(AT_FDCWD, NULL, AT_SYMLINK_NOFOLLOW|AT_REMOVEDIR|0x1) = -1 EINVAL (Invalid argument)"),
    ("unlinkat", [-100, 0, 0x1000], -22, True, "unlinkat(AT_FDCWD, NULL, AT_EMPTY_PATH) = -1 EINVAL (Invalid argument)"),
    # close_range's bounds are unsigned
    ("close_range", [G | 0xFFFFFFF0, G | 0xFFFFFFFF, G | 6], 0, False, "close_range(4294967280, 4294967295, CLOSE_RANGE_UNSHARE|CLOSE_RANGE_CLOEXEC) = 0"),
    ("close_range", [100, 200, 8], -22, True, "close_range(100, 200, 0x8 /* CLOSE_RANGE_??? */) = -1 EINVAL (Invalid argument)"),
    # sets the table named and nothing defined: were hex or decimal
    ("msync", [0x1000, 4096, 4], 0, False, "msync(0x1000, 4096, MS_SYNC) = 0"),
    ("getpriority", [0, 0], 20, False, "getpriority(PRIO_PROCESS, 0) = 20"),
])
def test_strace_decided(name, args, ret, err, line):
    assert _call(name, args, ret, err) == line


@pytest.mark.parametrize("name,args,head", [
    ("getrandom", [0x1000, 4, 0], "getrandom("),
    ("rt_sigtimedwait", [0, 0x2000, 0, 8], "rt_sigtimedwait(NULL, "),
    ("ppoll", [0, 1, 0, 0, 8], "ppoll(NULL, 1, NULL, NULL, 8"),
    ("pselect6", [4, 0, 0, 0, 0, 0], "pselect6(4, NULL, NULL, NULL, NULL, NULL"),
    ("get_robust_list", [0, 0x1000, 0x2000], "get_robust_list(0, "),
    ("getgroups", [64, 0x1000], "getgroups(64, "),
    # the table's `entry` counts: inout values strace prints at entry
    ("poll", [0, 1, 1000], "poll(NULL, 1, 1000"),
    ("select", [4, 0, 0, 0, 0], "select(4, NULL, NULL, NULL, NULL"),
    ("capget", [0, 0], "capget(NULL, "),
])
def test_entry_text_as_strace(name, args, head):
    """What strace prints before `<unfinished ...>` (strace -f -e
    inject=NAME:delay_enter=300000 with another process printing)."""
    assert _entry(name, args) == head


def test_multiplexer_subcalls_match_the_uapi_headers(tmp_path):
    """The i386 socketcall/ipc subcall numbers live only in the table's
    [multiplexers]; the kernel's headers agree (SYS_SOCKET 1..., SEMOP 1...)."""
    import shutil
    import subprocess

    if shutil.which("gcc") is None:
        pytest.skip("gcc not installed")
    names = {("SYS_" if mux == "socketcall" else "") + n.upper(): v for mux, subs in T.multiplexers.items() for v, n in subs.items()}
    src = tmp_path / "m.c"
    src.write_text("#include <stdio.h>\n#include <linux/net.h>\n#include <linux/ipc.h>\nint main(void) {\n"
                   + "".join(f'printf("{n} %d\\n", {n});\n' for n in names) + "return 0;\n}\n")
    subprocess.run(["gcc", "-o", str(tmp_path / "m"), str(src)], check=True)
    out = subprocess.run([str(tmp_path / "m")], capture_output=True, text=True, check=True).stdout
    assert {l.split()[0]: int(l.split()[1]) for l in out.splitlines()} == names
    # and the decoder's names for them come from there
    assert all(_flags.get("socketcall_calls" if n.startswith("SYS_") else "ipc_calls").xval(v) == n for n, v in names.items())


@pytest.mark.parametrize("args,mem,line", [
    # the mode prints only with O_CREAT or __O_TMPFILE: a table condition (if=arg2&...)
    ([-100, 0x1000, 0o2000000, 0o644], [[0, 1, b"/etc/x\0"]], 'openat(AT_FDCWD, "/etc/x", O_RDONLY|O_CLOEXEC) = 3'),
    ([-100, 0x1000, 0o101, 0o644], [[0, 1, b"/etc/x\0"]], 'openat(AT_FDCWD, "/etc/x", O_WRONLY|O_CREAT, 0644) = 3'),
    ([-100, 0x1000, 0o20200002, 0o600], [[0, 1, b"/tmp\0"]], 'openat(AT_FDCWD, "/tmp", O_RDWR|O_TMPFILE, 0600) = 3'),
])
def test_open_is_a_table_entry(args, mem, line):
    assert "openat" not in REGISTRY and "open" not in REGISTRY
    args = list(args) + [0] * (6 - len(args))
    rec = record(Rec.SYSCALL, 1, 0, 9, 9, 0, NR["openat"], args, 3, False, 0, mem, None, 0)
    assert Decoder(DecodeOptions()).call(rec) == line


@pytest.mark.parametrize("name,args,ret,mem,line", [
    # one table entry each, no decoder (docs/decoding.md "Adding a syscall"); strace 6.1's lines
    ("pkey_alloc", [0, 3], -22, [], "pkey_alloc(0, PKEY_DISABLE_ACCESS|PKEY_DISABLE_WRITE) = -1 EINVAL (Invalid argument)"),
    ("pkey_alloc", [G, 6], -22, [], "pkey_alloc(0xdeadbeef00000000, PKEY_DISABLE_WRITE|PKEY_DISABLE_EXECUTE) = -1 EINVAL (Invalid argument)"),
    ("pkey_free", [G | 5], -22, [], "pkey_free(5) = -1 EINVAL (Invalid argument)"),
    ("mq_unlink", [0x1000], -13, [[0, 0, b"/nosuch\0"]], 'mq_unlink("/nosuch") = -1 EACCES (Permission denied)'),
    # their family decoders restated the table and are gone
    ("timer_delete", [G | 3], -22, [], "timer_delete(3) = -1 EINVAL (Invalid argument)"),
    ("timer_getoverrun", [0xFFFFFFFF], -22, [], "timer_getoverrun(-1) = -1 EINVAL (Invalid argument)"),
    ("vhangup", [], 0, [], "vhangup() = 0"),
])
def test_table_only_syscalls(name, args, ret, mem, line):
    assert name not in REGISTRY
    args = list(args) + [0] * (6 - len(args))
    rec = record(Rec.SYSCALL, 1, 0, 9, 9, 0, NR[name], args, ret, ret < 0, 0, mem, None, 0)
    assert Decoder(DecodeOptions()).call(rec) == line



@pytest.mark.parametrize("args,line", [
    # fcntl's third argument is the table's fcntl$ variant for the command
    ([3, G | 2, 1], "fcntl(3, F_SETFD, FD_CLOEXEC) = 0"),
    ([3, 4, 0o4002], "fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0"),
    ([3, 1030, 10], "fcntl(3, F_DUPFD_CLOEXEC, 10) = 0"),
    ([3, 10, 10], "fcntl(3, F_SETSIG, SIGUSR1) = 0"),
    ([3, 9, 77], "fcntl(3, F_GETOWN) = 0"),
    ([3, 1031, -1], "fcntl(3, F_SETPIPE_SZ, -1) = 0"),  # no variant: the default `long`
])
def test_fcntl_variants(args, line):
    assert T.syscalls["fcntl"].variants and T.syscalls["fcntl64"].variants == T.syscalls["fcntl"].variants
    args = list(args) + [0] * (6 - len(args))
    rec = record(Rec.SYSCALL, 1, 0, 9, 9, 0, NR["fcntl"], args, 0, False, 0, [], None, 0)
    assert Decoder(DecodeOptions()).call(rec) == line


def test_variant_names_resolve():
    from tracerd.client.decode._core import _variant_table

    for sc in T.syscalls.values():
        if sc.variants:
            names = {n for names, _ in sc.variants for n in names}
            known = {n for n, _ in _flags.get(sc.args[sc.select].ref).items}
            assert names <= known, (sc.name, names - known)
            assert len(_variant_table(sc)[1]) == len(names)

"""ioctl's `$` variants (ioctls.toml's [ioctl_args] and [ioctl_types]):
every variant resolves, every printer is reachable from the table, and a
request's names never disagree on its kind."""

from __future__ import annotations

import re

import pytest

from tracerd._wire import Rec, record
from tracerd.client.decode import DecodeOptions, Decoder
from tracerd.client.decode import _flags, _ioctl, _ioctl_args
from tracerd.client.decode._ioctl_util import PRINTERS, SETS, TYPES

ARGS = _flags._data()["ioctl_args"]
TYPE_ROWS = _flags._data()["ioctl_types"]


def _known_names() -> dict[str, set[int]]:
    names: dict[str, set[int]] = {}
    for setname in ("ioctl_names", "ioctl_cmds"):
        for joined, v in _flags.get(setname).items:
            for n in joined.split(" or "):  # a value's names are kept joined
                names.setdefault(n, set()).add(v)
    for v, n in _ioctl._EXTRA_NAMES.items():
        names.setdefault(n, set()).add(v)
    return names


@pytest.mark.parametrize("name", sorted(ARGS))
def test_every_variant_resolves(name):
    """The kind compiles (its printer is registered, its set exists) and
    the request is a name the decoder prints."""
    _ioctl_args.compile_kind(ARGS[name])
    assert name in _known_names(), f"{name}: no request of that name (ioctl_names, ioctl_cmds, _EXTRA_NAMES)"
    m = re.search(r"(?:flags|flags32|enum)\[(\w+)\]", ARGS[name])
    if m:
        assert m.group(1) in SETS or _flags.has(m.group(1))


def test_table_compiles_whole():
    args, types = _ioctl_args.table()
    assert set(args) == set(ARGS)
    assert {hex(t) for t in types} == {hex(int(t, 0)) for t in TYPE_ROWS}


def test_every_printer_is_reachable():
    """A printer no variant names is dead code: each registered printer,
    type printer and value set is named by the table."""
    used = set()
    for kind in ARGS.values():
        d, _, what = kind.partition(":")
        if d in ("in", "out", "inout"):
            used.add(what)
    assert sorted(set(PRINTERS) - used) == []
    assert sorted(set(TYPES) - set(TYPE_ROWS.values())) == []
    sets_used = {m for k in ARGS.values() for m in re.findall(r"\[(\w+)\]", k)}
    assert sorted(set(SETS) - sets_used) == []


def test_names_of_one_value_agree():
    """A value with several names (`SNDCTL_TMR_START or TCSETS`) takes the
    first name the table has: two of its names with different kinds would
    make the table's order matter."""
    by_value: dict[int, set[str]] = {}
    for n, vs in _known_names().items():
        for v in vs:
            by_value.setdefault(v, set()).add(n)
    clash = {hex(v): sorted(ns) for v, ns in by_value.items()
             if len({ARGS[n] for n in ns if n in ARGS}) > 1}
    assert clash == {}


def _line(req: int, arg: int, mem: bytes | None, ret: int = 0, opts=DecodeOptions()) -> str:
    m = [] if mem is None else [[0, 2, mem], [1, 2, mem]]
    r = record(Rec.SYSCALL, 1, 0, 100, 100, 0, 16, [3, req, arg, 0, 0, 0], ret, ret < 0, 0, m, None, 0)
    return Decoder(opts).call(r)


def test_kinds_print_as_strace():
    """One request of each kind, lines as strace 6.1 prints them."""
    p = 0x7FFD1000
    assert _line(0x125F, 0, None) == "ioctl(3, BLKRRPART) = 0"  # none
    assert _line(0x80081272, p, (4096).to_bytes(8, "little")) == "ioctl(3, BLKGETSIZE64, [4096]) = 0"  # out:Q
    assert _line(0x80081272, p, None, -14) == f"ioctl(3, BLKGETSIZE64, {p:#x}) = -1 EFAULT (Bad address)"
    assert _line(0x127F, p, bytes(8) + (4096).to_bytes(8, "little")) == "ioctl(3, BLKZEROOUT, [0, 4096]) = 0"
    assert _line(0x1260, 0, None) == "ioctl(3, BLKGETSIZE, NULL) = 0"  # out:L, NULL
    assert _line(0x540B, 2, None) == "ioctl(3, TCFLSH, TCIOFLUSH) = 0"  # val:enum[SET]
    assert _line(0x40086602, p, (0x10).to_bytes(4, "little")) == "ioctl(3, FS_IOC_SETFLAGS, [FS_IMMUTABLE_FL]) = 0"
    # not in the table: the argument in hex, 0 as 0
    assert _line(0x12345678, 0, None) == "ioctl(3, _IOC(_IOC_NONE, 0x56, 0x78, 0x1234), 0) = 0"


def test_verbose_none_prints_the_address():
    """Outside -e verbose=, a struct or number behind the pointer prints
    as its address, as strace's umove_or_printaddr (the fetch does not
    read it then; a record that carries it all the same prints the same)."""
    opts = DecodeOptions(deref=frozenset())
    assert _line(0x80081272, 0x7FFD1000, bytes(8), opts=opts) == "ioctl(3, BLKGETSIZE64, 0x7ffd1000) = 0"


@pytest.mark.parametrize("kind", ["val:nope", "in:no_such_printer", "inout:termios", "sideways:i", "out"])
def test_bad_kinds_are_refused(kind):
    with pytest.raises(ValueError):
        _ioctl_args.compile_kind(kind)


def test_fd_in_a_struct_is_named_as_the_stop_saw_it():
    """SECCOMP_IOCTL_NOTIF_ADDFD's srcfd, at byte 12 of its struct, is
    named at the stop by the plan's FD_AT op ([layouts]
    seccomp_notif_addfd; strace 6.1's line in its ioctl_seccomp-y-success
    test)."""
    from tracerd._wire import fd_at_slot

    addfd = (0xDEADC0DEBADFACED).to_bytes(8, "little") + (3).to_bytes(4, "little") + (42).to_bytes(4, "little") \
        + (5).to_bytes(4, "little") + (0o40000).to_bytes(4, "little")
    mem = [[0, 2, addfd], [0, fd_at_slot(2, 12), b"/dev/zero"]]
    r = record(Rec.SYSCALL, 1, 0, 100, 100, 0, 16, [-1 & 0xFFFFFFFF, 0x40182103, 0x7FFD1000, 0, 0, 0], 42, False, 0,
               mem, None, 0)
    line = Decoder(DecodeOptions(yflag=1)).call(r)
    assert line == ("ioctl(-1, SECCOMP_IOCTL_NOTIF_ADDFD, {id=0xdeadc0debadfaced, "
                    "flags=SECCOMP_ADDFD_FLAG_SETFD|SECCOMP_ADDFD_FLAG_SEND, srcfd=42</dev/zero>, newfd=5, "
                    "newfd_flags=O_DIRECT}) = 42")


def test_the_fetch_reads_every_struct_whole():
    """The plan reads ioctl's argument as its request's size, at most
    IOCTL_ARG_MAX bytes: no struct printer may need more."""
    from tracerd.bpfgen._plan import IOCTL_ARG_MAX

    big = {n: s for n, (s, _fn) in PRINTERS.items() if s is not None and s > IOCTL_ARG_MAX}
    assert big == {}

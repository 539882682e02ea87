"""The table's [layouts] and `fetch` rules, and the DEREF / FD_AT / COND
ops the plan builds from them (docs/fetch-plan.md, "Second-level memory")."""

from __future__ import annotations

import pytest

from tracerd._wire import COND_MAX, DEREF_PTR64, LEN_FIELD, LEN_FIXED, LEN_NONE, FD_AT_PTR, FD_AT_PTR64, Op, Pers
from tracerd.bpfgen import build_plan, load_table, parse_plan
from tracerd.bpfgen._plan import syscall_ops
from tracerd.bpfgen._table import TableError, dump_table, parse_fetch, parse_lfield, undump_table

T = load_table()
NEW = (Op.DEREF, Op.FD_AT, Op.COND)


def users() -> set[str]:
    """The calls that have a layout on an argument or a fetch rule."""
    out = set()
    for sc in T.syscalls.values():
        if sc.fetch or any(a.ref in T.layouts and a.kind in ("struct", "buf", "sigset") for p in Pers for a in sc.args_for(p)):
            out.add(sc.name)
    return out


def test_calls_without_layouts_get_no_new_op():
    """Nothing is spent on a call the table says nothing new about: its ops
    are the ones it had, in every personality, -y or not, -v or not."""
    u = users()
    assert {"clone3", "pselect6", "seccomp", "ioctl", "kcmp", "io_uring_setup", "mount_setattr"} <= u
    for sc in T.syscalls.values():
        if sc.name in u:
            continue
        for pers in sc.numbers:
            for fds in (False, True):
                for abbreviated in (False, True):
                    ops = syscall_ops(sc, pers, T, fds=fds, abbreviated=abbreviated)
                    assert not [o for o in ops if o[1] in NEW], sc.name


def test_clone3_ops():
    sc = T.syscalls["clone3"]
    ops = syscall_ops(sc, Pers.X86_64, T)
    set_tid = (0, Op.DEREF, 0 | DEREF_PTR64 | 3 << 4 | 2 << 6, LEN_FIELD, 64 | 72 << 8 | 32 << 16)
    assert set_tid in ops  # the u64 count at 72, ints, 32 at most
    pidfd = (1, Op.DEREF, 0 | DEREF_PTR64 | 2 << 6, LEN_FIXED, 8 | 1 << 8)
    assert pidfd in ops and (1, Op.DEREF, 0 | DEREF_PTR64 | 2 << 6, LEN_FIXED, 24 | 1 << 8) in ops
    assert not [o for o in ops if o[1] == Op.FD_AT]
    # -y: the pidfd the call wrote is named at the exit too
    assert (1, Op.FD_AT, 0 | FD_AT_PTR | FD_AT_PTR64, LEN_NONE, 8) in syscall_ops(sc, Pers.X86_64, T, fds=True)


def test_offsets_and_widths_by_personality():
    sc = T.syscalls["pselect6"]
    (d64,) = [o for o in syscall_ops(sc, Pers.X86_64, T) if o[1] == Op.DEREF]
    (d32,) = [o for o in syscall_ops(sc, Pers.I386, T) if o[1] == Op.DEREF]
    assert d64[2] == 5 | 3 << 4 and d64[4] & 0xFFFF == 8 << 8  # a long count at 8
    assert d32[2] == 5 | 2 << 4 and d32[4] & 0xFFFF == 4 << 8  # at 4 in the compat layout


def test_verbose_only_fields_and_conditions():
    sc = T.syscalls["seccomp"]
    assert not [o for o in syscall_ops(sc, Pers.X86_64, T, abbreviated=True) if o[1] in NEW]
    ops = syscall_ops(sc, Pers.X86_64, T, abbreviated=False)
    i = [o[1] for o in ops].index(Op.COND)
    assert ops[i] == (0, Op.COND, 0, 1, 1) and ops[i + 1][1] == Op.DEREF  # SECCOMP_SET_MODE_FILTER
    assert (ops[i + 1][4] >> 16) == 4097  # vmax
    # two conditions: each COND reaches past the ones after it
    so = syscall_ops(T.syscalls["setsockopt"], Pers.X86_64, T, abbreviated=False)
    j = [o[1] for o in so].index(Op.COND)
    assert so[j][2:] == (1, 2, 1) and so[j + 1][2:] == (2, 1, 26) and so[j + 2][1] == Op.DEREF


def test_fd_fields_only_when_fds_are_named():
    sc = T.syscalls["ioctl"]
    plain = syscall_ops(sc, Pers.X86_64, T)
    # no -y: no FD_AT, nor the COND that gated it (the CONDs that gate
    # reads stay: BLKPG's partition, v4l2's clips and controls, the
    # console requests')
    assert not [o for o in plain if o[1] == Op.FD_AT or (o[1] == Op.COND and o[4] == 0x40182103)]
    assert (0, Op.COND, 1, 1, 0x1269) in plain
    ops = syscall_ops(sc, Pers.X86_64, T, fds=True)
    i = [(o[1], o[4]) for o in ops].index((Op.COND, 0x40182103))
    assert ops[i:i + 2] == [(0, Op.COND, 1, 1, 0x40182103), (0, Op.FD_AT, 2, LEN_NONE, 12)]
    # connect's 16-byte address: AF_XDP's fd under -y only
    co = syscall_ops(T.syscalls["connect"], Pers.X86_64, T, fds=True)
    i = [o[1] for o in co].index(Op.COND)
    assert co[i:i + 2] == [(0, Op.COND, 2, 1, 16), (0, Op.FD_AT, 1, LEN_NONE, 12)]
    assert not [o for o in syscall_ops(T.syscalls["connect"], Pers.X86_64, T) if o[1] in NEW]


def test_plans_parse_back():
    q = {(Pers.X86_64, T.syscalls[n].numbers[Pers.X86_64]) for n in ("clone3", "kcmp", "setsockopt", "ioctl")}
    p = parse_plan(build_plan(q, fds={"path"}, abbrev=()))
    kinds = {o["kind"] for e in p["entries"] for o in e["ops"]}
    assert set(NEW) <= kinds


@pytest.mark.parametrize("text", [
    "x:ptr[in, int]@8",  # no len=
    "x:ptr[int, len=1]@8",  # no direction
    "x:ptr[in, stat, len=1]@8",  # an element of 144 bytes
    "x:ptr[in, int, len=u24@0]@8",
    "x:ptr[in, int, len=1]@256",  # past a byte
    "x:fd[in, len=1]@8",
    "x:ptr[in, int, len=1, max=none]@8",  # -v only, but no vmax
    "x:ptr[in, int, len=2, fd]@8",  # an fd behind a pointer is one int
])
def test_bad_layout_fields(text):
    with pytest.raises(TableError):
        parse_lfield(text, T.structs)


@pytest.mark.parametrize("text", ["arg1==0: arg2:fd", "if arg7==1: arg2:fd", "if arg1==x: arg2:fd", "if arg1==1: arg5:fd"])
def test_bad_fetch_rules(text):
    with pytest.raises(TableError):
        parse_fetch(text, 3)


def test_cached_table_keeps_layouts_and_rules():
    t2 = undump_table(dump_table(T))
    assert {k: [f.text for f in v] for k, v in t2.layouts.items()} == {k: [f.text for f in v] for k, v in T.layouts.items()}
    assert t2.syscalls["kcmp"].fetch == T.syscalls["kcmp"].fetch
    assert 0 < len(T.syscalls["kcmp"].fetch) <= COND_MAX


def test_msghdr_control_read_whole_only_unabbreviated():
    """-v: sendmsg's and recvmsg's MSGHDR ops carry MSGHDR_CTL_FULL (the
    control as far as the kernel takes it); abbreviated, they do not."""
    from tracerd._wire import MSGHDR_CTL_FULL

    for name, arg in (("sendmsg", 1), ("recvmsg", 1)):
        sc = T.syscalls[name]
        (short,) = [o for o in syscall_ops(sc, Pers.X86_64, T, abbreviated=True) if o[1] == Op.MSGHDR]
        (full,) = [o for o in syscall_ops(sc, Pers.X86_64, T, abbreviated=False) if o[1] == Op.MSGHDR]
        assert short[2] == arg and full[2] == arg | MSGHDR_CTL_FULL

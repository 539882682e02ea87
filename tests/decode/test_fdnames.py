"""Fds named at the stop: the plan's FD ops (bpfgen) and the decoder's
reading of what they carry (tracerd._wire's FD value), as strace prints
them with -y, -yy and --decode-fds. Records are built by hand; the real
tracer's side is tests/cli/test_fdnames.py."""

from __future__ import annotations

import pytest

from tracerd._wire import FD_RET, FD_SLOT, LEN_FIXED, LEN_NONE, LEN_RET, Op, Pers, PlanFlag, Rec, record
from tracerd.bpfgen import build_plan, compile_filter, instructions, load_table, parse_plan, trace_flags
from tracerd.client.decode import DecodeOptions, Decoder

TABLE = load_table()
NR = {n: TABLE.syscalls[n].numbers[Pers.X86_64] for n in ("read", "openat", "pipe2", "dup2", "socketpair", "close", "getpid", "poll", "pselect6", "sendto")}
ALL = frozenset({"path", "socket", "dev", "pidfd"})


def trace(*names):
    return frozenset((Pers.X86_64, NR[n]) for n in names)


def sysrec(name, args, ret, mem=(), tid=4242):
    args = list(args) + [0] * (6 - len(args))
    return record(Rec.SYSCALL, 1, 0, tid, tid, int(Pers.X86_64), NR[name], args, ret, False, 100, [list(m) for m in mem], None, 0)


def ops(plan, name):
    (e,) = [e for e in parse_plan(plan)["entries"] if e["nr"] == NR[name]]
    return [(o["phase"], o["kind"], o["arg"], o["len"], o["size"]) for o in e["ops"] if o["kind"] == Op.FD], e["flags"]


# --- the plan ---------------------------------------------------------------

def test_no_fd_ops_unless_asked():
    """Cost nothing when off: the plan and the filter are the ones without
    fd naming, byte for byte."""
    t = trace("read", "openat", "pipe2")
    assert all(o["kind"] != Op.FD for e in parse_plan(build_plan(t))["entries"] for o in e["ops"])
    assert build_plan(t) == build_plan(t, fds=())
    assert compile_filter(t) == compile_filter(t, fds=False)


def test_fd_ops_follow_the_table():
    plan = build_plan(trace("read", "openat", "pipe2", "dup2", "socketpair", "getpid"), fds={"path"})
    assert ops(plan, "read")[0] == [(0, Op.FD, 0, LEN_NONE, 0)]  # named at entry, as strace prints it
    assert ops(plan, "openat")[0] == [(0, Op.FD, 0, LEN_NONE, 0), (1, Op.FD, FD_RET, LEN_NONE, 0)]
    assert ops(plan, "dup2")[0] == [(0, Op.FD, 0, LEN_NONE, 0), (0, Op.FD, 1, LEN_NONE, 0), (1, Op.FD, FD_RET, LEN_NONE, 0)]
    assert ops(plan, "pipe2")[0] == [(1, Op.FD, 0, LEN_FIXED, 2)]  # the pair it wrote, at exit
    assert ops(plan, "socketpair")[0] == [(1, Op.FD, 3, LEN_FIXED, 2)]
    assert ops(plan, "getpid")[0] == []
    poll = build_plan(trace("poll"), fds={"path"})
    assert ops(poll, "poll")[0] == [(0, Op.FD, 0, 1, 8)]  # nfds (arg 1) struct pollfd of 8 bytes
    sel = build_plan(trace("pselect6"), fds={"path"})
    assert ops(sel, "pselect6")[0] == [(0, Op.FD, k, 0, 0) for k in (1, 2, 3)]  # bitmaps of nfds (arg 0) bits
    assert parse_plan(plan)["flags"] == 0  # path alone adds no detail
    full = parse_plan(build_plan(trace("read"), fds=ALL))["flags"]
    assert full == PlanFlag.FD_SOCKET | PlanFlag.FD_DEV | PlanFlag.FD_PIDFD
    # -y with a call whose data may be netlink messages: the socket's protocol
    # is still asked for (the decoder needs it; -y prints the link only)
    assert parse_plan(build_plan(trace("read", "sendto"), fds={"path"}))["flags"] == PlanFlag.FD_SOCKET


def test_filter_data_is_the_plan_flags_with_fds():
    """The 16 data bits of SECCOMP_RET_TRACE tell the loop to fetch: with fd
    names, close now fetches at entry, so the filter must say so."""
    t = trace("read", "close", "openat", "pipe2", "getpid")
    plan = parse_plan(build_plan(t, fds={"path"}))
    flags = {(e["pers"], e["nr"]): e["flags"] for e in plan["entries"]}
    assert flags == trace_flags(t, fds=True)
    assert flags[(Pers.X86_64, NR["close"])] & 0x2 and not trace_flags(t)[(Pers.X86_64, NR["close"])] & 0x2
    data = {k & 0xFFFF for code, _, _, k in instructions(compile_filter(t, fds=True)) if code == 0x06 and k >> 16 == 0x7FF0}
    assert data == set(flags.values())


def test_entry_only_names_no_returned_fd():
    plan = build_plan(trace("openat"), fds={"path"}, entry_only=True)
    assert ops(plan, "openat")[0] == [(0, Op.FD, 0, LEN_NONE, 0)]


@pytest.mark.parametrize("bad", [
    (0, Op.FD, FD_RET, LEN_NONE, 0),  # the return value at entry
    (1, Op.FD, FD_RET, LEN_FIXED, 2),  # the return value is no array
    (1, Op.FD, 0, LEN_FIXED, 65),  # too many fds
    (1, Op.FD, 7, LEN_NONE, 0),
    (1, Op.FD, 0, LEN_RET, 0),
    (0, Op.FD, 0, 1, 2),  # an element smaller than its fd
    (0, Op.FD, 0, 1, 65),
])
def test_bad_fd_ops_are_refused(bad):
    from tracerd._wire import PLAN_ENTRY, PLAN_HEADER, PLAN_MAGIC, PLAN_OP, PLAN_VERSION

    plan = PLAN_HEADER.pack(PLAN_MAGIC, PLAN_VERSION, 1, 32, 0) + PLAN_ENTRY.pack(0, 1, 0x7, NR["read"]) + PLAN_OP.pack(*bad)
    with pytest.raises(ValueError):
        parse_plan(plan)


def test_a_bad_decode_fds_set_is_refused():
    from tracerd._errors import UsageError

    with pytest.raises(UsageError):
        build_plan(trace("read"), fds={"paths"})


# --- the decoder ------------------------------------------------------------

def dec(**kw):
    return Decoder(DecodeOptions(**kw))


Y = dict(yflag=1, decode_fds=frozenset({"path"}))
YY = dict(yflag=2, decode_fds=ALL)


def test_read_prints_the_name_the_record_carries():
    # tid 4242 has no /proc entry here: the name can only come from the record
    r = sysrec("read", [3, 0x1000, 10], 3, [(0, FD_SLOT, b"/etc/hostname"), (1, 1, b"vm\n")])
    assert dec(**Y).call(r) == 'read(3</etc/hostname>, "vm\\n", 10) = 3'
    assert dec().call(r) == 'read(3, "vm\\n", 10) = 3'  # -P alone: the names are for matching only


def test_dup2_names_both_fds_at_entry_and_the_result_at_exit():
    r = sysrec("dup2", [4, 1], 1, [(0, FD_SLOT, b"pipe:[7]"), (0, FD_SLOT + 1, b"/dev/null"), (1, FD_SLOT + FD_RET, b"pipe:[7]")])
    assert dec(**Y).call(r) == "dup2(4<pipe:[7]>, 1</dev/null>) = 1<pipe:[7]>"


def test_pipe_pair_and_at_fdcwd():
    r = sysrec("pipe2", [0x1000, 0], 0, [(1, 0, b"\x03\0\0\0\x04\0\0\0"), (1, FD_SLOT, [b"pipe:[9]", b"pipe:[9]"])])
    assert dec(**Y).call(r) == "pipe2([3<pipe:[9]>, 4<pipe:[9]>], 0) = 0"
    o = sysrec("openat", [0xFFFFFF9C, 0x1000, 0], 3, [(0, 1, b"x\0"), (0, FD_SLOT, b"/tmp"), (1, FD_SLOT + FD_RET, b"/tmp/x")])
    assert dec(**Y).call(o) == 'openat(AT_FDCWD</tmp>, "x", O_RDONLY) = 3</tmp/x>'


def test_details_as_strace_prints_them():
    sock = [b"socket:[77]", b"TCP:[127.0.0.1:1->127.0.0.1:2]", False]
    r = sysrec("read", [5, 0x1000, 1], 0, [(0, FD_SLOT, sock), (1, 1, b"")])
    assert dec(**YY).call(r).startswith("read(5<TCP:[127.0.0.1:1->127.0.0.1:2]>, ")
    assert dec(**Y).call(r).startswith("read(5<socket:[77]>, ")  # -y: the link
    assert dec(decode_fds=frozenset({"socket"})).call(r).startswith("read(5<TCP:[")
    dev = [b"/dev/null", b"char 1:3", False]
    r = sysrec("read", [0, 0x1000, 1], 0, [(0, FD_SLOT, dev), (1, 1, b"")])
    assert dec(**YY).call(r).startswith("read(0</dev/null<char 1:3>>, ")
    assert dec(**Y).call(r).startswith("read(0</dev/null>, ")
    pid = [b"anon_inode:[pidfd]", b"pid:12", False]
    r = sysrec("close", [6], 0, [(0, FD_SLOT, pid)])
    assert dec(**YY).call(r) == "close(6<pid:12>) = 0"
    assert dec(**Y).call(r) == "close(6<anon_inode:[pidfd]>) = 0"
    gone = [b"/memfd:x", None, True]
    assert dec(**Y).call(sysrec("close", [3], 0, [(0, FD_SLOT, gone)])) == "close(3</memfd:x>(deleted)) = 0"
    # AT_FDCWD where a plain fd is expected is no cwd (the loop read it all the same)
    assert dec(**Y).call(sysrec("close", [0xFFFFFF9C], -9, [(0, FD_SLOT, b"/tmp")])).startswith("close(-100) = ")
    # not open at the stop: the number alone, as strace
    assert dec(**YY).call(sysrec("close", [9], -9, [(0, FD_SLOT, -9)])).startswith("close(9) = ")


def test_a_socket_whose_protocol_is_unknown_prints_its_link():
    r = sysrec("close", [5], 0, [(0, FD_SLOT, [b"socket:[5]", None, False])])
    assert dec(**YY).call(r) == "close(5<socket:[5]>) = 0"


def test_paths_are_quoted_as_strace_quotes_them():
    r = sysrec("close", [3], 0, [(0, FD_SLOT, b'/tmp/a<b>"c\n\x01')])
    assert dec(**Y).call(r) == 'close(3</tmp/a\\74b\\76\\"c\\n\\1>) = 0'


def test_paths_of_matches_fds_by_the_name_at_the_stop():
    """-P: an fd whose creating call was not traced still matches."""
    d = dec()
    r = sysrec("read", [3, 0x1000, 10], 3, [(0, FD_SLOT, b"/etc/hostname"), (1, 1, b"vm\n")])
    assert d.paths_of(r) == ["/etc/hostname"]
    o = sysrec("openat", [0xFFFFFF9C, 0x1000, 0], 3, [(0, 1, b"/etc/hostname\0"), (0, FD_SLOT, [b"/tmp", None, False])])
    assert d.paths_of(o) == ["/etc/hostname"]  # AT_FDCWD is no fd: strace does not match the cwd


def test_poll_fds_named_at_entry_and_its_result_bare():
    pfd = b"\x03\0\0\0\x01\0\0\0" + b"\x04\0\0\0\x04\0\0\0"
    out = b"\x03\0\0\0\x01\0\0\0" + b"\x04\0\0\0\x04\0\x04\0"
    r = sysrec("poll", [0x1000, 2, 0], 1, [(0, 0, pfd), (1, 0, out), (0, FD_SLOT, [b"pipe:[1]", b"/dev/null"])])
    assert dec(**Y).call(r) == "poll([{fd=3<pipe:[1]>, events=POLLIN}, {fd=4</dev/null>, events=POLLOUT}], 2, 0) = 1 ([{fd=4, revents=POLLOUT}])"
    assert dec().paths_of(r) == ["pipe:[1]", "/dev/null"]


def test_select_sets_named_at_entry():
    bits = (1 << 3 | 1 << 5).to_bytes(128, "little")
    r = sysrec("pselect6", [6, 0x1000, 0, 0, 0, 0], 1, [(0, 1, bits), (1, 1, (1 << 5).to_bytes(128, "little")),
                                                   (0, FD_SLOT + 1, [b"/dev/null", [b"socket:[9]", b"UDP:[0.0.0.0:53]", False]])])
    assert dec(**YY).call(r).startswith("pselect6(6, [3</dev/null> 5<UDP:[0.0.0.0:53]>], NULL, NULL, ")  # no detail recorded for 3
    assert dec(**Y).call(r).startswith("pselect6(6, [3</dev/null> 5<socket:[9]>], NULL, NULL, ")
    assert dec(**Y).call(r).endswith("= 1 (in [5])")
    assert dec().paths_of(r) == ["/dev/null", "socket:[9]"]

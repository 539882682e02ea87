"""The strace qualifier language: properties (hypothesis) and strace's errors."""

import re

import pytest

pytest.importorskip("pyseccomp")
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracerd import UnknownSyscall, UsageError
from tracerd._wire import X32_SYSCALL_BIT, Pers
from tracerd.bpfgen import Inject, NumberSet, Qualifiers, load_table

TABLE = load_table()
# names that select something on some personality
NAMES = sorted(n for n, sc in TABLE.syscalls.items() if sc.numbers or sc.subcall)
CLASS_TOKENS = ["%" + c for c in TABLE.classes] + ["%net"]
ALL = Qualifiers().trace
LEGACY_CLASSES = {"desc", "file", "memory", "process", "signal", "ipc", "network"}

names = st.sampled_from(NAMES)
tokens = st.one_of(names, st.sampled_from(CLASS_TOKENS))
pers_suffix = st.sampled_from(["", "@64", "@32", "@x32"])
quick = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def sel(expr):
    q = Qualifiers(TABLE)
    q.qualify(expr)
    return q.trace


@quick
@given(st.lists(tokens, min_size=1, max_size=6))
def test_a_list_is_the_union_of_its_tokens(toks):
    whole = sel("trace=" + ",".join(toks))
    union = frozenset().union(*(sel("trace=" + t) for t in toks))
    assert whole == union


@quick
@given(st.lists(tokens, min_size=1, max_size=4), st.integers(1, 4))
def test_bang_inverts_against_all(toks, bangs):
    expr = ",".join(toks)
    base = sel("trace=" + expr)
    got = sel("trace=" + "!" * bangs + expr)
    if bangs % 2:
        # the complement, except multiplexers still needed by other subcalls
        assert got & base <= {(Pers.I386, TABLE.syscalls[m].numbers[Pers.I386]) for m in TABLE.multiplexers}
        assert got | base == ALL
    else:
        assert got == base


@quick
@given(names, pers_suffix)
def test_personality_suffix_restricts(name, suffix):
    whole = sel(f"trace=?{name}")
    if suffix:
        pers = {"@64": Pers.X86_64, "@32": Pers.I386, "@x32": Pers.X32}[suffix]
        part = sel(f"trace=?{name}{suffix}")
        assert part == {(p, n) for p, n in whole if p == pers}


@quick
@given(names)
def test_name_regex_and_number_agree(name):
    if name in LEGACY_CLASSES:  # strace looks classes up first: trace=ipc is %ipc
        assert sel("trace=" + name) == sel("trace=%" + name)
        return
    by_name = sel("trace=" + name)
    assert sel("trace=/^" + re.escape(name) + "$") == by_name
    sc = TABLE.syscalls[name]
    for pers, nr in sc.numbers.items():
        assert (pers, nr) in by_name
        suffix = {Pers.X86_64: "@64", Pers.I386: "@32", Pers.X32: "@x32"}[pers]
        shown = nr & ~X32_SYSCALL_BIT
        got = sel(f"trace={shown}{suffix}")
        assert got == {(pers, nr)} or TABLE.lookup(pers, nr).name != name


@quick
@given(st.sampled_from(sorted(TABLE.classes)))
def test_class_is_its_members(cls):
    members = TABLE.classes[cls]
    expect = set()
    for n in members:
        sc = TABLE.syscalls[n]
        expect |= set(sc.numbers.items())
        if sc.subcall:
            expect.add((Pers.I386, TABLE.syscalls[sc.subcall[0]].numbers[Pers.I386]))
    assert sel("trace=%" + cls) == expect


def test_all_none_and_defaults():
    assert sel("trace=all") == ALL
    assert sel("trace=none") == frozenset()
    assert sel("trace=!none") == ALL
    assert sel("trace=!all") == frozenset()
    assert len(ALL) > 1000
    assert sel("all") == ALL  # legacy class "all" as a token
    assert sel("%net") == sel("%network") == sel("network")


def test_expr_without_name_is_trace_and_last_trace_wins():
    q = Qualifiers()
    q.qualify("open")
    q.qualify("trace=close")
    assert q.trace == sel("close")
    assert q.trace_given


def test_question_mark_tolerates_unknown():
    assert sel("trace=?nosuchcall") == frozenset()
    assert sel("trace=?nosuchcall,open") == sel("open")
    # a name known only on i386 is fine with @64 when prefixed by '?'
    assert sel("trace=?socketcall@64") == frozenset()
    with pytest.raises(UnknownSyscall, match="invalid system call 'socketcall@64'"):
        sel("trace=socketcall@64")


def test_i386_socket_calls_select_the_multiplexer():
    q = Qualifiers()
    q.qualify("trace=connect@32")
    assert q.trace == {(Pers.I386, 102), (Pers.I386, 362)}
    assert q.trace_subcalls == {"connect"}
    q.qualify("trace=accept")  # no direct i386 number: only socketcall
    assert (Pers.I386, 102) in q.trace and q.trace_subcalls == {"accept"}
    q.qualify("trace=shmget@32")
    assert q.trace == {(Pers.I386, 117), (Pers.I386, 395)}


@pytest.mark.parametrize(
    "expr, exc, message",
    [
        ("trace=opne", UnknownSyscall, "invalid system call 'opne'; did you mean 'open'?"),
        ("opne", UnknownSyscall, "invalid system call 'opne'; did you mean 'open'?"),
        ("trace=open,clsoe", UnknownSyscall, "invalid system call 'clsoe'; did you mean 'close'?"),
        ("trace=%fil", UnknownSyscall, "invalid system call '%fil'; did you mean '%file'?"),
        ("trace=qqqqqq", UnknownSyscall, "invalid system call 'qqqqqq'"),
        ("trace=", UnknownSyscall, "invalid system call ''"),
        ("trace=,", UnknownSyscall, "invalid system call ','"),
        ("trace=%file,!close", UnknownSyscall, "invalid system call '!close'; did you mean 'close'?"),
        ("foo=bar", UnknownSyscall, "invalid system call 'foo=bar'"),
        ("trace=/^nomatch$", UnknownSyscall, "invalid system call '/^nomatch$'"),
        ("trace=open@65", UsageError, "incorrect personality designator '65' in qualification 'open@65'"),
        ("trace=/(", UsageError, "regcomp: (: "),
        ("trace=99999", UnknownSyscall, "invalid system call '99999'"),
        ("signal=SIGFOO", UsageError, "invalid signal 'SIGFOO'"),
        ("signal=", UsageError, "invalid signal ''"),
        ("status=bad", UsageError, "invalid status 'bad'"),
        ("read=x", UsageError, "invalid descriptor 'x'"),
        ("write=-1", UsageError, "invalid descriptor '-1'"),
        ("quiet=foo", UsageError, "invalid quiet 'foo'"),
        ("decode-fds=foo", UsageError, "invalid decode-fds 'foo'"),
        ("inject=open", UsageError, "invalid inject argument 'open'"),
        ("inject=open:error=EFOO", UsageError, "invalid inject argument 'open:error=EFOO'"),
        ("inject=open:error=2:retval=1", UsageError, "invalid inject argument"),
        ("inject=open:when=0:error=1", UsageError, "invalid inject argument"),
        ("inject=open:when=5..3:error=1", UsageError, "invalid inject argument"),
        ("inject=open:signal=SIGNOPE", UsageError, "invalid inject argument"),
        ("inject=open:syscall=open:error=1", UsageError, "invalid inject argument"),
        ("inject=open:syscall=getpid", UsageError, "invalid inject argument 'open:syscall=getpid'"),
        ("inject=open:retval=0x1g", UsageError, "invalid inject argument"),
        ("inject=open:retval=18446744073709551616", UsageError, "invalid inject argument"),
        ("inject=open:poke_enter=@arg9=00", UsageError, "invalid inject argument"),
        ("fault=open:retval=1", UsageError, "invalid fault argument 'open:retval=1'"),
        ("inject=opne:error=1", UnknownSyscall, "invalid system call 'opne'"),
    ],
)
def test_errors_in_straces_words(expr, exc, message):
    with pytest.raises(exc) as info:
        Qualifiers().qualify(expr)
    assert type(info.value) is exc
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_signal_sets():
    q = Qualifiers()
    assert 17 in q.signals  # default all
    q.qualify("signal=SIGCHLD,term,9")
    assert q.signals == {17, 15, 9}
    q.qualify("s=!SIGCHLD")
    assert 17 not in q.signals and 15 in q.signals
    q.qualify("signal=none")
    assert q.signals == frozenset()
    q.qualify("signal=SIGRT_2,rtmin,0,255")
    assert q.signals == {34, 32, 0, 255}
    for bad in ("SIGRTMIN+2", "SIGIOT", "SIGCLD", "256", "RTMAX"):  # strace refuses these too
        with pytest.raises(UsageError, match=f"invalid signal '{re.escape(bad)}'"):
            q.qualify("signal=" + bad)


def test_status_and_z():
    q = Qualifiers()
    assert q.status == {"successful", "failed", "unfinished", "unavailable", "detached"}
    q.qualify("status=successful")  # -z
    assert q.status == {"successful"}
    q.qualify("status=failed")  # -Z
    assert q.status == {"failed"}
    q.qualify("status=!failed,unfinished")
    assert q.status == {"successful", "unavailable", "detached"}


def test_fd_sets_may_be_cofinite():
    q = Qualifiers()
    assert 3 not in q.read_fds
    q.qualify("read=3,5")
    assert q.read_fds == {3, 5} and list(q.read_fds) == [3, 5]
    q.qualify("write=!3")
    assert 3 not in q.write_fds and 1000 in q.write_fds
    q.qualify("w=all")
    assert 0 in q.write_fds
    assert NumberSet([1], inverted=True) != NumberSet([1])


def test_quiet_and_decode_fds():
    q = Qualifiers()
    q.qualify("quiet=attach,exits,superseded")
    assert q.quiet == {"attach", "exit", "thread-execve"}
    q.qualify("quiet=all")
    assert "personality" in q.quiet
    q.qualify("decode-fds=path,socket")
    assert q.decode_fds == {"path", "socket"}
    q.qualify("decode-fds=all")
    assert q.decode_fds == {"path", "socket", "dev", "pidfd"}


def test_abbrev_verbose_raw_are_syscall_sets():
    q = Qualifiers()
    assert q.abbrev == ALL and q.verbose == ALL and q.raw == frozenset()
    q.qualify("raw=open")
    q.qualify("abbrev=none")
    q.qualify("verbose=!%file")
    assert q.raw == sel("open") and q.abbrev == frozenset()
    assert not q.verbose & (sel("%file") - {(Pers.I386, 102), (Pers.I386, 117)})


def test_inject_rules():
    q = Qualifiers()
    q.qualify("inject=openat:error=ENOENT:when=3..5+2")
    q.qualify("fault=close")
    q.qualify("inject=read:retval=0x10:signal=USR1:delay_enter=10ms:delay_exit=5")
    q.qualify("inject=getppid@64:syscall=getpid:retval=0:when=2+")
    q.qualify("inject=write:poke_enter=@arg2=0a0b,@arg3=ff")
    a, b, c, d, e = q.inject
    assert isinstance(a, Inject) and a.error == 2 and (a.first, a.last, a.step) == (3, 5, 2)
    assert a.syscalls == sel("openat")
    assert b.fault and b.error == 38 and (b.first, b.step) == (1, 1)  # ENOSYS by default
    assert c.retval == 16 and c.signal == 10 and c.delay_enter_ns == 10_000_000 and c.delay_exit_ns == 5000
    assert d.syscall == "getpid" and (d.first, d.last, d.step) == (2, 0xFFFF, 1)
    assert d.syscalls == {(Pers.X86_64, 110)}
    assert e.poke_enter == ((2, b"\x0a\x0b"), (3, b"\xff"))
    q.qualify("inject=open:error=1:when=4")
    assert (q.inject[-1].first, q.inject[-1].step) == (4, 0)


def test_P_selects_calls_with_a_path_or_fd():
    q = Qualifiers()
    q.add_path("/etc/passwd")
    q.add_path("/tmp")
    assert q.paths == ("/etc/passwd", "/tmp")
    names = {TABLE.lookup(p, n).name for p, n in q.trace}
    assert {"openat", "read", "close", "execve", "stat", "connect", "fstat"} <= names
    assert not {"getpid", "brk", "exit_group", "rt_sigaction"} & names
    q.qualify("trace=openat")  # explicit trace= wins: the consumer filters by path
    assert q.trace == sel("openat")
    with pytest.raises(UsageError):
        q.add_path("")


@quick
@given(st.lists(st.one_of(tokens, st.builds(lambda n, s: n + s, names, st.sampled_from(["@64", "@32", "@x32"]))), min_size=1, max_size=5),
       st.booleans())
def test_numbers_round_trip(toks, invert):
    """Any selection, written back as NR@PERS tokens, parses to itself."""
    q = Qualifiers(TABLE)
    q.qualify("trace=" + ("!" if invert else "") + ",".join("?" + t for t in toks))
    ints = {(p, k) for p, k in q.selection("trace") if isinstance(k, int)}
    if not ints:
        return
    designator = {Pers.X86_64: "64", Pers.I386: "32", Pers.X32: "x32"}
    expr = ",".join(f"{k & ~X32_SYSCALL_BIT}@{designator[p]}" for p, k in sorted(ints))
    again = Qualifiers(TABLE)
    again.qualify("trace=" + expr)
    assert again.selection("trace") == ints


def test_selection_keeps_subcalls_apart():
    q = Qualifiers()
    q.qualify("trace=!362@32")  # every call but i386's direct connect
    sel_ = q.selection("trace")
    assert (Pers.I386, "connect") in sel_ and (Pers.I386, 362) not in sel_
    assert (Pers.I386, 102) in q.trace  # socketcall still traced for the other subcalls
    assert Qualifiers().selection("abbrev") == Qualifiers().selection("trace")


def test_inject_retval_like_strtoull():
    q = Qualifiers()
    for text, want in (("010", 8), ("0x10", 16), ("+5", 5), (" 5", 5), ("-1", (1 << 64) - 1), ("0", 0)):
        q.qualify("inject=open:retval=" + text)
        assert q.inject[-1].retval == want, text


def test_inject_error_names():
    q = Qualifiers()
    q.qualify("inject=read:error=eacces")
    q.qualify("inject=read:error=ERESTARTSYS")
    q.qualify("inject=read:error=4095")
    assert [i.error for i in q.inject] == [13, 512, 4095]
    with pytest.raises(UsageError, match="invalid inject argument"):
        q.qualify("inject=read:error=4096")

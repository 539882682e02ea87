"""The printer against strace's own output layout (lines checked against
strace 6.1 on this machine), with records built by tracerd._wire.record."""

from __future__ import annotations

import io
import json

import msgpack

from tracerd._wire import FIELDS, Rec, SysFlag

from cli_helpers import BrokenDecoder, options, run_printer


def write(recs, tid, text=b"x\n", **kw):
    return recs.call(tid, 1, len(text), args=(1, 0x1000, len(text)), mem=[(0, 1, text)], **kw)


READ_ARGS = (0, 0x1000, 10)


def test_alignment_at_column_40(recs):
    out, _ = run_printer(options(), [recs.call(100, 3, 0, args=(3,)), recs.call(100, 231, None, args=(0,)), recs.exited(100, 0)])
    # strace: `close(3)` + spaces so that "=" sits at column 40
    assert out.splitlines()[0] == "close(3)" + " " * 32 + "= 0"
    assert out.splitlines()[0].index("=") == 40
    assert out.splitlines()[1] == "exit_group(0)" + " " * 27 + "= ?"
    assert out.splitlines()[2] == "+++ exited with 0 +++"


def test_long_lines_get_one_space(recs):
    path = b"/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache\0"
    out, _ = run_printer(options(), [recs.call(100, 257, 3, args=(0xFFFFFF9C, 0x1000, 0), mem=[(0, 1, path)])])
    assert out == 'openat(AT_FDCWD, "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache", O_RDONLY) = 3\n'



def test_errors_and_T(recs):
    out, _ = run_printer(options(syscall_times=True), [recs.call(100, 257, 2, err=True, dur=123_456)])
    assert out.endswith(" = -1 ENOENT (No such file or directory) <0.000123>\n")


def test_T_precision_ns(recs):
    out, _ = run_printer(options(syscall_times=True, dur_precision=9), [recs.call(100, 3, 0, dur=123_456)])
    assert out.endswith("= 0 <0.000123456>\n")


def test_no_pid_prefix_with_one_process_even_with_f(recs):
    out, _ = run_printer(options(follow=1), [recs.call(100, 3), recs.exited(100)])
    assert not out.startswith("[pid")


def test_pid_prefix_when_several_live(recs):
    rs = [
        recs.newtask(100, 101),
        write(recs, 101),
        recs.call(100, 61, 101),
        recs.exited(101, 3),
        recs.call(100, 3, 0),
        recs.exited(100, 0),
    ]
    out, notes = run_printer(options(follow=1), rs)
    lines = out.splitlines()
    # the prefix counts: "=" at column 40 of the whole line, as strace
    assert lines[0] == '[pid   101] write(1, "x\\n", 2)' + " " * 10 + "= 2"
    assert lines[1].startswith("[pid   100] wait4(")
    assert lines[2] == "[pid   101] +++ exited with 3 +++"
    # the child is gone: one process again, no prefix (as strace)
    assert lines[3].startswith("close(")
    assert lines[4] == "+++ exited with 0 +++"
    assert notes == "tracectl: Process 101 attached\n"


def test_children_hidden_without_f(recs):
    rs = [recs.newtask(100, 101), recs.call(101, 1, 3), recs.exited(101, 3), recs.call(100, 3), recs.exited(100)]
    out, notes = run_printer(options(follow=0), rs)
    assert "write" not in out and "101" not in out
    assert out.splitlines()[0].startswith("close(")
    assert notes == ""


def test_output_file_pid_prefix_with_f(recs):
    out, _ = run_printer(options(follow=1, output="/tmp/x"), [write(recs, 100), recs.exited(100)])
    # strace -f -o FILE: "%-5d " even while one process is traced
    assert out.splitlines() == ['100   write(1, "x\\n", 2)' + " " * 16 + "= 2", "100   +++ exited with 0 +++"]


def test_unfinished_and_resumed(recs):
    rs = [
        recs.newtask(100, 101),
        recs.entry(101, 0, args=(0, 0x1000, 1)),
        write(recs, 100),
        recs.exit_(101, 0, 1, dur=295_451_000, mem=[(1, 1, b"a")]),
    ]
    out, _ = run_printer(options(follow=1, syscall_times=True), rs)
    lines = out.splitlines()
    assert lines[0] == "[pid   101] read(0,  <unfinished ...>"
    assert lines[1].startswith('[pid   100] write(1, "x\\n", 2)')
    # strace: `[pid  5031] <... read resumed>"a", 1)   = 1 <0.295451>`
    assert lines[2] == '[pid   101] <... read resumed>"a", 1)   = 1 <0.295451>'


def test_entry_then_exit_same_task_joins_the_line(recs):
    out, _ = run_printer(options(), [recs.entry(100, 0, args=READ_ARGS), recs.exit_(100, 0, 3, mem=[(1, 1, b"abc")])])
    assert out == 'read(0, "abc", 10)' + " " * 22 + "= 3\n"


def test_killed_inside_a_call(recs):
    rs = [recs.newtask(100, 101), recs.entry(101, 0, args=READ_ARGS), write(recs, 100), recs.killed(101, 9), recs.killed(100, 9)]
    out, _ = run_printer(options(follow=1), rs)
    lines = out.splitlines()
    # strace: `[pid  5132] <... read resumed> <unfinished ...>) = ?`
    assert lines[2] == "[pid   101] <... read resumed> <unfinished ...>) = ?"
    assert lines[3] == "[pid   101] +++ killed by SIGKILL +++"
    assert lines[4] == "+++ killed by SIGKILL +++"


def test_vanished_whole_call(recs):
    out, _ = run_printer(options(), [recs.call(100, 0, None, flags=SysFlag.VANISHED)])
    assert out == "read(1,  <unfinished ...>)" + " " * 14 + "= ?\n"


def test_killed_core_and_signals(recs):
    sig = recs.signal(100, 17)
    sig[-1] = bytes([17, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]) + b"\0" * 116  # si_signo, si_errno, si_code=CLD_EXITED
    rs = [sig, recs.stopped(100, 19), recs.killed(100, 11, core=True)]
    out, _ = run_printer(options(), rs)
    lines = out.splitlines()
    assert lines[0].startswith("--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, ")
    assert lines[1:] == ["--- stopped by SIGSTOP ---", "+++ killed by SIGSEGV (core dumped) +++"]


def test_signal_none_hides_signals_and_killed(recs):
    out, _ = run_printer(options(signals=frozenset()), [recs.signal(100, 17), recs.killed(100, 9)])
    assert out == ""


def test_qq_hides_exit_keeps_killed(recs):
    opts = options(quiet=frozenset({"attach", "personality", "exit"}))
    out, _ = run_printer(opts, [recs.exited(100, 0)])
    assert out == ""
    out, _ = run_printer(opts, [recs.killed(100, 9)])
    assert out == "+++ killed by SIGKILL +++\n"


def test_status_filters(recs):
    rs = [recs.call(100, 3, 0), recs.call(100, 257, 2, err=True), recs.call(100, 231, None)]
    ok, _ = run_printer(options(status=frozenset({"successful"})), rs)
    assert [l.split("(")[0] for l in ok.splitlines()] == ["close"]
    bad, _ = run_printer(options(status=frozenset({"failed"})), rs)
    assert [l.split("(")[0] for l in bad.splitlines()] == ["openat"]


def test_status_filter_holds_entries(recs):
    # with a status filter the entry is held and printed whole at exit
    rs = [recs.entry(100, 0, args=READ_ARGS), recs.exit_(100, 0, 11, err=True)]
    out, _ = run_printer(options(status=frozenset({"failed"})), rs)
    assert out == "read(0, 0x1000, 10)" + " " * 21 + "= -1 EAGAIN (Resource temporarily unavailable)\n"
    out, _ = run_printer(options(status=frozenset({"successful"})), rs)
    assert out == ""


def test_trace_path(recs):
    op = lambda p: recs.call(100, 257, 3, args=(0xFFFFFF9C, 0x1000, 0), mem=[(0, 1, p + b"\0")])  # noqa: E731
    out, _ = run_printer(options(paths=("/etc/passwd",)), [recs.call(100, 3, args=(99,)), op(b"/etc/group"), op(b"/etc/passwd")])
    assert out.splitlines() == ['openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3']


def test_undecodable_record_shows_raw_args(recs):
    out, _ = run_printer(options(), [recs.call(100, 999, 5, args=(1, 0x10, 0, 0, 0, 0)), recs.call(100, 3)], decoder=BrokenDecoder())
    lines = out.splitlines()
    assert lines[0].startswith("syscall_0x3e7(0x1, 0x10, 0, 0, 0, 0)")
    assert lines[0].endswith("= 5")
    assert lines[1].startswith("close(")


def test_timestamps(recs):
    rec = recs.call(100, 3)
    ts = rec[2]
    out, _ = run_printer(options(tflag=3, ts_format="unix", ts_precision=6), [rec])
    assert out.startswith(f"{ts // 10**9}.{ts // 1000 % 10**6:06d} close(")
    out, _ = run_printer(options(tflag=2, ts_format="time", ts_precision=6), [rec])
    import re

    assert re.match(r"\d\d:\d\d:\d\d\.\d{6} close\(", out)
    out, _ = run_printer(options(tflag=1, ts_format="time", ts_precision=0), [rec])
    assert re.match(r"\d\d:\d\d:\d\d close\(", out)


def test_relative_timestamps(recs):
    rs = [recs.call(100, 3), recs.call(100, 3, dt=1_500_000)]
    out, _ = run_printer(options(relative=True), rs)
    assert out.splitlines()[0].startswith("     0.000000 close(")
    assert out.splitlines()[1].startswith("     0.001500 close(")
    out, _ = run_printer(options(relative=True, tflag=2, ts_format="time", ts_precision=6), rs)
    assert "(+     0.001500) close(" in out.splitlines()[1]


def test_syscall_number(recs):
    out, _ = run_printer(options(syscall_number=True), [recs.call(100, 3)])
    assert out.startswith("[   3] close(")


def test_ff_one_file_per_pid(recs, tmp_path):
    base = tmp_path / "trace"
    rs = [recs.newtask(100, 101), recs.entry(101, 0, args=READ_ARGS), write(recs, 100), recs.exit_(101, 0, 1, mem=[(1, 1, b"a")]), recs.exited(101), recs.exited(100)]
    out, _ = run_printer(options(follow=2, output=str(base)), rs, out=io.StringIO())
    a = (tmp_path / "trace.100").read_text()
    b = (tmp_path / "trace.101").read_text()
    assert a.splitlines() == ['write(1, "x\\n", 2)' + " " * 22 + "= 2", "+++ exited with 0 +++"]
    # another task's line does not interrupt this file's open line
    assert b.splitlines() == ['read(0, "a", 10)' + " " * 24 + "= 1", "+++ exited with 0 +++"]
    assert out == ""


def test_attach_notes(recs):
    opts = options(attach=True)
    _, notes = run_printer(opts, [recs.attach(100), recs.detach(100)])
    assert notes == "tracectl: Process 100 attached\ntracectl: Process 100 detached\n"
    _, notes = run_printer(options(attach=True, quiet=frozenset({"attach"})), [recs.attach(100), recs.detach(100)])
    assert notes == ""


def test_summary_only_prints_no_trace(recs):
    rs = [recs.call(100, 3, 0, cpu=2_000), recs.call(100, 3, 0, cpu=4_000), recs.call(100, 257, 2, err=True, cpu=10_000), recs.call(100, 231, None), recs.exited(100)]
    out, _ = run_printer(options(summary=1), rs)
    assert out.splitlines() == [
        "% time     seconds  usecs/call     calls    errors syscall",
        "------ ----------- ----------- --------- --------- ----------------",
        " 62.50    0.000010          10         1         1 openat",
        " 37.50    0.000006           3         2           close",
        "------ ----------- ----------- --------- --------- ----------------",
        "100.00    0.000016           5         3         1 total",
    ]


def test_summary_C_wall_and_sort(recs):
    rs = [recs.call(100, 3, 0, dur=2_000, cpu=1), recs.call(100, 3, 0, dur=2_000, cpu=1), recs.call(100, 1, 1, dur=10_000, cpu=1)]
    out, _ = run_printer(options(summary=2, wall=True, sortby="calls"), rs)
    lines = out.splitlines()
    assert lines[0].startswith("close(") and lines[2].startswith("write(")
    assert lines[5].endswith(" close") and lines[5].startswith(" 28.57    0.000004           2         2")
    assert lines[6].endswith(" write")
    assert lines[-1] == "100.00    0.000014           4         3           total"


def test_summary_columns_and_empty(recs):
    out, _ = run_printer(options(summary=1, columns=("calls", "name")), [recs.call(100, 3, cpu=5)])
    assert out.splitlines() == ["    calls syscall", "--------- ----------------", "        1 close", "--------- ----------------", "        1 total"]
    out, _ = run_printer(options(summary=1), [recs.exited(100)])
    assert out == ""


def test_jsonl_fields_documented(recs):
    import pathlib

    from tracerd.client._jsonl import JSON_FIELDS

    rs = [
        recs.newtask(100, 101),
        recs.call(101, 257, 2, err=True, args=(0xFFFFFF9C, 0x1000, 0), mem=[(0, 1, b"/x\0")]),
        recs.entry(100, 0, args=READ_ARGS),
        recs.exit_(100, 0, 3, mem=[(1, 1, b"abc")]),
        recs.signal(100, 17),
        recs.call(101, 999, 0),
        recs.killed(101, 9),
        recs.exited(100, 0),
    ]
    out, _ = run_printer(options(fmt="jsonl", follow=1), rs, decoder=BrokenDecoder())
    objs = [json.loads(l) for l in out.splitlines()]
    assert [o["type"] for o in objs] == ["newtask", "syscall", "syscall_entry", "syscall_exit", "signal", "syscall", "killed", "exit"]
    assert objs[1]["syscall"] == "openat" and objs[1]["errno"] == "ENOENT" and objs[1]["retval"].startswith("-1 ENOENT")
    assert objs[1]["text"] == 'openat(AT_FDCWD, "/x", O_RDONLY) = -1 ENOENT (No such file or directory)'
    assert objs[3]["text"] == '"abc", 10) = 3'
    assert objs[4]["signal"] == "SIGCHLD" and objs[4]["siginfo"] == "00" * 128
    assert objs[5]["syscall"] == "syscall_0x3e7"
    assert objs[5]["text"] is None and "cannot decode" in objs[5]["decode_error"]
    emitted = {k for o in objs for k in o}
    doc = (pathlib.Path(__file__).parents[2] / "docs" / "jsonl.md").read_text()
    for k in emitted | set(JSON_FIELDS):
        assert f"`{k}`" in doc, f"field {k} is not documented in docs/jsonl.md"
    for t, names in FIELDS.items():
        assert f"`{t.name.lower()}`" in doc


def test_msgpack_is_the_raw_records(recs):
    rs = [recs.call(100, 3), recs.exited(100)]
    buf = io.BytesIO()
    run_printer(options(fmt="msgpack"), rs, out=buf)
    assert list(msgpack.Unpacker(io.BytesIO(buf.getvalue()), raw=False)) == rs


def test_summary_with_rich_on_a_terminal(recs):
    class TTY(io.StringIO):
        def isatty(self):
            return True

    out = TTY()
    run_printer(options(summary=1), [recs.call(100, 3, 0, cpu=2_000), recs.call(100, 257, 2, err=True, cpu=10_000)], out=out)
    text = out.getvalue()
    assert "------ -----------" not in text  # not the plain layout
    rows = [l.split() for l in text.splitlines() if "openat" in l or "close" in l]
    assert rows == [["83.33", "0.000010", "10", "1", "1", "openat"], ["16.67", "0.000002", "2", "1", "close"]]
    assert "total" in text


def test_attach_note_counts_threads_with_f(recs):
    from tracerd._wire import Pers, record

    thr = record(Rec.ATTACH, 90, recs.ts, 101, 100)
    _, notes = run_printer(options(attach=True, follow=1), [recs.attach(100), thr, recs.call(100, 3)])
    assert notes == "tracectl: Process 100 attached with 2 threads\n"
    # without -f only the named process itself is shown
    _, notes = run_printer(options(attach=True), [recs.attach(100), thr, recs.call(100, 3)])
    assert notes == "tracectl: Process 100 attached\n"


def test_launcher_calls_before_exec_are_hidden(recs):
    from tracerd.client._output import Printer
    from tracerd.client.decode import Decoder

    failed_exec = recs.call(100, 59, 8, err=True, args=(0x1000, 0, 0), mem=[(0, 0, b"/etc/hostname\0")])
    rs = [failed_exec, write(recs, 100), recs.call(100, 231, None, args=(1,)), recs.exited(100, 1)]
    out = io.StringIO()
    p = Printer(options(), Decoder(), out, notes=io.StringIO(), roots=[100], launched=True)
    for r in rs:
        p.feed(r)
    p.finish()
    lines = out.getvalue().splitlines()
    # strace shows the failed execve and the exit, not its own child's message
    assert lines[0].startswith('execve("/etc/hostname", ') and lines[0].endswith("= -1 ENOEXEC (Exec format error)")
    assert lines[1:] == ["+++ exited with 1 +++"]


def test_several_attached_pids_prefix_lines(recs):
    # strace -p A -p B: "[pid N] " on stderr, "N     " in an -o file, from the start
    rs = [recs.attach(100), recs.attach(200), recs.call(100, 3, args=(3,)), recs.call(200, 3, args=(4,))]
    out, notes = run_printer(options(attach=True), rs, roots=(100, 200))
    assert out.splitlines()[0].startswith("[pid   100] close(3)")
    assert out.splitlines()[1].startswith("[pid   200] close(4)")
    assert notes == "tracectl: Process 100 attached\ntracectl: Process 200 attached\n"
    out, _ = run_printer(options(attach=True, output="/x"), rs, roots=(100, 200))
    assert out.splitlines()[0].startswith("100   close(3)")


def test_i386_socketcall_subcalls_filtered(recs):
    from tracerd._wire import Pers, record

    def sc(sub, tid=100):
        recs.seq += 1
        return record(Rec.SYSCALL, recs.seq, recs.ts, tid, tid, Pers.I386, 102, [sub, 0x1000, 0, 0, 0, 0], 0, False, 10, [], None, 4)

    rs = [sc(1), sc(3), sc(2)]
    q32 = frozenset({"personality"})  # not the "[ Process PID=100 runs in 32 bit mode. ]" note
    out, _ = run_printer(options(quiet=q32, subcalls=frozenset({"connect"})), rs)
    assert len(out.splitlines()) == 1 and "connect" in out.lower()
    out, _ = run_printer(options(quiet=q32, subcalls=None), rs)
    assert len(out.splitlines()) == 3
    # an entry hidden at entry hides its exit too
    e = record(Rec.SYSCALL_ENTRY, 50, recs.ts, 100, 100, Pers.I386, 102, [1, 0x1000, 0, 0, 0, 0], [], 0)
    x = record(Rec.SYSCALL_EXIT, 51, recs.ts, 100, 100, Pers.I386, 102, 3, False, 10, [], None, 0)
    out, _ = run_printer(options(quiet=q32, subcalls=frozenset({"connect"})), [e, x, sc(3)])
    assert len(out.splitlines()) == 1 and "connect" in out.lower()


def test_subcalls_from_qualifiers():
    from tracerd.bpfgen import Qualifiers
    from tracerd.client._options import _subcalls

    for expr, want in [("trace=connect", {"connect"}), ("trace=all", None), ("trace=socketcall", None), ("trace=read", None)]:
        q = Qualifiers()
        q.qualify(expr)
        assert _subcalls(q) == (frozenset(want) if want else None), expr


def test_summary_overhead_and_unsorted(recs):
    rs = [recs.call(100, 257, 3, cpu=5_000), recs.call(100, 3, 0, cpu=9_000), recs.call(100, 3, 0, cpu=1_000)]
    out, _ = run_printer(options(summary=1, sortby="nothing", overhead_ns=2_000), rs)
    lines = out.splitlines()
    # -S nothing: number order (close=3 before openat=257); -O 2us off each call, never below 0
    assert lines[2].split()[-1] == "close" and lines[3].split()[-1] == "openat"
    assert lines[2].split()[1] == "0.000007" and lines[3].split()[1] == "0.000003"
    assert lines[-1].split()[1] == "0.000010"


def test_child_announced_before_its_first_line_not_inside_one(recs):
    # a child can stop (and be recorded) before its parent's fork event
    # arrives: the note comes once, before the child's first line; and a
    # note never lands inside an open line on the shared stream
    from tracerd.client._output import Printer
    from tracerd.client.decode import Decoder

    opts = options(follow=1)
    both = io.StringIO()
    p = Printer(opts, Decoder(opts.decode), both, notes=both, roots=(100,))
    for r in [recs.entry(100, 61), recs.entry(101, 39), recs.newtask(100, 101), recs.exit_(101, 39, ret=1), recs.exited(101),
              recs.exit_(100, 61, ret=101), recs.entry(100, 61), recs.newtask(100, 102)]:
        p.feed(r)
    p.finish()
    assert both.getvalue().splitlines() == [
        "wait4(0,  <unfinished ...>",
        "tracectl: Process 101 attached",
        "[pid   101] getpid()                    = 1",
        "[pid   101] +++ exited with 0 +++",
        "<... wait4 resumed>NULL, WNOHANG|WSTOPPED, NULL) = 101",  # strace 6.1 names 2 WSTOPPED
        "wait4(0,  <unfinished ...>",
        "tracectl: Process 102 attached",
    ]


def test_32_bit_mode_note_for_a_task_first_seen_in_i386(recs):
    """strace's note when a call comes in another personality than the task
    was known in (an attached 32-bit process); once per change, children
    inherit their parent's, -q (quiet=personality) hides it."""
    from tracerd._wire import Pers, record

    def c(tid, pers=Pers.I386, nr=20):
        recs.seq += 1
        return record(Rec.SYSCALL, recs.seq, recs.ts, tid, tid, pers, nr, [0] * 6, tid, False, 10, [], None, 0)

    rs = [c(100), c(100), recs.newtask(100, 101), c(101)]
    out, _ = run_printer(options(follow=1), rs)
    notes = [l for l in out.splitlines() if "mode. ]" in l]
    assert notes == ["[ Process PID=100 runs in 32 bit mode. ]"]
    out, _ = run_printer(options(follow=1, quiet=frozenset({"personality"})), rs)
    assert "mode. ]" not in out


def test_32_bit_mode_note_follows_the_execve_even_split_after_the_exec(recs):
    """The exec event can come before the execve's entry record (a call
    split by the flush tick after the event): the note still follows the
    execve's line, as strace prints it at the execve's exit."""
    from tracerd._wire import Pers, record

    ex = record(Rec.EXEC, 1, recs.ts, 100, 100, 100, ext={"pers": int(Pers.I386)})
    en = record(Rec.SYSCALL_ENTRY, 2, recs.ts, 100, 100, Pers.X86_64, 59, [0] * 6, [], 0)
    xt = record(Rec.SYSCALL_EXIT, 3, recs.ts, 100, 100, Pers.X86_64, 59, 0, False, 10, [], None, 0)
    gp = record(Rec.SYSCALL, 4, recs.ts, 100, 100, Pers.I386, 20, [0] * 6, 100, False, 10, [], None, 0)
    for rs in ([ex, en, xt, gp], [en, ex, xt, gp]):
        out, _ = run_printer(options(), rs)
        lines = out.splitlines()
        assert lines[0].startswith("execve(") and lines[0].endswith("= 0"), out
        assert lines[1:] == ["[ Process PID=100 runs in 32 bit mode. ]", "getpid()                                = 100"], out

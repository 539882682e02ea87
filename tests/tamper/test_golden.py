"""Tampering against strace 6.1, line for line: each action, when= in all
its forms, strace's rules for several expressions, multi-threaded and forked
tracees (counters per thread), the i386 personality, and the seed case."""

from __future__ import annotations

import re
import subprocess

import pytest

from . import _tamper as T

pytestmark = pytest.mark.skipif(T.skip_reason() is not None, reason=T.skip_reason() or "")


@pytest.fixture(scope="module")
def prog(tmp_path_factory):
    return T.build(tmp_path_factory.mktemp("tamper"))


def _same(tmp, argv, opts):
    (ref, ref_out, ref_rc), (ours, out, rc) = T.run_both(tmp, argv, opts)
    assert ref, "strace printed nothing"
    assert ours == ref
    assert out == ref_out  # the tracee saw the same results
    assert rc == ref_rc
    return ref


SEQ = {
    # actions
    "error": ["trace=chdir", "inject=chdir:error=ENOENT:when=3"],
    "error-number": ["trace=chdir", "inject=chdir:error=22:when=2"],
    "retval": ["trace=chdir", "inject=chdir:retval=42:when=2"],
    "retval-read": ["trace=read", "inject=read:retval=2"],
    # strace prints an injected retval= unsigned, even in the error range
    "retval-minus-1": ["trace=chdir", "inject=chdir:retval=-1:when=2"],
    "retval-big": ["trace=chdir", "inject=chdir:retval=18446744073709551000:when=2"],
    "syscall": ["trace=chdir", "inject=chdir:syscall=getppid:error=EPERM:when=2"],
    "syscall-retval": ["trace=chdir", "inject=chdir:syscall=getpid:retval=7:when=4"],
    "fault": ["trace=chdir,close", "fault=close"],
    "fault-when": ["trace=chdir", "fault=chdir:error=EACCES:when=2+3"],
    "signal": ["trace=chdir", "inject=chdir:signal=USR1:when=2"],
    "signal-error": ["trace=chdir", "inject=chdir:signal=SIGUSR1:error=EIO:when=5"],
    "poke-enter": ["trace=chdir", "inject=chdir:poke_enter=@arg1=2f00:when=2"],
    "poke-exit": ["trace=chdir", "inject=chdir:poke_exit=@arg1=2f00:when=2"],
    "poke-error": ["trace=chdir", "inject=chdir:poke_enter=@arg1=2f00:error=EPERM:when=2"],
    "poke-exit-retval": ["trace=chdir", "inject=chdir:poke_exit=@arg1=0x2f00:retval=3:when=2"],
    "poke-two": ["trace=chdir", "inject=chdir:poke_enter=@arg1=2f746d70,,@arg2=00:when=2"],
    "delay-enter": ["trace=chdir", "inject=chdir:delay_enter=1ms:when=2"],
    "delay-exit-error": ["trace=chdir", "inject=chdir:delay_exit=1000:error=1:when=2"],
    "delay-poke": ["trace=chdir", "inject=chdir:delay_enter=1:poke_enter=@arg1=2f00:when=3"],
    # when=
    "when-range-step": ["trace=chdir", "inject=chdir:error=ENOENT:when=2..5+2"],
    "when-plus": ["trace=chdir", "inject=chdir:error=ENOENT:when=3+"],
    "when-step": ["trace=chdir", "inject=chdir:error=ENOENT:when=2+3"],
    "when-range": ["trace=chdir", "inject=chdir:error=ENOENT:when=1..4"],
    "when-range-step3": ["trace=chdir", "inject=chdir:error=ENOENT:when=3..7+3"],
    "when-last": ["trace=chdir", "inject=chdir:error=ENOENT:when=9"],
    # several expressions: the last naming a call wins; untraced calls are left alone
    "last-wins": ["trace=chdir", "inject=chdir:error=1:when=2", "fault=%file"],
    "last-wins-2": ["trace=chdir", "inject=chdir:error=1", "inject=chdir:retval=5:when=3"],
    "untraced": ["trace=close", "inject=chdir:error=1"],
}


@pytest.mark.parametrize("case", sorted(SEQ))
def test_seq(case, prog, tmp_path):
    _same(tmp_path, [str(prog), "seq"], T.exprs(*SEQ[case]))


@pytest.mark.parametrize("expr", ["inject=openat:error=ENOENT:when=2", "inject=close:error=EIO:when=2+", "fault=openat,close:when=3"])
def test_only_calls_matching_P_count(prog, tmp_path, expr):
    """-P: only the calls that name the path (by a path argument, or an fd
    that is the file) are counted and tampered with; the loader's and
    /dev/null's are not."""
    f = tmp_path / "pfile"
    f.write_text("")
    ref = _same(tmp_path, [str(prog), "paths", str(f)], ["-P", str(f), *T.exprs(expr)])
    assert any("(INJECTED)" in l for l in ref) and not any("/dev/null" in l for l in ref)


def test_signal_interrupts_a_blocking_call(prog, tmp_path):
    """signal= is pending while the call runs, as under strace (which sends
    it at the syscall-enter-stop): pause() returns at once, interrupted.
    After a seccomp stop the loop makes the call again to get there."""
    ref = _same(tmp_path, [str(prog), "pause"], T.exprs("trace=pause", "inject=pause:signal=USR1"))
    assert ref[0].startswith("pause() ") and "ERESTARTNOHAND" in ref[0]


@pytest.mark.parametrize("mode", ["threads", "fork"])
def test_when_per_thread(mode, prog, tmp_path):
    """Counters are per thread: the second call of each thread (and of a
    forked child, which starts afresh) is the one tampered with."""
    ref = _same(tmp_path, [str(prog), mode], ["-f", *T.exprs("trace=chdir", "inject=chdir:error=ENOENT:when=2")])
    assert sum("(INJECTED)" in l for l in ref) == 2


@pytest.fixture(scope="module")
def prog32(tmp_path_factory):
    exe = tmp_path_factory.mktemp("tamper32") / "calls32"
    r = subprocess.run(["gcc", "-m32", "-O1", "-pthread", "-o", str(exe), str(T.GOLDEN / "calls.c")], capture_output=True)
    if r.returncode:
        pytest.skip("gcc -m32 cannot build (scripts/setup installs gcc-multilib)")
    return exe


@pytest.mark.parametrize("case", ["error", "retval", "retval-minus-1", "retval-big", "syscall", "signal", "poke-enter",
                                  "poke-exit-retval", "delay-exit-error", "when-range-step"])
def test_seq_i386_process(case, prog32, tmp_path):
    """A whole i386 process (gcc -m32): the same results as strace's."""
    _same(tmp_path, [str(prog32), "seq"], T.exprs(*SEQ[case]))


def test_i386(prog, tmp_path):
    _same(tmp_path, [str(prog), "i386"], T.exprs("trace=getpid@32,chdir@32", "inject=getpid@32:retval=42", "inject=chdir@32:error=EACCES"))


def test_first_execve_is_not_counted(tmp_path):
    """As strace: the command's own execve is neither counted nor tampered
    with; the shell's exec of /bin/true is the first."""
    ref = _same(tmp_path, ["sh", "-c", "exec /bin/true"], ["-f", *T.exprs("trace=execve", "inject=execve:error=ENOENT:when=1")])
    assert sum("(INJECTED)" in l for l in ref) == 1


def test_seed_case(tmp_path):
    """`tracectl run -e close -e inject=close:error=22:when=3 ls`: strace's
    lines, and ls gives up (127) as under strace."""
    (ref, _, ref_rc), (ours, _, rc) = T.run_both(tmp_path, ["ls"], T.exprs("close", "inject=close:error=22:when=3"))
    assert ref_rc == rc == 127
    assert ours == ref
    assert "= -1 EINVAL (Invalid argument) (INJECTED)" in ref[2]


def test_seed_case_y(tmp_path):
    """The seed case with -y, line for line: the fd paths
    (`close(3</etc/ld.so.cache>)`) are named at the stop, so the injected
    close names the file it failed to close."""
    (ref, _, ref_rc), (ours, _, rc) = T.run_both(tmp_path, ["ls"], ["-y", *T.exprs("close", "inject=close:error=22:when=3")])
    assert ref_rc == rc == 127
    assert ours == ref
    assert re.fullmatch(r"close\(3</.*libc\.so\.6>\) += -1 EINVAL \(Invalid argument\) \(INJECTED\)", ref[2])


def test_summary_counts_injected_errors(prog, tmp_path):
    """-c: an injected error is an error."""
    (ref, _, _), (ours, _, _) = T.run_both(tmp_path, [str(prog), "seq"], ["-c", *T.exprs("trace=chdir", "inject=chdir:error=ENOENT:when=2+")])
    row = lambda ls: [l.split()[-3:] for l in ls if l.endswith(" chdir")]  # noqa: E731
    assert row(ref) == row(ours) == [["9", "8", "chdir"]]


def test_parse_errors_as_strace(prog):
    """A bad expression: strace's message, exit 1, nothing runs."""
    for e in ("inject=chdir:when=3", "inject=chdir:error=1:when=0", "fault=chdir:retval=1", "inject=chdir:error=1:retval=2"):
        ref = subprocess.run(["strace", "-e", e, str(prog)], capture_output=True, text=True)
        ours = subprocess.run([str(T.TRACECTL), "--embedded", "run", "-e", e, str(prog)], capture_output=True, text=True)
        assert ref.returncode == ours.returncode == 1
        assert ours.stdout == ref.stdout == ""
        assert ours.stderr.replace("tracectl:", "strace:") == ref.stderr


def test_jsonl_carries_injected(prog, tmp_path):
    """--format=jsonl: `injected` says what was done; `text` has strace's
    marks, `retval` not."""
    import json

    out = tmp_path / "out.jsonl"
    r = subprocess.run([str(T.TRACECTL), "--embedded", "run", "--format=jsonl", "-o", str(out),
                        *T.exprs("trace=chdir", "inject=chdir:poke_enter=@arg1=2f00:error=EPERM:when=2", "inject=chdir:delay_exit=1:when=3"),
                        str(prog), "seq"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    calls = [o for o in map(json.loads, out.read_text().splitlines()) if o.get("syscall") == "chdir"]
    # the last expression naming chdir wins: delay_exit on the 3rd call only
    assert [o["injected"] for o in calls[:4]] == [None, None, ["delay"], None]
    assert calls[2]["text"].endswith("= 0 (DELAYED)") and calls[2]["retval"] == "0"


def test_jsonl_injected_poke_and_error(prog, tmp_path):
    import json

    out = tmp_path / "out.jsonl"
    r = subprocess.run([str(T.TRACECTL), "--embedded", "run", "--format=jsonl", "-o", str(out),
                        *T.exprs("trace=chdir", "inject=chdir:poke_enter=@arg1=2f00:error=EPERM:when=2"), str(prog), "seq"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    c = [o for o in map(json.loads, out.read_text().splitlines()) if o.get("syscall") == "chdir"][1]
    assert c["injected"] == ["retval", "args"] and c["errno"] == "EPERM" and c["flags"] & 0x18 == 0x18
    assert c["text"] == 'chdir("/") = -1 EPERM (Operation not permitted) (INJECTED: args, retval)'
    assert c["retval"] == "-1 EPERM (Operation not permitted)"


@pytest.mark.parametrize("expr", ["inject=getppid:poke_enter=@arg2=00", "inject=close:poke_exit=@arg1=00"])
def test_poke_that_cannot_apply_says_why_as_strace(expr, prog, tmp_path):
    """A poke past the call's arguments (getppid has none) and a poke at an
    unmapped address (close(-1)): strace's message, once per call, and the
    call goes on untouched."""
    msgs = []
    for cmd in (["strace"], [str(T.TRACECTL), "--embedded", "run"]):
        p = subprocess.run([*cmd, "-o", str(tmp_path / "log"), "-e", "trace=getppid,close", "-e", expr, "--", str(prog), "seq"],
                           capture_output=True, text=True, timeout=60)
        msgs.append([re.sub(r"^\w+: ", "", re.sub(r"process \d+", "process N", l)) for l in p.stderr.splitlines()])
    assert msgs[0] and msgs[1] == msgs[0]


def test_poke_partly_written_counts_as_poked(prog, tmp_path):
    """A poke whose data runs into unmapped memory writes what it can: the
    call is marked `(INJECTED: args)`, as strace marks it, and both say on
    stderr what they wrote (`short write`) and what they could not read
    back of the path (`short read`); a poke at the unmapped address itself
    is not written at all."""
    argv = [str(prog), "edge"]
    opts = T.exprs("trace=chdir", "inject=chdir:poke_enter=@arg1=3f5354524143457374726163653f00")
    (ref, ref_out, ref_rc), (ours, out, rc) = T.run_both(tmp_path, argv, opts)
    assert [l for l in ref if "INJECTED" in l] and ours == ref
    assert out == ref_out and rc == ref_rc
    msgs = []
    for cmd in (["strace"], [str(T.TRACECTL), "--embedded", "run"]):
        p = subprocess.run([*cmd, "-o", str(tmp_path / "log"), *opts, "--", *argv], capture_output=True, text=True, timeout=60)
        # the program name, pids and the numbers strace reads differ: the words and the counts written/read stay
        msgs.append(sorted(re.sub(r"\(\d+ < \d+\)", lambda m: m.group(0).split(" <")[0] + ")",
                                  re.sub(r"process \d+|pid:\d+|@0x[0-9a-f]+", "N", re.sub(r"^[\w/.-]+: ", "", l)))
                           for l in p.stderr.splitlines()))
    assert msgs[0] and msgs[1] == msgs[0]

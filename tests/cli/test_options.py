"""tracectl's strace options: getopt-style combined letters, strace's error
wording, one line and exit 1 before anything runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tracerd import UsageError
from tracerd.client._cli import build_parser, main

try:
    from tracerd.bpfgen import Qualifiers  # noqa: F401

    HAVE_QUALIFIERS = True
except ImportError:
    HAVE_QUALIFIERS = False

needs_qualifiers = pytest.mark.skipif(not HAVE_QUALIFIERS, reason="tracerd.bpfgen.Qualifiers is not exported yet")


def parse(*argv, cmd="run"):
    return build_parser(cmd).parse_args([cmd, *argv])


def resolved(*argv, cmd="run"):
    from tracerd.client._options import resolve

    return resolve(parse(*argv, cmd=cmd))


def test_letters_combine_like_getopt():
    a = parse("-fftt", "-s64", "-etrace=open", "-e", "signal=none", "--", "ls", "-l")
    assert (a.follow, a.tflag, a.strsize) == (2, 2, "64")
    assert a.exprs == ["trace=open", "signal=none"]
    assert a.argv == ["--", "ls", "-l"]


def test_command_options_stay_with_the_command():
    a = parse("-f", "ls", "-f", "-o", "x")
    assert a.follow == 1 and a.output is None
    assert a.argv == ["ls", "-f", "-o", "x"]


def test_long_qualifier_options_become_expressions():
    a = parse("--trace=%file", "--signal=!SIGCHLD", "--status=failed", "--quiet", "-qq", "true")
    assert a.exprs == ["trace=%file", "signal=!SIGCHLD", "status=failed", "quiet=attach,personality"]
    assert a.qflag == 2


def test_attach_pids_every_form():
    from tracerd.client._options import parse_pids

    a = parse("-p", "1,2", "-p", "3 4", "5", "6", cmd="attach")
    assert parse_pids(a.pid_opts + a.pid_args) == (1, 2, 3, 4, 5, 6)
    with pytest.raises(UsageError, match="Invalid process id: 'x'"):
        parse_pids(["1,x"])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["-K", "true"], "invalid option -- 'K'"),
        (["--bogus", "true"], "unrecognized option '--bogus'"),
        (["-s"], "option requires an argument -- 's'"),
    ],
)
def test_refused_options(argv, message):
    with pytest.raises(UsageError, match=message):
        parse(*argv)


def test_k_is_an_option():
    assert parse("-k", "true").stack and parse("--stack-traces", "true").stack and not parse("true").stack
    # strace: no effect with -c (said, and nothing is unwound)
    from tracerd.client._options import resolve, warnings

    a = parse("-c", "-k", "true")
    o = resolve(a)
    assert not o.stack and warnings(a, o) == ["-k/--stack-traces has no effect with -c/--summary-only"]


@needs_qualifiers
def test_resolve_defaults():
    o = resolved("true")
    assert o.argv == ("true",) and o.strsize == 32 and o.acolumn == 40
    assert o.status == frozenset() and o.summary == 0 and not o.cpu_time
    assert o.trace  # every call by default


@needs_qualifiers
def test_resolve_forms():
    o = resolved("-fftt", "-s64", "-yy", "-x", "-T", "-C", "-Stime", "-e", "trace=%file", "--", "ls", "/")
    assert (o.follow, o.tflag, o.ts_format, o.ts_precision, o.strsize) == (2, 2, "time", 6, 64)
    assert o.summary == 2 and o.cpu_time and o.syscall_times
    assert o.decode.yflag == 2 and o.decode.xflag == 1 and o.decode.decode_fds >= {"path", "socket"}
    assert o.argv == ("ls", "/")
    o = resolved("-ttt", "-r", "-qq", "-z", "-cw", "true")
    assert o.ts_format == "unix" and o.relative and {"attach", "exit"} <= o.quiet
    assert o.status == {"successful"} and o.summary == 1 and o.wall and not o.cpu_time
    o = resolved("--absolute-timestamps=format:unix,precision:ns", "-T", "--syscall-times=ns", "true")
    assert (o.ts_format, o.ts_precision, o.dur_precision) == ("unix", 9, 9)


@needs_qualifiers
def test_env_options(monkeypatch):
    monkeypatch.setenv("TRACECTL_T1", "x")
    o = resolved("-E", "A=1", "-E", "TRACECTL_T1", "true")
    assert o.env["A"] == "1" and "TRACECTL_T1" not in o.env


@needs_qualifiers
@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "must have PROG \\[ARGS\\] or -p PID"),
        (["-s", "x", "true"], "invalid -s argument: 'x'"),
        (["-S", "bogus", "true"], "invalid sortby: 'bogus'"),
        (["-U", "calls,bogus", "true"], "unknown column name: 'bogus'"),
        (["-e", "trace=nosuchcall", "true"], "nosuchcall"),
        (["-e", "trace=%nosuchclass", "true"], "nosuchclass"),
        (["-e", "inject=open:when=3", "true"], "invalid inject argument .open:when=3."),  # no action
        (["-c", "-C", "true"], "mutually exclusive"),
        (["--format=xml", "true"], "invalid --format"),
    ],
)
def test_resolve_errors(argv, message):
    with pytest.raises(UsageError, match=message):
        resolved(*argv)


def test_user_option_without_root_or_unknown_user():
    import os

    with pytest.raises(UsageError) as ei:
        resolved("-u", "no-such-user-tracectl", "true")
    assert str(ei.value) == "Cannot find user 'no-such-user-tracectl'"  # the name first, as strace
    if os.geteuid() == 0:
        assert resolved("-u", "root", "true").user == (0, 0, tuple(os.getgrouplist("root", 0)))
    else:
        with pytest.raises(UsageError, match=r"^You must be root to use the -u/--username option$"):
            resolved("-u", "root", "true")


def test_cli_one_line_and_exit_1(capsys):
    assert main(["run", "--bogus", "true"]) == 1
    err = capsys.readouterr().err
    assert err == "tracectl: unrecognized option '--bogus'\n"


def test_output_path_checked_before_running(tmp_path, capsys):
    if not HAVE_QUALIFIERS:
        pytest.skip("tracerd.bpfgen.Qualifiers is not exported yet")
    marker = tmp_path / "ran"
    rc = main(["--embedded", "run", "-o", str(tmp_path / "no" / "such" / "file"), "touch", str(marker)])
    assert rc == 1
    assert capsys.readouterr().err == f"tracectl: Can't fopen '{tmp_path}/no/such/file': No such file or directory\n"
    assert not marker.exists()


def test_optional_arguments_never_eat_the_command():
    a = parse("-T", "ls")
    assert a.syscall_times == "us" and a.argv == ["ls"]
    a = parse("-r", "ls")
    assert a.relative == "us" and a.argv == ["ls"]
    a = parse("--quiet", "--syscall-times", "-e", "trace=open", "--decode-fds", "ls", "--quiet")
    assert a.exprs == ["quiet=attach,personality", "trace=open", "decode-fds=path"]
    assert a.syscall_times == "us" and a.argv == ["ls", "--quiet"]
    a = parse("--syscall-times=ns", "--relative-timestamps=ms", "-fo", "out", "--quiet", "ls")
    assert (a.syscall_times, a.relative, a.output, a.argv) == ("ns", "ms", "out", ["ls"])
    assert a.exprs == ["quiet=attach,personality"]


@needs_qualifiers
@pytest.mark.parametrize(
    "argv, message",
    [
        (["--colocate", "1"], "--colocate works with run only"),
        (["-E", "A=1", "1"], "-E has no effect with attach"),
        ([], "must have PROG \\[ARGS\\] or -p PID"),
    ],
)
def test_attach_refuses(argv, message):
    from tracerd.client._options import resolve

    a = parse(*argv, cmd="attach")
    a.pid_args = a.pid_opts + a.pid_args
    with pytest.raises(UsageError, match=message):
        resolve(a)


@needs_qualifiers
def test_attach_takes_seccomp_bpf():
    # attach --seccomp-bpf injects the filter (the design: opt-in, irreversible)
    from tracerd.client._options import resolve

    a = parse("--seccomp-bpf", "1", cmd="attach")
    a.pid_args = a.pid_opts + a.pid_args
    assert resolve(a).seccomp_bpf is True
    a = parse("1", cmd="attach")
    a.pid_args = a.pid_opts + a.pid_args
    assert resolve(a).seccomp_bpf is False


def test_run_points_p_to_attach():
    with pytest.raises(UsageError, match="attaching is 'tracectl attach PID...'"):
        parse("-p", "1", "true")


# -s as strace 6.1 takes it: 0 .. 2**30 - 1, strtol's spaces and sign, nothing after
S_REFUSED = ("1073741824", "2147483648", "4294967296", "-1", "0x10", "5k", "5 ", "1_000", "")
S_VALUES = ["0", "32", "131072", "1073741823", " +5", "-0", *S_REFUSED]


@needs_qualifiers
@pytest.mark.parametrize("value", S_VALUES)
def test_strsize_bounds(value):
    if value in S_REFUSED:
        with pytest.raises(UsageError) as ei:
            resolved("-s", value, "true")
        assert str(ei.value) == f"invalid -s argument: '{value}'"
    else:
        assert resolved("-s", value, "true").strsize == int(value)


def test_strsize_bounds_are_strace_s():
    """The accepted and refused values above are strace's own."""
    import shutil

    if shutil.which("strace") is None:
        pytest.skip("strace not installed")
    for value in S_VALUES:
        r = subprocess.run(["strace", "-s", value, "-e", "trace=none", "true"], capture_output=True, text=True)
        refused = r.returncode != 0
        assert refused == (value in S_REFUSED), value
        if refused:
            assert r.stderr.splitlines()[0] == f"strace: invalid -s argument: '{value}'"


@needs_qualifiers
def test_output_file_with_a_command_is_quiet_about_attach_as_strace():
    # strace -o FILE CMD prints no "Process N attached" for every child on
    # the terminal; -p still reports its attach, and -e quiet= is the user's
    assert {"attach", "personality"} <= resolved("-f", "-o", "/dev/null", "true").quiet
    assert "attach" not in resolved("-f", "true").quiet
    assert "attach" not in resolved("-o", "/dev/null", "1", cmd="attach").quiet
    assert resolved("-f", "-o", "/dev/null", "-e", "quiet=exit", "true").quiet == {"exit"}

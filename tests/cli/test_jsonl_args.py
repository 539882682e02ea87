"""--format=jsonl's `args`: printed argument texts read back as JSON values,
and the option parsing of issue 12's options (pure Python)."""

from __future__ import annotations

import pytest

from tracerd import UsageError
from tracerd.client._jsonl_args import call_args, split_top, value


@pytest.mark.parametrize(
    "text, want",
    [
        ('openat(AT_FDCWD, "/etc/shadow", O_RDONLY|O_CLOEXEC) = 3', ["AT_FDCWD", "/etc/shadow", ["O_RDONLY", "O_CLOEXEC"]]),
        ('read(3</etc/a, b>, "vm\\n\\377", 4096) = 3', [{"fd": 3, "path": "/etc/a, b"}, "vm\n\\xff", 4096]),
        ('newfstatat(3, "", {st_mode=S_IFREG|0644, st_size=7, ...}, AT_EMPTY_PATH) = 0', [3, "", {"st_mode": ["S_IFREG", 420], "st_size": 7, "...": True}, "AT_EMPTY_PATH"]),
        ('execve("/bin/true", ["true", "a,b"], 0x7ffd /* 20 vars */) = 0', ["/bin/true", ["true", "a,b"], 0x7FFD]),
        ("rt_sigprocmask(SIG_BLOCK, [CHLD TERM], NULL, 8) = 0", ["SIG_BLOCK", ["CHLD", "TERM"], None, 8]),
        ("getsockopt(3, SOL_SOCKET, SO_PEERCRED, {pid=1, uid=0}, [12 => 12]) = 0", [3, "SOL_SOCKET", "SO_PEERCRED", {"pid": 1, "uid": 0}, [{"in": 12, "out": 12}]]),
        ('write(1, "abc"..., 100) = 100', [1, {"str": "abc", "truncated": True}, 100]),
        ("getpid() = 5", []),
        ('open("a\\"b", O_RDONLY|0x100000) = -1 ENOENT (No such file or directory)', ['a"b', ["O_RDONLY", 0x100000]]),
    ],
)
def test_values_read_back(text, want):
    assert [value(t) for t in call_args(text)] == want


def test_split_top_keeps_nesting_and_comments():
    assert split_top('a, {b, c}, [d, e], "f, g", h /* i, j */') == ["a", "{b, c}", "[d, e]", '"f, g"', "h /* i, j */"]
    assert value("O_RDONLY", "flags") == ["O_RDONLY"] and value("0", "flags") == [0]
    assert value("0644") == 420 and value("-1") == -1 and value("NULL") is None


def _resolve(*argv):
    from tracerd.client._cli import build_parser
    from tracerd.client._options import resolve

    return resolve(build_parser("run").parse_args(["run", *argv]))


def test_options_parse_as_strace():
    from tracerd.client._options import _duration_ns, attaches

    assert _resolve("-e", "status=none", "true").status == {"none"}
    assert _resolve("--strings-in-hex=non-ascii-chars", "true").decode.xflag == 3
    assert _resolve("--strings-in-hex=none", "true").decode.xflag == 0
    o = _resolve("--absolute-timestamps=unix", "--absolute-timestamps=ms", "true")
    assert (o.ts_format, o.ts_precision) == ("unix", 3)
    o = _resolve("--absolute-timestamps=ns", "--absolute-timestamps", "true")
    assert (o.ts_format, o.ts_precision) == ("time", 9)
    assert [_duration_ns(v, "O") for v in ("5", "1ms", "1.5s", "1e-3s", "+7us", "2NS")] == [5000, 10**6, 15 * 10**8, 10**6, 7000, 2]
    for bad in ("5xs", "-1", "", "ms", "."):
        with pytest.raises(UsageError, match="invalid -O argument"):
            _duration_ns(bad, "O")
    assert _resolve("--tips", "true").tips == (None, "compact")
    assert _resolve("--tips=id:3,full", "true").tips == (3, "full")
    assert _resolve("--tips=none", "true").tips is None
    assert _resolve("-I", "never_tstp", "true").intr == 4 and _resolve("true").intr == 2
    assert _resolve("-e", "verbose=none", "true").decode.deref == frozenset()
    assert _resolve("-e", "verbose=all", "true").decode.deref is None
    assert attaches(["-f", "-p", "1"]) and attaches(["-fp1"]) and attaches(["--attach=1"])
    assert not attaches(["-f", "ls", "-p"]) and not attaches(["-o", "-p", "ls"]) and not attaches(["-e", "trace=open", "ls"])


def test_strings_in_hex_non_ascii_chars_quote():
    from tracerd.client.decode._fmt import quote

    assert quote(b"h\x01i\n\xff", 3) == '"h\\x01i\\n\\xff"'
    assert quote(b"h\x01i\n", 0) == '"h\\1i\\n"'
    assert quote(b"hi", 2) == '"\\x68\\x69"'


def test_instruction_pointer_on_every_line():
    """-i: `[ip] ` after the pid prefix: a call's from its record, a
    resumed call's from its entry, a signal's own, none for +++ lines."""
    from cli_helpers import Recs, options, run_printer

    recs = Recs()
    whole = recs.call(100, 39, 100) + [{"ip": 0x7F0011223344}]
    entry = recs.entry(100, 0, args=(0, 0, 3, 0, 0, 0)) + [{"ip": 0x401000}]
    rs = [whole, entry, recs.exit_(100, 0, 0), recs.signal(100, 17) + [{"ip": 0x402000}], recs.exited(100, 0)]
    out, _ = run_printer(options(iflag=True), rs)
    lines = out.splitlines()
    assert lines[0].startswith("[00007f0011223344] getpid() ")
    assert lines[1].startswith("[0000000000401000] read(0, ")
    assert lines[2].startswith("[0000000000402000] --- SIGCHLD")
    assert lines[-1] == "[????????????????] +++ exited with 0 +++"

"""tracectl's start-up levers in client/_cli.py (docs/performance.md).

The parsed command line kept in the on-disk cache (`_parsed`): a hit gives
what argparse gives, a changed source or command line is a new key, a
damaged file is parsed again, and failures are never kept. The worker
forked before parsing (`_early_worker`): only when the run will likely be
embedded and cannot be -D."""

from __future__ import annotations

import argparse
import os

import pytest

from tracerd import UsageError
from tracerd.client import _cli


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("TRACERD_NO_CACHE", raising=False)
    return tmp_path / "tracerd"


def _files(cache):
    return sorted(p.name for p in cache.glob("args-*")) if cache.exists() else []


def _argparse(argv):
    return _cli.build_parser("run", only=True).parse_args(argv)


ARGV = ["run", "-f", "-e", "trace=open,read", "-s", "100", "-o", "/dev/null", "--", "/bin/true", "x"]


def test_hit_equals_parse(cache):
    first = _cli._parsed("run", ARGV)
    assert _files(cache) and first == _argparse(ARGV)
    again = _cli._parsed("run", ARGV)
    assert isinstance(again, argparse.Namespace) and again == first
    assert len(_files(cache)) == 1


def test_hit_skips_the_parser(cache, monkeypatch):
    want = _argparse(ARGV)
    _cli._parsed("run", ARGV)

    def boom(*a, **kw):
        raise AssertionError("parser built")

    monkeypatch.setattr(_cli, "build_parser", boom)
    assert _cli._parsed("run", ARGV) == want
    with pytest.raises(AssertionError, match="parser built"):
        _cli._parsed("run", ARGV + ["y"])  # another command line: a miss, parsed


def test_key_follows_argv_and_sources(cache, tmp_path):
    k = _cli._args_key(ARGV)
    assert _cli._args_key(ARGV + ["y"]) != k
    assert _cli._args_key(ARGV) == k
    st = os.stat(_cli.__file__)
    try:
        os.utime(_cli.__file__, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        assert _cli._args_key(ARGV) != k  # an edited parser source: a new key
    finally:
        os.utime(_cli.__file__, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_damaged_file_parsed_again(cache):
    _cli._parsed("run", ARGV)
    (f,) = cache.glob("args-*")
    data = bytearray(f.read_bytes())
    data[-2] ^= 0xFF
    f.write_bytes(bytes(data))
    assert _cli._parsed("run", ARGV) == _argparse(ARGV)
    assert f.read_bytes() != bytes(data)  # rewritten


def test_errors_not_kept(cache):
    with pytest.raises((UsageError, SystemExit)):
        _cli._parsed("run", ["run", "-s"])  # -s needs a value
    assert _files(cache) == []


def test_only_plain_values(cache):
    assert _cli._plain(["a", 1, None, True])
    assert not _cli._plain(("a",)) and not _cli._plain(1.5) and not _cli._plain([object()])


@pytest.mark.parametrize(
    "argv, i, cmd, forks",
    [
        (["--embedded", "run", "-f", "ls"], 1, "run", True),
        (["--embedded", "attach", "-p", "1"], 1, "attach", True),
        (["--embedded", "bpf", "-e", "trace=open"], 1, "bpf", False),  # no worker
        (["--socket", "/x", "run", "ls"], 2, "run", False),  # a daemon named
        (["--socket=/x", "run", "ls"], 1, "run", False),
        (["--embedded", "run", "-D", "ls"], 1, "run", False),  # -D: its worker is forked otherwise
        (["--embedded", "run", "-fD", "ls"], 1, "run", False),
        (["--embedded", "run", "--daemonize=grandchild", "ls"], 1, "run", False),
        (["--embedded", "run", "--dae", "ls"], 1, "run", False),  # an abbreviation argparse takes
    ],
)
def test_early_worker_when(monkeypatch, argv, i, cmd, forks):
    import tracerd.native

    made = []
    monkeypatch.setattr(tracerd.native, "fork_worker", lambda: made.append(1) or "worker")
    monkeypatch.delenv("TRACERD_SOCKET", raising=False)
    assert (_cli._early_worker(argv, i, cmd) == "worker") == forks
    assert len(made) == forks


def test_early_worker_env_socket(monkeypatch):
    import tracerd.native

    monkeypatch.setattr(tracerd.native, "fork_worker", lambda: "worker")
    monkeypatch.setenv("TRACERD_SOCKET", "/x")
    assert _cli._early_worker(["run", "ls"], 0, "run") is None
    assert _cli._early_worker(["--embedded", "run", "ls"], 1, "run") == "worker"

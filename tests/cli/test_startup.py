"""What tracectl's start-up leaves out (docs/performance.md, "Start-up,
second round"): each test runs a fresh interpreter, since what a module
imports shows only in a process that has not imported it yet."""

import subprocess
import sys
import textwrap


def _py(code: str) -> str:
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def test_dataclasses_without_inspect_still_write_docstrings():
    """defer_inspect: dataclasses imports without inspect; a dataclass
    without a docstring still gets the usual one (inspect imported then),
    and inspect is then the real module for everyone."""
    out = _py("""
        import sys
        from tracerd.client._startup import defer_inspect
        defer_inspect()
        import dataclasses
        print("inspect" in sys.modules)

        @dataclasses.dataclass
        class P:
            x: int
            y: str = "a"

        print(P.__doc__)
        import inspect
        print(type(inspect).__name__, inspect.signature(P), dataclasses.inspect is inspect)
    """)
    assert out.splitlines() == ["False", "P(x: int, y: str = 'a')", "module (x: int, y: str = 'a') -> None True"]


def test_the_run_path_imports_no_sink_protocol_or_parser_machinery():
    """Building `run`'s parser and resolving its options imports none of
    the modules cut from the run path (a regression shows here first)."""
    out = _py("""
        import sys
        from tracerd.client._startup import defer_inspect
        defer_inspect()
        from tracerd.client import _cli, _cmd_run  # noqa: F401 (its imports are the point)
        from tracerd.client._options import resolve
        from tracerd.client._source import choose
        import os
        from tracerd.client._source import DEFAULT_SOCKET
        args = _cli.build_parser("run", only=True).parse_args(["run", "-o", "/dev/null", "--", "true"])
        resolve(args)
        os.environ.pop("TRACERD_SOCKET", None)
        if not os.path.lexists(DEFAULT_SOCKET):  # nobody there: embedded, decided without the protocol
            assert choose(args) == ("embedded", None)
        bad = ["inspect", "ssl", "subprocess", "urllib.parse", "json", "typing", "tomllib", "tracerd._protocol",
               "tracerd.client._remote", "tracerd.client.sinks._worker", "importlib.resources"]
        print(" ".join(m for m in bad if m in sys.modules))
    """)
    assert out == ""


def test_build_parser_only_leaves_out_the_other_commands():
    from tracerd.client._cli import COMMANDS, build_parser

    full = build_parser("run")._subparsers._group_actions[0].choices
    only = build_parser("run", only=True)._subparsers._group_actions[0].choices
    assert set(full) == set(COMMANDS) and set(only) == {"run"}
    # the run parser itself is the same either way
    assert full["run"].format_help() == only["run"].format_help()

"""`tracectl`: global options and subcommand dispatch.

Each subcommand lives in its own module exposing
``add_parser(subparsers, name, help)`` and ``run(args) -> int``; modules are imported only when their command runs, so
`tracectl --version` and `--help` work even when the native loop or libseccomp
is missing.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from tracerd import TracerdError, __version__

# subcommand -> module (relative to this package)
COMMANDS = {
    "run": "._cmd_run",
    "attach": "._cmd_attach",
    "bpf": "._cmd_bpf",
    "syscalls": "._cmd_syscalls",
    "ls": "._cmd_daemon",
    "watch": "._cmd_daemon",
    "detach": "._cmd_daemon",
    "stop": "._cmd_daemon",
    "stats": "._cmd_stats",
}

HELP = {
    "run": "run a command and trace it (strace CMD)",
    "attach": "attach to running processes (strace -p PID)",
    "bpf": "print the seccomp filter a trace set compiles to",
    "syscalls": "list the syscalls a set expands to, per personality",
    "ls": "list the daemon's sessions",
    "watch": "follow a daemon session's records",
    "detach": "detach a daemon session from its processes",
    "stop": "end a daemon session",
    "stats": "the daemon's figures: sessions, records, drops, cpu, memory",
}


def _module(cmd: str):
    return importlib.import_module(COMMANDS[cmd], __package__)


def build_parser(cmd: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tracectl",
        description="A seccomp-BPF accelerated system-call tracer (strace-compatible).",
    )
    parser.add_argument("--version", action="version", version=f"tracectl {__version__}")
    parser.add_argument("--socket", metavar="PATH", help="talk to the daemon on this socket (else $TRACERD_SOCKET, else the default)")
    parser.add_argument("--embedded", action="store_true", help="trace in-process, without a daemon")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if cmd is not None and name == cmd:
            _module(name).add_parser(sub, name, HELP[name])
        else:
            sub.add_parser(name, help=HELP[name], add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # Find the subcommand (first argument not an option or an option's value)
    # so only its module is imported.
    cmd = None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--socket":
            i += 2
            continue
        if a.startswith("-"):
            i += 1
            continue
        cmd = a if a in COMMANDS else None
        break
    parser = build_parser(cmd)
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 1
        return _module(args.command).run(args)
    except TracerdError as exc:
        print(f"tracectl: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        return 130

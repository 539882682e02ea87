"""`tracectl attach [OPTIONS] PID...`: strace -p PID.

PIDs as strace takes them: several arguments, or one argument holding a comma
or space separated list, and/or `-p PID` (repeatable). Ends on Ctrl-C (the
tracer detaches, the processes run on) or when every traced process is gone.
"""

from __future__ import annotations

from ._cmd_run import trace
from ._options import add_strace_options, resolve, strict_parser
from .sinks._cli import add_option as add_sink_option


def add_parser(subparsers, name, help):
    p = subparsers.add_parser(
        name,
        help=help,
        usage="tracectl attach [-ACcfhnqrTtvwxyzZ] [-e EXPR]... [-o FILE] [-s STRSIZE] [-S SORTBY] [-P PATH]... [--format=FORMAT] [-p PID]... [PID...]",
        description="Attach to running processes and trace them, as `strace -p PID` does.",
    )
    add_strace_options(p)
    add_sink_option(p, "block")
    p.add_argument("-p", "--attach", dest="pid_opts", action="append", default=[], metavar="PID", help="trace the process PID (repeatable; comma or space separated lists)")
    p.add_argument("pid_args", nargs="*", metavar="PID", help="processes to trace")
    strict_parser(p)
    return p


def run(args) -> int:
    from ._source import prefork

    args.pid_args = list(args.pid_opts) + list(args.pid_args)
    worker = prefork(args)  # first: the worker then forks from a small process
    try:
        opts = resolve(args)
        return trace(opts, kind="attach", worker=worker)
    finally:
        if worker is not None:
            worker.abandon()  # a no-op once the source started it


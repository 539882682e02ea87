"""`tracectl`: global options and subcommand dispatch.

Each subcommand lives in its own module exposing
``add_parser(subparsers, name, help)`` and ``run(args) -> int``; modules are imported only when their command runs, so
`tracectl --version` and `--help` work even when the native loop or libseccomp
is missing.
"""

from __future__ import annotations

import gc
import importlib
import os
import signal
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
    "replay": "._cmd_replay",
    "top": "._cmd_top",
    "rules": "._cmd_daemon",
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
    "replay": "show a --format=msgpack recording again, with other output options",
    "top": "a live full-screen view of the calls of a command, processes or a session",
    "rules": "the daemon's standing rules: matched processes, modes, refusals, rates",
}


def _module(cmd: str):
    return importlib.import_module(COMMANDS[cmd], __package__)


def build_parser(cmd: str | None = None, only: bool = False) -> argparse.ArgumentParser:
    """The parser; with `only`, the other commands' stubs are left out (they
    serve the top-level help alone: ~1.5 ms of a start)."""
    import argparse  # here: not in the image of the worker forked before it

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
        elif not only:
            sub.add_parser(name, help=HELP[name], add_help=False)
    return parser


# tracectl's own options before the subcommand (any other word starting
# with "-" begins a strace command line: `tracectl -f ls` is `run -f ls`)
GLOBAL_OPTIONS = frozenset({"-h", "--help", "--version", "--embedded"})

# True while main(), run as the program, holds the cyclic garbage collector off
_gc_held = False
# commands during whose start-up it does so: short ones, and run/attach, which
# call settled() before their loop (watch, a long loop, is not one of them)
HOLD_GC = frozenset({"run", "attach", "bpf", "syscalls"})


def settled() -> None:
    """Start-up is over (called before a long loop): the collector runs
    again, ignoring what start-up made (modules, the syscall table: frozen)."""
    global _gc_held
    if _gc_held:
        _gc_held = False
        gc.freeze()
        gc.enable()


# main(), as the program, ends with os._exit once nothing is left to do at
# exit (see _quick_exit); False: the interpreter's own exit, always
QUICK_EXIT = True
# the command ran to its end (no error, ^C or usage message on the way): its
# outputs are closed (trace() closes them; an error may leave a file to the
# interpreter's exit, which flushes it as it frees it)
_finished = False


def main(argv: list[str] | None = None) -> int:
    program = argv is None  # the tracectl command itself, not a caller's test
    if program:
        _hold_closed_std_fds()
        from . import _launch

        _launch.START_MASK = signal.pthread_sigmask(signal.SIG_BLOCK, ())  # what the command inherits, as under strace
    try:
        rc = _main(sys.argv[1:] if argv is None else list(argv), program)
    finally:
        settled()
        if program:
            # On the way out: the interpreter's last collection then skips
            # everything (a full pass over every object, ~10-20 ms here).
            gc.freeze()
    if program and QUICK_EXIT and _finished:
        _quick_exit(rc)
    return rc


def _hold_closed_std_fds() -> None:
    """fds 0, 1 and 2 closed when tracectl starts: /dev/null holds each
    place, so no pipe or file of ours lands there (a command launched later
    would inherit it as its stdin/stdout/stderr); the launch closes them
    again in the command, which starts with them closed as under strace."""
    closed = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.append(fd)
    if not closed:
        return
    from ._launch import CLOSED_AT_START

    for fd in closed:
        try:
            null = os.open(os.devnull, os.O_RDWR)
        except OSError:
            return
        if null != fd:  # the lowest free fd is this one, unless an earlier one was taken
            os.dup2(null, fd)
            os.close(null)
        CLOSED_AT_START.add(fd)
    if 1 in CLOSED_AT_START and sys.stdout is None:
        sys.stdout = open(1, "w", closefd=False)
    if 2 in CLOSED_AT_START and sys.stderr is None:
        sys.stderr = open(2, "w", closefd=False)


def _quick_exit(rc: int) -> None:
    """End now with `rc` when the interpreter's exit has nothing left to do
    but tear down what start-up built (~5-15 ms of a short run: every module
    and object freed one by one): the command ran to its end (`_finished`),
    no atexit callback is registered, no thread but ours runs, and stdout
    and stderr flushed without error (else return: the interpreter's exit
    does what it does)."""
    import atexit

    if not isinstance(rc, int) or atexit._ncallbacks() or ("threading" in sys.modules and sys.modules["threading"].active_count() > 1):
        return
    try:
        for fp in (sys.stdout, sys.stderr):
            if fp is not None:
                fp.flush()
    except (OSError, ValueError):
        return
    os._exit(rc)


def _main(argv: list[str], program: bool) -> int:
    global _gc_held
    # Find the subcommand (first argument not an option or an option's value)
    # so only its module is imported.
    cmd = None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--socket":
            i += 2
            continue
        if a in GLOBAL_OPTIONS or a.startswith("--socket="):
            i += 1
            continue
        if a.startswith("-") and a != "-":
            # a strace command line without a subcommand (`tracectl -f ls`,
            # `tracectl -p 1`, `tracectl -V`): it is `run`'s, or `attach`'s
            # when it names pids
            from ._options import attaches

            cmd = "attach" if attaches(argv[i:]) else "run"
            argv = argv[:i] + [cmd] + argv[i:]
            break
        cmd = a if a in COMMANDS else None
        break
    early = _early_worker(argv, i, cmd) if program else None
    if program:
        from ._startup import defer_inspect

        defer_inspect()
    if program and cmd in HOLD_GC and gc.isenabled():
        # Start-up makes tens of thousands of objects that live until exit;
        # collections meanwhile only walk them again and again (~10 ms).
        gc.disable()
        _gc_held = True
    # a known command, and no -h/--help before it: only its own parser is needed
    only = cmd is not None and not any(a in ("-h", "--help") for a in argv[:i])
    try:
        if program and only and cmd in CACHE_ARGS:
            args = _parsed(cmd, argv)
        else:
            parser = build_parser(cmd, only=only)
            args = parser.parse_args(argv)
            if args.command is None:
                parser.print_help()
                return 1
        if early is not None:
            args.early_worker, early = early, None  # prefork() takes it (or lets it go)
        rc = _module(args.command).run(args)
        sys.stdout.flush()  # here, where a reader that went away is caught
        global _finished
        _finished = True
        return rc
    except TracerdError as exc:
        if str(exc):  # empty: already reported (e.g. by the trace output)
            print(f"tracectl: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _reader_gone()
    finally:
        if early is not None:  # the command line failed to parse: not needed
            early.abandon()


def _early_worker(argv: list[str], i: int, cmd: str | None):
    """The embedded worker, forked before anything else is imported, when
    `run`/`attach` will likely be embedded (client/_source.py's rule, judged
    from the global options before the command word) and no token after it
    could be -D/--daemonize (which needs no worker of ours; a token that only
    looks like one just means the usual, later fork). The worker then holds a
    copy-on-write image of a small process: pages the front end writes
    later (argparse, the table, the decoder) were not shared with it and are
    not copied twice (PSS -0.6 MB; docs/performance.md). None otherwise."""
    if cmd not in PREFORK:
        return None
    from types import SimpleNamespace

    from ._source import likely_embedded

    head = argv[:i]
    sock = [a for a in head if a == "--socket" or a.startswith("--socket=")]
    if not likely_embedded(SimpleNamespace(embedded="--embedded" in head, socket=sock[0] if sock else None)):
        return None
    if any(a.startswith("--d") or (a.startswith("-") and not a.startswith("--") and "D" in a) for a in argv[i:]):
        return None
    from tracerd.native import fork_worker

    return fork_worker()


# commands whose parsed command line is kept in the on-disk cache
CACHE_ARGS = frozenset({"run", "attach"})
# commands whose embedded worker main() forks first thing (_early_worker)
PREFORK = frozenset({"run", "attach"})
_PLAIN = (str, int, bool, type(None))  # exact types (`type(v) in`): bool apart from int


def _plain(v) -> bool:
    """Whether a parsed value survives a msgpack round trip as itself."""
    if isinstance(v, list):
        return all(_plain(x) for x in v)
    return type(v) in _PLAIN


def _args_key(argv: list[str]) -> bytes:
    """What a parse depends on: the command line, our version, Python's
    (argparse), and every tracerd module loaded now (the parser is built from
    them alone), by path, size and mtime."""
    from tracerd.bpfgen._cache import _hash

    h = _hash(f"args {__version__} {sys.version}\n".encode())
    for name in sorted(sys.modules):
        path = getattr(sys.modules[name], "__file__", None) if name.startswith("tracerd") else None
        if path:
            st = os.stat(path)
            h.update(f"{path} {st.st_size} {st.st_mtime_ns}\n".encode())
    h.update("\0".join(argv).encode("utf-8", "surrogateescape"))
    return h.digest()


def _parsed(cmd: str, argv: list[str]) -> argparse.Namespace:
    """`build_parser(cmd).parse_args(argv)`, from the on-disk cache when this
    very command line parsed before with these very sources: building
    `run`'s parser (~65 options, a HelpFormatter and a translated help text
    each) was ~6 ms of a start (docs/performance.md, "Start-up and memory,
    third round"). Only a parse that
    succeeded is kept (an error or -h/-V exits before), and only one whose
    values are plain (strings, numbers, lists of them)."""
    import argparse

    from tracerd.bpfgen import _cache

    _module(cmd)  # its parser's modules loaded: they are in the key

    def build():
        return build_parser(cmd, only=True).parse_args(argv)

    def dump(ns):
        d = vars(ns)
        return d if all(isinstance(k, str) and _plain(v) for k, v in d.items()) else None

    def load(obj):
        if not isinstance(obj, dict) or obj.get("command") != cmd or not all(isinstance(k, str) and _plain(v) for k, v in obj.items()):
            raise ValueError("not a parsed command line")
        return argparse.Namespace(**obj)

    try:
        key = _args_key(argv)
    except (OSError, UnicodeError):
        key = None
    return _cache.cached("args-", key, build, dump, load, keep=64)


def _reader_gone() -> int:
    """`tracectl ls | head`: the reader left, which is not an error (as
    `syscalls` has it): end quietly with 0. What is still buffered for the
    closed pipe goes to /dev/null, so the interpreter's own flush at exit
    finds nothing to complain about."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fp in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, fp.fileno())
        except (OSError, ValueError, AttributeError):
            pass  # a caller's stream (tests): nothing to protect
    os.close(devnull)
    return 0

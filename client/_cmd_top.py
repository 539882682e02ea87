"""`tracectl top [OPTS] -- CMD`, `tracectl top -p PID...`, `tracectl top SESSION`:
a full-screen live view (rich) of the calls being made.

A reader thread takes the records (embedded worker, or the daemon) and
counts them (client/_top.py); the main thread redraws every --interval and
reads keys from the terminal in cbreak mode: c/e/m/p/t/n sort, q quits.
Leaving: an attached process is detached and runs on; a session being
watched is let go; a command run here keeps being traced (uncounted, as
`run` would) until it ends, and tracectl exits with its status. Ctrl-C ends
as `run`/`attach` end (the command is killed, processes detached).

The command's stdin is /dev/null and its output goes to --command-output
FILE (default /dev/null): the terminal is the view's.
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import sys
import threading

from tracerd import TracerdError, UsageError
from tracerd._wire import Ctl, iter_records

from ._options import add_strace_options, resolve, strict_parser


def add_parser(subparsers, name, help):
    p = subparsers.add_parser(
        name,
        help=help,
        usage="tracectl top [-f] [-e trace=EXPR] [--interval SECONDS] [--sort KEY] [--command-output FILE] (-- CMD [ARGS...] | -p PID... | SESSION)",
        description="A live full-screen view of the calls of a command, of running processes (-p) or of a daemon session.",
    )
    add_strace_options(p)
    p.add_argument("-p", "--attach", dest="pid_opts", action="append", default=[], metavar="PID", help="attach to PID (repeatable)")
    p.add_argument("--interval", type=float, default=1.0, metavar="SECONDS", help="redraw every SECONDS (default 1)")
    p.add_argument("--sort", dest="sort_key", default="c", choices=["c", "e", "m", "p", "t", "n"], help="first sort: c calls/s, e errors/s, m mean, p p99, t calls, n name")
    p.add_argument("--command-output", dest="command_output", default=os.devnull, metavar="FILE", help="where the command's stdout and stderr go (default /dev/null)")
    p.add_argument("argv", nargs=argparse.REMAINDER, metavar="CMD [ARGS...] | SESSION")
    strict_parser(p)
    return p


class _Watch:
    """A daemon session's records (the watch request), as a source."""

    def __init__(self, path: str, session: int):
        from . import _remote

        self._remote = _remote
        self.client = _remote.Client(path)
        self.info = self.client.request("watch", {"session": session, "policy": "drop"})
        self.session = session

    def frames(self):
        yield from self._remote.session_frames(self.client.events(), self.session, [])

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None


def _kind(args) -> str:
    argv = list(args.argv)
    if args.pid_opts:
        if argv and argv != ["--"]:
            raise UsageError("top: give a command, -p PID or a session, not several")
        return "attach"
    if len(argv) == 1 and argv[0].isdigit():
        return "watch"
    if not argv or argv == ["--"]:
        raise UsageError("top: must have -- CMD [ARGS], -p PID or a SESSION number")
    return "run"


def run(args) -> int:
    from tracerd.bpfgen import build_plan, compile_filter

    from ._source import open_source

    kind = _kind(args)
    if args.interval <= 0 or args.interval > 3600:
        raise UsageError(f"invalid --interval: '{args.interval}'")
    if not (sys.stdout.isatty() and sys.stdin.isatty()):
        raise UsageError("top draws on a terminal: run it with stdin and stdout on a tty")
    if kind == "attach":
        args.pid_args = list(args.pid_opts)
        args.command = "attach"
    elif kind == "watch":
        session = int(args.argv[0])
        args.argv = ["--", "true"]  # resolve() checks the rest of the options
    opts = resolve(args)
    if opts.summary or opts.fmt != "strace" or opts.output:
        raise UsageError("top draws its own view: -c/-C, --format and -o do not apply")
    plan = bpf = None
    if kind != "watch":
        bpf = compile_filter(opts.trace) if kind == "run" else None
        plan = build_plan(opts.trace, strsize=1, cpu_time=False, abbrev=frozenset(opts.trace))  # top decodes no argument: fetch next to nothing
    from .decode import Decoder
    from ._top import TopStats

    names = Decoder()
    stats = TopStats(lambda p, n: names.name(p, n))
    if kind == "run":
        argv = list(opts.argv)
        # the terminal is the view's: the command reads /dev/null and writes to --command-output
        try:
            cmd_out = os.open(args.command_output, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise UsageError(f"Can't open '{args.command_output}': {exc.strerror}") from None
        null_in = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        saved = [os.dup(fd) for fd in (0, 1, 2)]
        try:
            os.dup2(null_in, 0)
            os.dup2(cmd_out, 1)
            os.dup2(cmd_out, 2)
            src = open_source(opts, "run", bpf=bpf, plan=plan, bpf_filter="top", colocate=False, daemonize=0)
            src.start()
        finally:
            for fd, s in zip((0, 1, 2), saved):
                os.dup2(s, fd)
                os.close(s)
            os.close(null_in)
            os.close(cmd_out)
        title = " ".join(argv)
    elif kind == "attach":
        src = open_source(opts, "attach", plan=plan, bpf=None, bpf_filter="top")
        src.start()
        title = "pid " + ",".join(map(str, opts.pids))
    else:
        from ._source import choose

        where, path = choose(args)
        if where != "daemon":
            raise UsageError(f"top {session}: sessions live in the daemon, and none answers")
        src = _Watch(path, session)
        title = f"session {session}: " + " ".join(src.info.get("command") or [])
    return _screen(src, stats, kind, title, args)


def _reader(src, stats, done: threading.Event, failure: list) -> None:
    feed = stats.feed
    try:
        for _first, _count, payload in src.frames():
            for rec in iter_records(payload):
                feed(rec)
    except (OSError, ValueError, TracerdError) as exc:
        failure.append(exc)
    finally:
        done.set()


def _screen(src, stats, kind: str, title: str, args) -> int:
    import termios
    import tty

    from rich.console import Console
    from rich.live import Live

    from ._top import SORTS, render

    done = threading.Event()
    failure: list = []
    reader = threading.Thread(target=_reader, args=(src, stats, done, failure), name="tracectl-top-reader", daemon=True)
    reader.start()
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    console = Console(file=sys.stdout)
    sort = args.sort_key
    interrupted = None
    old_int = signal.getsignal(signal.SIGINT)

    def on_int(signo, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_int)
    try:
        tty.setcbreak(fd)
        with Live(console=console, screen=True, auto_refresh=False, transient=True) as live:
            while True:
                stats.tick()
                status = ("ended: q to quit" if done.is_set() else "") + (f" ({failure[0]})" if failure else "")
                live.update(render(stats, title=title, sort=sort, status=status, height=console.size.height), refresh=True)
                r, _, _ = select.select([fd], [], [], args.interval)
                if r:
                    keys = os.read(fd, 64).decode("utf-8", "replace")
                    if "q" in keys or "Q" in keys:
                        break
                    for k in keys:
                        if k in SORTS:
                            sort = k
    except KeyboardInterrupt:
        interrupted = signal.SIGINT
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        signal.signal(signal.SIGINT, old_int)
    return _leave(src, kind, reader, interrupted)


def _leave(src, kind: str, reader: threading.Thread, interrupted) -> int:
    """q: detach (attach), let go (watch), or let the command run to its end
    (run, still traced: it cannot run without its tracer). Ctrl-C: as run and
    attach end on it."""
    if kind == "watch":
        src.close()
        return 0
    send = getattr(src, "send", None)
    if kind == "attach" or interrupted:
        if send is not None:
            send(Ctl.DETACH if kind == "attach" else Ctl.KILL)
        else:
            src.close()  # the daemon: detach / stop the session
        reader.join()
        src.close()
        if interrupted and kind == "run":
            from ._cmd_run import die_like

            return die_like(interrupted)
        return 0
    if reader.is_alive():
        print(f"tracectl: {getattr(src, 'pid', None) or getattr(getattr(src, 'child', None), 'pid', '?')} runs on until it ends (Ctrl-C kills it)", file=sys.stderr)
    try:
        reader.join()
    except KeyboardInterrupt:
        if send is not None:
            send(Ctl.KILL)
        else:
            src.close()
        reader.join()
    status = src.status()
    src.close()
    if status is None:
        return 0
    if os.WIFSIGNALED(status):
        from ._cmd_run import die_like

        return die_like(os.WTERMSIG(status))
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 0

"""`tracectl ls`, `watch ID`, `detach ID`, `stop ID`: the daemon's sessions."""

from __future__ import annotations

import pwd
import sys

from tracerd import TracerdError

from . import _remote
from ._text import printable

COLUMNS = ("ID", "OWNER", "PIDS", "COMMAND", "FILTER", "SUBS", "REC/S", "DROPS")


def add_parser(subparsers, name: str, help: str):
    p = subparsers.add_parser(name, help=help, description=help)
    if name in ("ls", "rules"):
        p.add_argument("--json", action="store_true", help="one JSON object per session" if name == "ls" else "one JSON object per rule")
    elif name == "watch":
        p.add_argument("session", type=int, metavar="ID", nargs="?", help="the session to follow")
        p.add_argument("--rule", metavar="NAME", help="follow every session of this standing rule, present and new (instead of ID)")
        p.add_argument("--policy", choices=("drop", "block"), default="drop", help="when this watcher is slow: drop records (default; a LOST record says how many) or hold the session")
        from .sinks._cli import add_option as add_sink_option

        add_sink_option(p, "drop")
        from . import _options

        _options.add_strace_options(p)
        _options.strict_parser(p)  # strace-style one-line option errors, as run/attach
    else:
        p.add_argument("session", type=int, metavar="ID")
    if name != "watch":
        from . import _options

        _options.strict_parser(p)  # `stop abc`: one line and exit 1, as `watch abc`
    return p


def _socket(args) -> str:
    if getattr(args, "embedded", False):
        raise TracerdError(f"'{args.command}' needs the daemon; --embedded has no sessions")
    path = _remote.find_daemon(args.socket)
    if path is None:
        raise TracerdError(f"no daemon answers on {_remote.DEFAULT_SOCKET} (start tracerd, or name one with --socket)")
    return path


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _rows(sessions: list[dict]) -> list[tuple[str, ...]]:
    rows = []
    for s in sessions:
        # command and filter are the session owner's words: escaped (another
        # user's argv must not reach this terminal raw)
        cmd = s["command"]
        cmd = " ".join(map(printable, cmd)) if isinstance(cmd, list) else printable(cmd)
        rows.append((
            str(s["session"]),
            printable(_user(s["uid"])),
            ",".join(map(str, s["pids"])),
            cmd,
            printable(s["filter"] or "all") + (" [pass-through]" if s.get("state") == "pass-through" else " [seccomp-bpf]" if s.get("seccomp_bpf") else ""),
            str(s["subscribers"]),
            f"{s['rate']:.0f}",
            str(s["dropped"]),
        ))
    return rows


def _print_table(rows, out) -> None:
    if out.isatty():
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        t = Table(box=None, header_style="bold")
        for c in COLUMNS:
            t.add_column(c, justify="right" if c in ("ID", "SUBS", "REC/S", "DROPS") else "left", overflow="fold")
        for r in rows:
            t.add_row(*(Text(v) for v in r))  # plain text: no rich markup in a user's argv
        Console(file=out).print(t)
        return
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(COLUMNS)]
    for r in [COLUMNS, *rows]:
        out.write("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() + "\n")


def run(args) -> int:
    path = _socket(args)
    with _remote.Client(path) as client:
        if args.command == "ls":
            sessions = client.request("list")["sessions"]
            if args.json:
                import json

                for s in sessions:
                    print(json.dumps(s))
            else:
                _print_table(_rows(sessions), sys.stdout)
            return 0
        if args.command == "rules":
            from ._cmd_rules import show

            return show(client.request("rules"), args.json, sys.stdout)
        if args.command in ("detach", "stop"):
            client.request(args.command, {"session": args.session})
            return 0
        return _watch(client, args)


def _watch(client, args) -> int:
    from dataclasses import replace

    from ._options import resolve
    from .sinks._cli import TracectlSinks

    if (args.rule is None) == (args.session is None):
        raise TracerdError("watch takes a session ID or --rule NAME")
    rule, session = args.rule, args.session
    req = {"rule": rule} if rule is not None else {"session": session}
    req["policy"] = args.policy
    opts = resolve(args)  # from here on the options are read from opts alone
    sinks = TracectlSinks(opts.sinks, "drop")
    sinks.attach_to(req, None)  # --sink: the daemon runs them (a dict takes the request's sinks)
    try:
        info = client.request("watch", req, fds=sinks.fds)
    finally:
        sinks.close()
    if rule is not None:
        info["session"] = None
    else:  # the session's processes are the roots, as if attached to them
        opts = replace(opts, pids=tuple(int(p) for p in info["pids"]))
    from ._source import note_end, print_frames

    printer, close = _printer(opts, rule is not None)
    ended: list = []
    try:
        # a rule's sessions (session None): each its own processes; runs until ^C
        print_frames(_remote.session_frames(client.events(), session, ended), printer.feed, flush=printer.flush)
        end = ended[0] if ended else None
        note_end(printer, end)  # not the session's own end: say why
        printer.finish()
    finally:
        close()
    if end is not None and end.reason in ("worker-died", "error"):
        if end.message and printable(end.message) in printer.errors:
            raise TracerdError("")  # the tracer's error record was printed already
        raise TracerdError(f"session {info['session']}: {printable(end.message or end.reason)}")
    return 0


def _printer(opts, rule: bool):
    """strace's output, with the same options as attach: the watched session's
    pids are the roots (a rule's processes come and go: no roots)."""
    from ._cmd_run import make_decoder, open_output
    from ._printers import make_printer

    out, owned = open_output(opts)
    printer = make_printer("watch", opts, make_decoder(opts), out, notes=sys.stderr, roots=None if rule else opts.pids, batch=True)
    return printer, (out.close if owned else (lambda: None))

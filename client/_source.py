"""Where records come from: the embedded worker or a daemon (the rules of docs/cli.md, `--embedded`/`--socket`).

`--embedded` -> a worker child process, no daemon. `--socket PATH` or
`$TRACERD_SOCKET` -> that daemon, and an unreachable one is an error. Neither
-> the default socket if a daemon answers there, else embedded.

Both kinds of source have one shape: `.start()`, `.frames()` -> iterator of
`(first_seq, count, payload)`, `.close()`, and for run `.status()` (the
launched command's os.waitpid status) and `.pid`.

`print_frames()` is the one frame loop: records to a printer, a flush per
frame; `trace()` (run, attach) and `watch` use it, and `note_end()` for the
daemon's word on why a stream ended.
"""

from __future__ import annotations

import os
import sys

from tracerd import TracerdError, UsageError

DEFAULT_SOCKET = "/run/tracerd/tracerd.sock"


def _remote_module():
    from . import _remote  # on use: it imports trio

    return _remote


def choose(args) -> tuple[str, str | None]:
    """("embedded", None) or ("daemon", socket path). `args`: the RunOptions
    (or, before they exist, the parsed options): `embedded`, `socket`."""
    if getattr(args, "embedded", False):
        return "embedded", None
    explicit = getattr(args, "socket", None) or os.environ.get("TRACERD_SOCKET") or None
    # nobody at the default socket: embedded, without the protocol's imports
    # (~10 ms of a start); _remote's own value if loaded (tests point it elsewhere)
    loaded = sys.modules.get(__package__ + "._remote")
    if not explicit and not os.path.lexists(getattr(loaded, "DEFAULT_SOCKET", DEFAULT_SOCKET)):
        return "embedded", None
    remote = _remote_module()
    if explicit:
        path = remote.find_daemon(explicit)
        if path is None:
            raise TracerdError(f"cannot connect to tracerd at {explicit}")
        return "daemon", path
    path = remote.find_daemon(None)
    return ("daemon", path) if path else ("embedded", None)


def likely_embedded(args) -> bool:
    """Whether `choose` will very likely say embedded, judged without
    connecting anywhere: --embedded, or no socket named and none at the
    default path. (A stale default socket makes this False and choose()
    embedded: that run merely spawns its worker late.)"""
    if getattr(args, "embedded", False):
        return True
    if getattr(args, "socket", None) or os.environ.get("TRACERD_SOCKET"):
        return False
    return not os.path.exists(DEFAULT_SOCKET)


def prefork(args):
    """Fork the embedded worker now, before the options are resolved and the
    filter compiled, if this run will likely be embedded (None otherwise).
    Saves starting a fresh interpreter for it (~45 ms); hand the result to
    open_source(worker=...), which abandons it if the source is a daemon.
    A worker tracectl forked before parsing (`args.early_worker`, see
    client/_cli.py `_early_worker`) is the one used, or let go."""
    early = getattr(args, "early_worker", None)
    if not likely_embedded(args) or getattr(args, "daemonize", 0):
        if early is not None:
            early.abandon()
        return None  # -D: the worker must not be a child of what becomes the command
    if early is not None:
        return early
    from . import _embedded

    return _embedded.prefork_worker()


def open_source(opts, kind: str, *, bpf: bytes | None = None, plan: bytes, bpf_filter: str = "", worker=None, ignored=(), follow: bool = True, colocate: bool | None = None, daemonize: int | None = None):
    """An unstarted source of frames for `run` (opts.argv, bpf) or `attach`
    (opts.pids), embedded or through the daemon as `opts` says.

    `bpf_filter` is the user's own wording of the filter, shown by `tracectl ls`.
    `worker`: a worker from prefork(), used if the source is embedded.
    `ignored`: signals a launched command keeps ignored (see _launch.launch).
    `follow`: run: the command has the filter (bpf) and its children are
    followed; False: bpf is None, the command alone is traced, with plain
    syscall stops (run without -f).
    `colocate`, `daemonize`: opts' unless given (top runs its command plainly).
    """
    argv, pids, env, user, drop = opts.argv, opts.pids, opts.env, opts.user, False
    colocate = opts.colocate if colocate is None else colocate
    daemonize = opts.daemonize if daemonize is None else daemonize
    try:
        where, path = choose(opts)
    except BaseException:
        if worker is not None:
            worker.abandon()
        raise
    if where == "embedded":
        from . import _embedded

        if kind == "run":
            return _embedded.EmbeddedRun(list(argv), bpf=bpf, plan=plan, env=env, drop=drop, colocate=colocate, worker=worker, user=user, ignored=ignored, follow=follow, daemonize=daemonize)
        return _embedded.EmbeddedAttach(list(pids), plan=plan, drop=drop, bpf=bpf, worker=worker)
    if worker is not None:
        worker.abandon()
    if daemonize:
        raise UsageError("-D/--daemonize works with the embedded tracer: add --embedded")
    remote = _remote_module()
    if kind == "run":
        return remote.RemoteRun(path, list(argv), bpf=bpf, plan=plan, env=env, drop=drop, colocate=colocate, bpf_filter=bpf_filter, user=user, ignored=ignored, follow=follow)
    return remote.RemoteAttach(path, list(pids), plan=plan, drop=drop, bpf_filter=bpf_filter, bpf=bpf)


def print_frames(frames, feed, *, before_flush=None, flush=None, ack=None) -> None:
    """The frame loop: each frame's records to `feed` (a printer's feed),
    then `before_flush()`, `flush()` (the printer's: one write per frame,
    notes shown at once) and `ack(next_seq)` (sync mode: the worker may
    resume the tracee it holds), each when given."""
    from tracerd._wire import iter_records

    for first, count, payload in frames:
        for rec in iter_records(payload):
            feed(rec)
        if before_flush is not None:
            before_flush()
        if flush is not None:
            flush()
        if ack is not None:
            ack(first + count)


# End reasons that the daemon decided (not our command, not us): said in one
# line, in the daemon's words when it sends some
ENDED_BY_DAEMON = {"shutdown": "the daemon shut down", "kicked": "the daemon ended this session"}


def note_end(printer, end) -> None:
    """Say why a daemon's stream ended, when the daemon ended it (its End)."""
    if end is not None and end.reason in ENDED_BY_DAEMON:
        from ._text import printable

        printer.note(printable(end.message) if end.message else f"session {end.session}: {ENDED_BY_DAEMON[end.reason]}")

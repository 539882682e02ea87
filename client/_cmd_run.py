"""`tracectl run [OPTIONS] [--] CMD [ARGS...]`: strace CMD.

Also holds the driver `trace()` that `attach` shares: compile the filter and
the fetch plan, open the output, start the source (embedded worker or daemon),
print every record, and end as strace ends (the command's exit status, or
the same signal that killed it).
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import sys

from tracerd import TracerdError, TracerError, UsageError
from tracerd._wire import Ctl, iter_records

from ._cli import settled
from ._options import add_strace_options, resolve, strict_parser, warnings
from ._outfile import Quiet
from ._text import printable
from .sinks._cli import TracectlSinks, add_option as add_sink_option

# signals that end tracectl while it traces: the source is closed first
# (launched commands are killed, attached ones detached), as strace's cleanup.
FATAL = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGPIPE)
# of them, those tracectl handles whatever it inherited (a script's
# background `tracectl attach ... &` starts with SIGINT/SIGQUIT ignored, and
# `kill -INT` must still end it, as it ends strace); SIGPIPE is ignored by
# Python itself, and a broken output is handled where it is written.
OWN = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


# End reasons that the daemon decided (not our command, not us): said in one
# line, in the daemon's words when it sends some
ENDED_BY_DAEMON = {"shutdown": "the daemon shut down", "kicked": "the daemon ended this session"}


class Interrupted(BaseException):
    def __init__(self, signo: int):
        super().__init__(signo)
        self.signo = signo


class _UseAttach(argparse.Action):
    def __call__(self, parser, ns, value, option_string=None):
        raise UsageError(f"{option_string} PID: attaching is 'tracectl attach PID...'")


def add_parser(subparsers, name, help):
    p = subparsers.add_parser(
        name,
        help=help,
        usage="tracectl run [-ACcfhnqrTtvwxyzZ] [-e EXPR]... [-o FILE] [-s STRSIZE] [-S SORTBY] [-P PATH]... [-E VAR=VAL]... [--format=FORMAT] [--] CMD [ARGS...]",
        description="Run CMD and trace it, as `strace CMD` does (strace's options and output).",
    )
    add_strace_options(p)
    add_sink_option(p, "block")
    p.add_argument("-p", "--attach", dest="pid_opts", action=_UseAttach, metavar="PID", help=argparse.SUPPRESS)
    p.add_argument("argv", nargs=argparse.REMAINDER, metavar="CMD [ARGS...]", help="the command to run")
    strict_parser(p)
    return p


def run(args) -> int:
    from ._source import prefork

    worker = prefork(args)  # first: the worker then forks from a small process
    try:
        opts = resolve(args)
        return trace(args, opts, worker=worker)
    finally:
        if worker is not None:
            worker.abandon()  # a no-op once the source started it


def open_output(opts):
    """The trace output stream: stderr, or the -o file (opened before anything
    runs so a bad path fails first, in strace's words)."""
    from ._outfile import OutFile

    path = opts.output
    if path is None:
        if opts.fmt == "perfetto":
            raise UsageError("--format=perfetto writes a binary trace: name it with -o FILE")
        if opts.fmt == "msgpack" and sys.stderr.isatty():
            raise UsageError("--format=msgpack writes binary records: send them to -o FILE or redirect stderr")
        return Quiet(sys.stderr), False
    if path.startswith("|") or path.startswith("!"):
        raise UsageError("-o |COMMAND (piping the output to a command) is not supported by tracectl")
    if opts.follow >= 2 and opts.fmt == "strace":
        # one file per task, opened as tasks appear: check the directory now
        d = os.path.dirname(path) or "."
        if not os.access(d, os.W_OK | os.X_OK):
            err = os.strerror(2 if not os.path.isdir(d) else 13)
            raise UsageError(f"Can't fopen '{path}.PID': {err}")
        return Quiet(sys.stderr), False
    try:
        # a failed write is reported and the trace goes on (as strace)
        fp = OutFile.open(path, "a" if opts.append else "w")
    except OSError as exc:
        raise UsageError(f"Can't fopen '{path}': {exc.strerror}") from None
    return fp, True


def plan_fds(opts) -> frozenset:
    """What the tracer names fds with at the stops (build_plan's `fds=`):
    the --decode-fds sets -y/-yy/--decode-fds ask for, and "path" for -P
    (it matches fds by what they name). Empty: no fd is named."""
    from tracerd.bpfgen._plan import FD_SETS

    d = opts.decode
    out = set()
    if d is not None and getattr(opts, "summary", None) != 1:  # -c prints no fd (strace: -y has no effect)
        sets = set(d.decode_fds or ())
        if "all" in sets or d.yflag >= 2:
            sets |= FD_SETS
        if d.yflag >= 1:
            sets.add("path")
        out |= sets & FD_SETS
    if opts.paths:
        out.add("path")
    return frozenset(out)


def make_decoder(opts):
    from tracerd.client.decode import Decoder

    return Decoder(opts.decode)


def die_like(signo: int) -> int:
    """End this process with `signo`, as strace does when its command was
    killed by it (no core file of our own; 128+N if the signal is not fatal)."""
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass
    for fp in (sys.stdout, sys.stderr):
        try:
            fp.flush()
        except (OSError, ValueError):
            pass  # a reader that went away (the very reason, for SIGPIPE)
    try:
        signal.signal(signo, signal.SIG_DFL)
    except (OSError, ValueError):
        pass  # SIGKILL, SIGSTOP: always default
    if signo in signal.valid_signals():  # not glibc's own 32 and 33 (a RuntimeWarning)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signo])
    os.kill(os.getpid(), signo)
    # still here: the signal is not fatal (or ignored by our parent's say)
    return 128 + signo


def trace(args, opts, *, kind: str = "run", worker=None) -> int:
    from tracerd.bpfgen import build_plan, compile_filter

    from ._printers import make_printer
    from ._source import open_source

    for w in warnings(args, opts):
        print(f"tracectl: {w}", file=sys.stderr)
    # attach --seccomp-bpf injects the same filter into the running processes
    fds = plan_fds(opts)  # fds named while the tracee is stopped (-y, -yy, -P)
    bpf = compile_filter(opts.trace, errno=opts.kernel_errno, fds=bool(fds)) if kind == "run" or opts.seccomp_bpf else None
    plan = build_plan(opts.trace, strsize=opts.plan_strsize, cpu_time=opts.cpu_time, abbrev=opts.plan_abbrev, tamper=opts.tamper, paths=opts.paths if opts.tamper else (), fds=fds)
    decoder = make_decoder(opts)
    sinks = TracectlSinks(getattr(args, "sink", None), "block")  # a bad --sink URL fails before anything runs
    out, owned = open_output(opts)
    shown = " ".join(f"-e {e}" for e in args.exprs) + "".join(f" -P {p}" for p in args.paths)
    # A signal ignored when we started (nohup, `trap '' INT`, a background
    # job's SIGINT/SIGQUIT) stays ignored for the command, which inherits the
    # disposition through exec as it would under strace (a handler of ours
    # would be reset to the default by the exec: launch sets SIG_IGN again).
    ignored = tuple(s for s in OWN if signal.getsignal(s) == signal.SIG_IGN)
    if kind == "run":
        src = open_source(args, "run", argv=opts.argv, bpf=bpf, plan=plan, env=opts.env, colocate=opts.colocate, bpf_filter=shown.strip(), worker=worker, user=opts.user, ignored=ignored)
    else:
        src = open_source(args, "attach", pids=opts.pids, plan=plan, bpf=bpf, bpf_filter=shown.strip(), worker=worker)

    interrupted = []

    def on_signal(signo, frame):
        if not interrupted:
            interrupted.append(signo)
            raise Interrupted(signo)

    old = {s: signal.signal(s, on_signal) for s in FATAL if s in OWN or signal.getsignal(s) != signal.SIG_IGN}
    settled()  # set-up done: the collector may run during the trace
    printer = None
    status = None
    try:
        sinks.attach_to(src, opts, opts.argv if kind == "run" else None)
        src.start()
        pid = getattr(src, "pid", None) or getattr(getattr(src, "child", None), "pid", None)
        roots = opts.pids if kind == "attach" else ([pid] if pid else None)
        printer = make_printer(args, kind, opts, decoder, out, notes=Quiet(sys.stderr), roots=roots, launched=kind == "run", batch=True)
        feed = printer.feed
        try:
            for _first, _count, payload in sinks.tee(src.frames()):
                for rec in iter_records(payload):
                    feed(rec)
                printer.flush()
        except Interrupted:
            # strace's cleanup: kill what we launched, detach what we attached,
            # then show what the tracer still reports (detach notes, exits)
            send = getattr(src, "send", None)
            if send is not None:
                send(Ctl.KILL if kind == "run" else Ctl.DETACH)
            else:
                src.close()
            try:
                for _first, _count, payload in sinks.tee(src.frames()):
                    for rec in iter_records(payload):
                        printer.feed(rec)
            except (Interrupted, OSError, ValueError, TracerdError):
                pass
        except BrokenPipeError:
            interrupted.append(signal.SIGPIPE)
            src.close()
        except TracerError as exc:
            if str(exc) in printer.errors:  # the tracer's own note said it already
                raise TracerError("") from None
            raise
        end = getattr(src, "end", None)  # a daemon's End: why the stream stopped
        if end is not None and end.reason in ENDED_BY_DAEMON:
            printer.note(printable(end.message) if end.message else f"session {end.session}: {ENDED_BY_DAEMON[end.reason]}")
        printer.finish()
        if kind == "run":
            status = src.status()
    except Interrupted:
        pass  # arrived before the stream started: nothing to print
    finally:
        try:
            src.close()
            sinks.close()
        finally:
            for s, h in old.items():
                signal.signal(s, h)
            if owned:
                out.close()
    if interrupted:
        return die_like(interrupted[0])
    if kind != "run" or status is None:
        return 0
    if os.WIFSIGNALED(status):
        return die_like(os.WTERMSIG(status))
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return 0

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
import time

from tracerd import TracerdError, TracerError, UsageError
from tracerd._protocol import MAX_STR
from tracerd._wire import PLAN_HEADER, Ctl, Pers, PlanFlag, Rec, record

from ._cli import settled
from ._options import add_strace_options, resolve, strict_parser
from ._outfile import Quiet
from ._source import ENDED_BY_DAEMON, note_end, print_frames
from .sinks._cli import TracectlSinks, add_option as add_sink_option

# signals that end tracectl while it traces: the source is closed first
# (launched commands are killed, attached ones detached), as strace's cleanup.
FATAL = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGPIPE)
# of them, those tracectl handles whatever it inherited (a script's
# background `tracectl attach ... &` starts with SIGINT/SIGQUIT ignored, and
# `kill -INT` must still end it, as it ends strace); SIGPIPE is ignored by
# Python itself, and a broken output is handled where it is written.
OWN = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


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
        return trace(opts, worker=worker)
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
        from ._outfile import PipeOut

        if opts.follow >= 2:
            raise UsageError("piping the output and -ff/--output-separately are mutually exclusive")
        try:
            return PipeOut.start(path[1:], Quiet(sys.stderr)), True
        except OSError as exc:
            raise UsageError(f"Can't execute '/bin/sh': {exc.strerror}") from None
    if opts.follow >= 2 and opts.fmt in ("strace", "jsonl"):
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


# calls whose line strace starts before they run, so the data they write to
# a shared terminal shows inside it: `write(1, "hi\n", 3hi\n) = 3`
ENTRY_LINES = ("write", "writev", "pwrite64", "pwritev", "pwritev2", "sendto", "sendmsg", "sendfile")


def _entry_lines(trace) -> list:
    """The traced (pers, nr) of ENTRY_LINES."""
    from tracerd.bpfgen import load_table

    table = load_table()
    return sorted((p, n) for p, n in trace if getattr(table.lookup(p, n), "name", None) in ENTRY_LINES)


def _plan_flag(plan: bytes, flag: int) -> bytes:
    """The fetch plan with one more PlanFlag in its header (-i: PlanFlag.IP,
    the records carry the instruction pointer)."""
    magic, version, count, strsize, flags = PLAN_HEADER.unpack_from(plan)
    return PLAN_HEADER.pack(magic, version, count, strsize, flags | flag) + plan[PLAN_HEADER.size :]


# -k: the calls that change a process's mappings (strace's %memory and the
# execs). As strace's --seccomp-bpf does with -k, the filter stops them even
# when not traced, so the worker reads the module cache again after one of
# them (the plan has no entry for them: they make no record).
MAPPING_CALLS = ("mmap", "mmap2", "mprotect", "munmap", "brk", "mremap", "shmat", "shmdt", "remap_file_pages", "pkey_mprotect", "execve", "execveat")


def _mapping_calls(opts) -> frozenset:
    """The (pers, nr) of MAPPING_CALLS, less those failed in the kernel."""
    from tracerd.bpfgen import load_table

    table = load_table()
    errno = opts.kernel_errno or {}
    return frozenset(
        (p, n) for p in Pers for n, s in table.numbers(p).items() if s.name in MAPPING_CALLS and (p, n) not in errno
    )


def _pass_signal(pid: int, signo: int) -> bool:
    """Send the command (our own child) SIGCONT and `signo`, as strace's
    cleanup does; False when it is gone."""
    try:
        os.kill(pid, signal.SIGCONT)
        os.kill(pid, signo)
    except OSError:
        return False
    return True


def _shares_stderr(opts, kind) -> bool:
    """The trace goes to the stderr the command writes to too: `run` without
    -o, strace's text (the lines are what a reader orders by), something to
    print (not -c alone). TRACECTL_SYNC=0 turns it off, =1 on for any
    output (measuring)."""
    forced = os.environ.get("TRACECTL_SYNC")
    if forced in ("0", "1"):
        return forced == "1" and kind == "run"
    if kind == "run" and getattr(opts, "pid_comm", False) and opts.fmt == "strace" and opts.summary != 1:
        return True  # -Y: names read from /proc while the task is held, as strace reads them
    return kind == "run" and opts.output is None and opts.fmt == "strace" and opts.summary != 1


def _debug_notes(opts, kind, bpf, plan) -> None:
    """-d: what tracectl set up, one `tracectl: debug: ...` line each (strace's
    -d describes its own internals; these are ours)."""
    from tracerd.bpfgen import load_table

    table = load_table()
    names = sorted({getattr(table.lookup(p, n), "name", None) or f"{p}:{n}" for p, n in opts.trace})
    lines = [
        f"source: {'embedded worker' if opts.embedded else 'daemon if one answers, else embedded worker'} ({kind})",
        f"traced calls: {len(names)} ({', '.join(names[:8])}{', ...' if len(names) > 8 else ''})",
        f"seccomp filter: {len(bpf) // 8 if isinstance(bpf, (bytes, bytearray)) else 'none'} instructions" if bpf is not None else "seccomp filter: none",
        f"fetch plan: {len(plan) if isinstance(plan, (bytes, bytearray)) else '?'} bytes, strings up to {opts.plan_strsize} bytes",
        f"output: {opts.output or 'stderr'} ({opts.fmt})",
    ]
    for line in lines:
        print(f"tracectl: debug: {line}", file=sys.stderr)


def _standard_fds_away() -> None:
    """As strace once its command runs: our stdin and stdout become the read
    end of a pipe nobody writes (reads see EOF, writes fail), so a pipeline
    sees EOF when the command closes them, not when tracectl ends (fds 0 and
    1 are never left closed: a later open would take them)."""
    for fd in (0, 1):
        r, w = os.pipe()
        os.close(w)
        if r != fd:
            os.dup2(r, fd, inheritable=False)
            os.close(r)


def _exec_error_feed(printer, pid, errno_):
    """printer.feed, with strace's `exec: ERROR` note put before the
    command's exit (feed(None): the stream ended without one)."""
    said = []
    feed = printer.feed
    gone = (int(Rec.EXIT), int(Rec.KILLED))

    def fed(rec):
        if not said and (rec is None or (rec[0] in gone and rec[3] == pid)):
            said.append(1)
            printer.note(f"exec: {os.strerror(errno_)}")
        if rec is not None:
            feed(rec)

    return fed


def _unknown_exits(printer, reaper) -> None:
    """strace without -f: a child of ours it did not trace (made with
    CLONE_PARENT, or an orphan when tracectl is PID 1) is reaped with
    `Exit of unknown pid N ignored`."""
    for pid in reaper.take():
        printer.note(f"Exit of unknown pid {pid} ignored")


def trace(opts, *, kind: str = "run", worker=None) -> int:
    """Trace as `opts` (resolve()'s RunOptions) say: kind "run" or "attach"."""
    from tracerd.bpfgen import build_plan, compile_filter

    from ._printers import make_printer
    from ._source import open_source

    for w in opts.warning_lines:
        print(f"tracectl: {w}", file=sys.stderr)
    # run: the command gets the filter when its children are followed (-f),
    # or when asked (--seccomp-bpf, --in-kernel faults); else, as strace
    # without -f, the command alone is traced with plain syscall stops, and
    # its children are free to be ptraced by it (docs/cli.md, "Children")
    # attach --seccomp-bpf injects the same filter into the running processes
    fds = plan_fds(opts)  # fds named while the tracee is stopped (-y, -yy, -P)
    filtered = kind == "run" and bool(opts.follow or opts.seccomp_bpf or opts.kernel_errno)
    filter_set = opts.trace | _mapping_calls(opts) if opts.stack else opts.trace
    bpf = compile_filter(filter_set, errno=opts.kernel_errno, fds=bool(fds)) if filtered or (kind != "run" and opts.seccomp_bpf) else None
    plan = build_plan(opts.trace, strsize=opts.plan_strsize, cpu_time=opts.cpu_time, abbrev=opts.plan_abbrev, tamper=opts.tamper, paths=opts.paths if opts.tamper else (), fds=fds)
    if opts.iflag:
        plan = _plan_flag(plan, PlanFlag.IP)
    if opts.kvm_vcpu:
        plan = _plan_flag(plan, PlanFlag.KVM)
    if opts.stack:
        plan = _plan_flag(plan, PlanFlag.STACK)
    decoder = make_decoder(opts)
    if opts.debug:
        _debug_notes(opts, kind, bpf, plan)
    sinks = TracectlSinks(opts.sinks, "block")  # a bad --sink URL fails before anything runs
    out, owned = open_output(opts)
    shown = (" ".join(f"-e {e}" for e in opts.exprs) + "".join(f" -P {p}" for p in opts.path_args)).strip()
    if len(shown) > MAX_STR // 4:  # what `ls` shows of it, within the protocol's string limit in any encoding
        shown = shown[: MAX_STR // 4 - 3] + "..."
    # A signal ignored when we started (nohup, `trap '' INT`, a background
    # job's SIGINT/SIGQUIT) stays ignored for the command, which inherits the
    # disposition through exec as it would under strace (a handler of ours
    # would be reset to the default by the exec: launch sets SIG_IGN again).
    ignored = tuple(s for s in (*OWN, signal.SIGTSTP) if signal.getsignal(s) == signal.SIG_IGN)
    src = open_source(opts, kind, bpf=bpf, plan=plan, bpf_filter=shown, worker=worker, ignored=ignored, follow=filtered)

    interrupted = []

    def on_signal(signo, frame):
        if not interrupted:
            interrupted.append(signo)
            raise Interrupted(signo)

    daemonized = kind == "run" and getattr(opts, "daemonize", 0)
    if daemonized and opts.intr == 1:
        # -D -I1: strace's tracer, not the command's parent, dies of a
        # fatal signal at once, leaving its output as it stands; our worker
        # then goes on pass-through until the command ends
        own = [s for s in FATAL if signal.getsignal(s) != signal.SIG_IGN]
        old = {s: signal.signal(s, signal.SIG_DFL) for s in own}
    elif opts.intr >= 3:
        # -I3/-I4: the fatal signals (and with -I4 ^Z) do not reach tracectl;
        # the command keeps the dispositions it inherits (`ignored` above),
        # so ^C ends it and tracectl reports that and ends as it did
        own = [s for s in FATAL if signal.getsignal(s) != signal.SIG_IGN]
        if opts.intr >= 4:
            own.append(signal.SIGTSTP)
        old = {s: signal.signal(s, signal.SIG_IGN) for s in own}
    else:
        old = {s: signal.signal(s, on_signal) for s in FATAL if s in OWN or signal.getsignal(s) != signal.SIG_IGN}
    # strace prints a call's line before the tracee runs on: on a shared
    # stderr, the program's own output then follows the call that caused it.
    # The embedded worker does the same when asked (sync mode: it waits for
    # our ack before each resume); into a file, records stay batched.
    sync = _shares_stderr(opts, kind) and hasattr(src, "ack")
    if sync:
        src.sync = True
        src.entry_lines = _entry_lines(opts.trace)
    settled()  # set-up done: the collector may run during the trace
    printer = None
    status = None
    reaper = None
    try:
        sinks.attach_to(src, opts, opts.argv if kind == "run" else None)
        if kind == "run":
            from ._launch import Reaper

            reaper = Reaper()  # before the command exists: what is here is ours
        src.start()
        if reaper is not None:
            from ._launch import LAUNCH_FDS

            decoder.launch_fds = dict(LAUNCH_FDS)  # what the command inherited, for -y
            _standard_fds_away()  # the command runs: it alone holds them now
        child = getattr(src, "child", None)
        pid = getattr(src, "pid", None) or getattr(child, "pid", None)
        roots = opts.pids if kind == "attach" else ([pid] if pid else None)
        printer = make_printer(kind, opts, decoder, out, notes=out if opts.output is None else Quiet(sys.stderr), roots=roots, launched=kind == "run", batch=True)
        if getattr(opts, "daemonize", 0) and pid and "attach" not in opts.quiet:
            printer.note(f"Process {pid} attached")  # -D: the tracer attached to its caller, as strace says
        feed = printer.feed
        if reaper is not None:
            # our own children by our numbers (a daemon's pid for the command differs in a container)
            reaper.keep(getattr(child, "pid", None) or pid, getattr(getattr(src, "_worker", None), "pid", None))
            old.setdefault(signal.SIGCHLD, signal.signal(signal.SIGCHLD, lambda signo, frame: reaper.reap()))
            reaper.reap()  # one that came before the handler
        exec_errno = getattr(child, "exec_errno", None)
        if exec_errno is not None:
            # strace's order: the failed execve's line, the child's
            # "exec: ERROR", then its exit: the note goes before the
            # command's end (or the stream's end, if that never shows)
            feed = _exec_error_feed(printer, pid, exec_errno)
        unknown = None if reaper is None or filtered or "exit" in opts.quiet else (lambda: _unknown_exits(printer, reaper))
        ack = src.ack if sync else None
        try:
            print_frames(sinks.tee(src.frames()), feed, before_flush=unknown, flush=printer.flush, ack=ack)
            if exec_errno is not None:
                feed(None)
            if reaper is not None:
                reaper.wait_all()  # as strace, which ends when wait says ECHILD
                if unknown is not None:
                    unknown()
        except Interrupted:
            # strace's cleanup: kill what we launched, detach what we attached,
            # then show what the tracer still reports (detach notes, exits)
            send = getattr(src, "send", None)
            ours = getattr(child, "pid", None) or pid  # our number for it (a daemon's may differ)
            if kind == "run" and ours and not getattr(opts, "daemonize", 0):
                # strace's cleanup: its command gets the signal that ended
                # strace, and is detached; what the tracer reports after shows as that
                printer.release_ts = time.time_ns()
                if not _pass_signal(ours, interrupted[0]):
                    printer.release_ts = None
            if send is not None:
                # -D: the command is our caller's: detached (the worker stays
                # its pass-through tracer), never killed
                send(Ctl.KILL if kind == "run" and not daemonized else Ctl.DETACH)
            else:
                src.close()
            try:
                # with sync, a held tracee must get its kill: acked per frame
                print_frames(sinks.tee(src.frames()), printer.feed, flush=printer.flush if sync else None, ack=ack)
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
            note_end(printer, end)
        elif kind == "run" and not interrupted and opts.fmt == "strace" and pid and pid not in printer.dead:
            # the tracer lost the command's end (a non-leader thread's exec
            # under plain stops: the old leader goes without a status):
            # strace's line from the status we reap ourselves
            status = src.status()
            st_rec = record(Rec.EXIT, 0, time.time_ns(), pid, pid, os.WEXITSTATUS(status)) if os.WIFEXITED(status) else (
                record(Rec.KILLED, 0, time.time_ns(), pid, pid, os.WTERMSIG(status), os.WCOREDUMP(status)) if os.WIFSIGNALED(status) else None)
            if st_rec is not None:
                printer.feed(st_rec)
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
    if opts.tips is not None:
        from ._tips import print_tip

        print_tip(opts)
    if interrupted:
        return die_like(interrupted[0])
    if kind != "run" or status is None:
        return 0
    if pid in getattr(printer, "detached_roots", ()):
        return 0  # -b execve let the command go: strace does not wait for its end
    if os.WIFSIGNALED(status):
        return die_like(os.WTERMSIG(status))
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return 0

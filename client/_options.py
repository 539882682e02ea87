"""strace's options, shared by `tracectl run` and `tracectl attach`.

`add_strace_options(parser)` declares them on an argparse parser (strace's
letters and long names; short letters combine as getopt's do: `-fftt`,
`-s64`, `-etrace=open`); `resolve(args)` checks them and returns a frozen
`RunOptions` that the printer, the bpf compiler and the fetch plan read.
An option strace has and tracectl lacks is refused with one line, never
silently ignored.
"""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass, field, replace

from tracerd import UsageError, __version__

# -e NAME=... and its long form --NAME=...: all go to Qualifiers.qualify().
QUALIFIER_OPTIONS = (
    "trace",
    "signal",
    "status",
    "inject",
    "fault",
    "abbrev",
    "verbose",
    "raw",
    "read",
    "write",
    "kvm",
)

# strace options tracectl does not have (yet): refused by name.
UNSUPPORTED: dict = {}

PRECISIONS = {"s": 0, "ms": 3, "us": 6, "ns": 9}
SORT_KEYS = {
    "time": "time", "time_percent": "time", "time-percent": "time", "time_total": "time",
    "time-total": "time", "total_time": "time", "total-time": "time",
    "min_time": "min", "min-time": "min", "shortest": "min", "time_min": "min", "time-min": "min",
    "longest": "max", "max_time": "max", "max-time": "max", "time_max": "max", "time-max": "max",
    "avg_time": "avg", "avg-time": "avg", "time_avg": "avg", "time-avg": "avg",
    "calls": "calls", "count": "calls", "error": "errors", "errors": "errors",
    "name": "name", "syscall": "name", "syscall_name": "name", "syscall-name": "name",
    "none": "nothing", "nothing": "nothing",
}
# -U column names -> column ids (strace's count.c aliases)
COLUMN_KEYS = {
    "time": "percent", "time_percent": "percent", "time-percent": "percent",
    "time_total": "total", "time-total": "total", "total_time": "total", "total-time": "total",
    "min_time": "min", "min-time": "min", "shortest": "min", "time_min": "min", "time-min": "min",
    "longest": "max", "max_time": "max", "max-time": "max", "time_max": "max", "time-max": "max",
    "avg_time": "avg", "avg-time": "avg", "time_avg": "avg", "time-avg": "avg",
    "calls": "calls", "count": "calls", "error": "errors", "errors": "errors",
    "name": "name", "syscall": "name", "syscall_name": "name", "syscall-name": "name",
    # ours (strace has none): latency percentiles from the ns-precise times
    "p50_time": "p50", "p50-time": "p50", "p99_time": "p99", "p99-time": "p99",
}
DEFAULT_COLUMNS = ("percent", "total", "avg", "calls", "errors", "name")
ALL_DECODE_FDS = frozenset({"path", "socket", "dev", "pidfd"})
FORMATS = ("strace", "jsonl", "msgpack", "perfetto")
STATUSES = frozenset({"successful", "failed", "unfinished", "unavailable", "detached"})


@dataclass(frozen=True)
class RunOptions:
    """Everything `run`/`attach` resolved from the command line."""

    # what to trace (Qualifiers results; (Pers, nr) pairs)
    trace: frozenset = frozenset()
    signals: frozenset | None = None  # None: every signal is shown
    status: frozenset = frozenset()  # empty: every status is shown
    quiet: frozenset = frozenset()  # attach, exit, path-resolution, personality, thread-execve, superseded
    paths: tuple = ()
    subcalls: frozenset | None = None  # i386 socketcall/ipc subcalls to show (None: all)
    read_fds: object = frozenset()  # -e read=: fds whose reads are dumped (supports `in`)
    write_fds: object = frozenset()  # -e write=
    qualifiers: object = None  # the Qualifiers object itself
    # decoding (the decoder's DecodeOptions, or None when it is not importable)
    decode: object = None
    strsize: int = 32
    # output
    fmt: str = "strace"  # strace | jsonl | msgpack
    output: str | None = None
    append: bool = False
    follow: int = 0  # -f count: 2 = -ff (one file per pid with -o)
    tflag: int = 0  # 0 none, 1 -t, 2 -tt, 3 -ttt
    ts_format: str = "none"  # none | time | unix
    ts_precision: int = 0  # digits after the point
    relative: bool = False
    rel_precision: int = 6
    syscall_times: bool = False
    dur_precision: int = 6
    acolumn: int = 40
    syscall_number: bool = False
    pidns: bool = False
    pid_comm: bool = False  # -Y: pid prefixes as `N<comm>`
    detach_execve: bool = False  # -b execve
    iflag: bool = False  # -i
    kvm_vcpu: bool = False  # -e kvm=vcpu: KVM_RUN's exit reason (PlanFlag.KVM)
    stack: bool = False  # -k: each call's stack, unwound by the worker at its entry
    daemonize: int = 0  # -D count: 1 grandchild, 2 own process group, 3 own session
    # summary
    summary: int = 0  # 0 none, 1 -c (summary only), 2 -C (trace and summary)
    sortby: str = "time"
    columns: tuple = DEFAULT_COLUMNS
    wall: bool = False
    overhead_ns: int = 0
    # launch / worker
    attach: bool = False
    argv: tuple = ()
    pids: tuple = ()
    env: dict | None = None
    colocate: bool = False
    seccomp_bpf: bool = False
    # -u: (uid, gid, groups) the launched command takes after its filter is in
    user: tuple | None = None
    plan_strsize: int = 32  # what the tracer fetches: -s, more for -v arrays and -e read=/write= dumps
    plan_abbrev: frozenset = frozenset()  # (pers, nr) printed abbreviated: environments only counted
    cpu_time: bool = False  # ask the plan for per-call CPU time (-c without -w)
    # -e inject=/fault=: (pers, nr) -> bpfgen.Inject, the rule the loop executes
    tamper: dict = field(default_factory=dict)
    # --in-kernel: (pers, nr) -> errno, failed by the filter (SECCOMP_RET_ERRNO)
    kernel_errno: dict = field(default_factory=dict)
    notes: tuple = ()  # one-line notes for stderr before anything runs
    intr: int = 2  # -I: 1 anywhere, 2 waiting, 3 never (fatal signals ignored), 4 never_tstp (and SIGTSTP)
    debug: int = 0  # -d: tracectl's own debug notes on stderr
    tips: tuple | None = None  # --tips: (id or None for random, "compact" | "full"); None: no tip
    # where records come from (client/_source.py, docs/cli.md) and go besides
    embedded: bool = False  # --embedded
    socket: str | None = None  # --socket
    sinks: tuple = ()  # --sink URLs (client/sinks/_cli.py)
    # the options as given: `tracectl ls` shows them, a recording keeps them
    exprs: tuple = ()  # -e
    path_args: tuple = ()  # -P (opts.paths: resolved, with the targets of symlinks)
    verbose: bool = False  # -v
    warning_lines: tuple = ()  # strace's warnings (`warnings()`), printed before anything runs


class _Append(argparse.Action):
    """--NAME=VALUE -> "NAME=VALUE" appended to the -e list."""

    def __init__(self, option_strings, dest, qname, **kw):
        self.qname = qname
        super().__init__(option_strings, dest, **kw)

    def __call__(self, parser, ns, value, option_string=None):
        lst = list(getattr(ns, self.dest) or [])
        lst.append(f"{self.qname}={value}")
        setattr(ns, self.dest, lst)


class _Count(argparse.Action):
    """A counted flag whose long form may carry a value (-q / --quiet=SET)."""

    def __init__(self, option_strings, dest, **kw):
        kw.setdefault("nargs", 0)
        kw.setdefault("default", 0)
        super().__init__(option_strings, dest, **kw)

    def __call__(self, parser, ns, value, option_string=None):
        setattr(ns, self.dest, (getattr(ns, self.dest) or 0) + 1)


class _Unsupported(argparse.Action):
    def __call__(self, parser, ns, value, option_string=None):
        names = "/".join(self.option_strings)
        raise UsageError(f"option {names} is not supported by tracectl")


class _Version(argparse.Action):
    def __init__(self, option_strings, dest, **kw):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS)

    def __call__(self, parser, ns, value, option_string=None):
        print(f"tracectl -- version {__version__}")
        parser.exit(0)


def add_strace_options(p: argparse.ArgumentParser) -> None:
    """Declare strace's options on `p` (the `run` and `attach` parsers)."""
    a = p.add_argument
    a("-e", dest="exprs", action="append", default=[], metavar="EXPR", help="a qualifying expression: trace=, signal=, status=, abbrev=, verbose=, raw=, quiet=, decode-fds=, ...")
    for q in QUALIFIER_OPTIONS:
        a(f"--{q}", dest="exprs", action=_Append, qname=q, metavar="SET", help=argparse.SUPPRESS)
    # --quiet and --decode-fds are both -e qualifiers and the long forms of -q/-y
    a("--quiet", dest="exprs", action=_Append, qname="quiet", nargs="?", const="attach,personality", metavar="SET", help="-e quiet=SET")
    a("--silence", dest="exprs", action=_Append, qname="quiet", nargs="?", const="attach,personality", metavar="SET", help=argparse.SUPPRESS)
    a("--silent", dest="exprs", action=_Append, qname="quiet", nargs="?", const="attach,personality", metavar="SET", help=argparse.SUPPRESS)
    a("--secontext", dest="exprs", action=_Append, qname="secontext", nargs="?", const="full", metavar="FORMAT", help=argparse.SUPPRESS)
    a("--decode-fds", dest="exprs", action=_Append, qname="decode-fds", nargs="?", const="path", metavar="SET", help="-e decode-fds=SET")
    a("--decode-pids", dest="exprs", action=_Append, qname="decode-pids", metavar="SET", help="-e decode-pids=SET (pidns)")
    a("-Y", dest="exprs", action="append_const", const="decode-pids=comm", help=argparse.SUPPRESS)
    a("-f", "--follow-forks", dest="follow", action=_Count, help="follow forks (-ff with -o: one file per pid)")
    a("-F", dest="optF", action="store_true", help=argparse.SUPPRESS)  # strace's deprecated -f
    a("--output-separately", dest="output_separately", action="store_true", help=argparse.SUPPRESS)
    a("-o", "--output", dest="output", metavar="FILE", help="send trace output to FILE instead of stderr")
    a("-A", "--output-append-mode", dest="append", action="store_true", help="open the -o FILE in append mode")
    a("-s", "--string-limit", dest="strsize", metavar="STRSIZE", help="limit length of print strings to STRSIZE chars (default 32)")
    a("-v", "--no-abbrev", dest="verbose", action="store_true", help="verbose mode: print entities unabbreviated")
    a("-x", dest="xflag", action=_Count, help="print non-ASCII strings in hex (-xx: all strings)")
    a("--strings-in-hex", dest="strings_in_hex", nargs="?", const="all", metavar="WHAT", help=argparse.SUPPRESS)
    a("-X", "--const-print-style", dest="xstyle", metavar="FORMAT", help="raw, abbrev or verbose")
    a("-y", dest="yflag", action=_Count, help="print paths of fds (-yy: all fd information)")
    a("-T", dest="syscall_times", action="store_const", const="us", help="print time spent in each syscall (--syscall-times[=PRECISION])")
    a("--syscall-times", dest="syscall_times", nargs="?", const="us", metavar="PRECISION", help=argparse.SUPPRESS)
    a("-t", dest="tflag", action=_Count, help="absolute timestamps (-tt: with usecs, -ttt: UNIX time)")
    a("--absolute-timestamps", "--timestamps", dest="abs_ts", action="append", nargs="?", const="time", metavar="FORMAT", help="[[format:]FORMAT][,[precision:]PRECISION] (repeated: each sets what it names)")
    a("-r", dest="relative", action="store_const", const="us", help="print relative timestamps (--relative-timestamps[=PRECISION])")
    a("--relative-timestamps", dest="relative", nargs="?", const="us", metavar="PRECISION", help=argparse.SUPPRESS)
    a("-a", "--columns", dest="acolumn", metavar="COLUMN", help="alignment COLUMN for syscall results (default 40)")
    a("-n", "--syscall-number", dest="syscall_number", action="store_true", help="print syscall number")
    a("-c", "--summary-only", dest="cflag", action="store_true", help="count time, calls and errors per syscall; print only the summary")
    a("-C", "--summary", dest="Cflag", action="store_true", help="like -c, but also print the trace")
    a("-S", "--summary-sort-by", dest="sortby", metavar="SORTBY", help="time, min-time, max-time, avg-time, calls, errors, name, nothing")
    a("-U", "--summary-columns", dest="columns", metavar="COLUMNS", help="summary columns")
    a("-w", "--summary-wall-clock", dest="wall", action="store_true", help="summarise wall time (default: system time)")
    a("-O", "--summary-syscall-overhead", dest="overhead", metavar="OVERHEAD", help="subtract OVERHEAD[UNIT] from each call's time")
    a("-z", "--successful-only", dest="successful", action="store_true", help="print only calls that succeeded")
    a("-Z", "--failed-only", dest="failed", action="store_true", help="print only calls that failed")
    a("-P", "--trace-path", dest="paths", action="append", default=[], metavar="PATH", help="trace accesses to PATH")
    a("-q", dest="qflag", action=_Count, help="suppress attach/detach messages (-qq: also exit; -qqq: all)")
    a("--pidns-translation", dest="pidns", action="store_true", help="print pids in strace's namespace too")
    a("-E", "--env", dest="env", action="append", default=[], metavar="VAR[=VAL]", help="set (or with VAR alone, remove) VAR for the command")
    a("-u", "--user", "--username", dest="user", metavar="USERNAME", help="run the command with USERNAME's uid, gid and groups (root only; setuid programs keep working)")
    a("--seccomp-bpf", dest="seccomp_bpf", action="store_true", help="run: keep the seccomp filter without -f (children then followed, not shown; with -f it is always used); attach: inject the filter into the processes (irreversible: they keep a pass-through tracer until they exit)")
    a("--colocate", dest="colocate", action="store_true", help="pin the tracer and the tracee to one CPU (faster, changes the tracee's affinity)")
    a("--in-kernel", dest="in_kernel", action="store_true", help="-e inject=/fault= errors that need no per-call decision go into the seccomp filter (SECCOMP_RET_ERRNO): no stop, not printed, not counted; not strace's semantics")
    a("--format", dest="fmt", default="strace", metavar="FORMAT", help="strace (default), jsonl, msgpack (a recording: tracectl replay), or perfetto (a Perfetto trace; needs -o FILE)")
    a("-D", dest="daemonize", action=_Count, help="run the tracer as a detached grandchild: the command is the caller's child (-DD: in its own process group, -DDD: its own session)")
    a("--daemonize", dest="daemonize_long", metavar="HOW", help="grandchild, pgroup (pgrp) or session: -D, -DD, -DDD")
    a("-i", "--instruction-pointer", dest="iflag", action="store_true", help="print the instruction pointer at the time of the call")
    a("-k", "--stack-traces", "--stack-trace", dest="stack", action="store_true", help="print the stack trace of each traced call (unwound with libdw)")
    a("-b", "--detach-on", dest="detach_on", metavar="SYSCALL", help="execve: stop showing a process at its execve (tracectl stays its pass-through tracer: docs/cli.md)")
    a("-I", "--interruptible", dest="intr", metavar="INTERRUPTIBLE", help="1/anywhere/always, 2/waiting (what tracectl does by default), 3/never: fatal signals (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE) do not end tracectl, 4/never_tstp: nor ^Z stop it")
    a("-d", "--debug", dest="debug", action=_Count, help="print tracectl's own debug notes on stderr (what it compiled and where it traces)")
    a("--tips", dest="tips", action="append", nargs="?", const="", metavar="[id:ID,][format:FORMAT]", help="print a tip about tracectl when the trace ends (FORMAT: none, compact, full)")
    a("-V", "--version", action=_Version, help="print version")
    for names, nargs in UNSUPPORTED.items():
        kw = {"nargs": nargs} if nargs else {"nargs": 0}
        a(*names, dest="unsupported", action=_Unsupported, help=argparse.SUPPRESS, **kw)


_ARGPARSE_NEEDS_ARG = re.compile(r"argument (-\w)(?:/--[\w-]+)?: expected one argument")


# getopt_long's optional arguments come only as --name=VALUE; argparse would
# take the next word (the command!) as the value, so bare forms get their
# default spelled out before parsing.
OPTIONAL_LONG = {
    "--quiet": "attach,personality",
    "--decode-fds": "path",
    "--syscall-times": "us",
    "--relative-timestamps": "us",
    "--absolute-timestamps": "time",
    "--timestamps": "time",
    "--strings-in-hex": "all",
    "--daemonize": "grandchild",  # (the long form; -D counts)
    "--tips": "",
    "--silence": "attach,personality",
    "--silent": "attach,personality",
    "--secontext": "full",
}
SHORT_WITH_ARG = set("eosXaSUOPEupbI")
LONG_WITH_ARG = {
    "--output", "--string-limit", "--const-print-style", "--columns", "--summary-sort-by",
    "--summary-columns", "--summary-syscall-overhead", "--trace-path", "--env", "--user",
    "--attach", "--detach-on", "--interruptible", "--format", "--decode-pids",
    *(f"--{q}" for q in QUALIFIER_OPTIONS),
}


def spell_out_optional(argv: list[str]) -> list[str]:
    """Rewrite bare `--quiet` & co. as `--quiet=DEFAULT` among the options
    (up to `--` or the first word that is not an option or its value)."""
    out = list(argv)
    i = 0
    while i < len(out):
        a = out[i]
        if a == "--" or not a.startswith("-") or a == "-":
            break
        if a.startswith("--"):
            if a in OPTIONAL_LONG:
                out[i] = f"{a}={OPTIONAL_LONG[a]}"
            elif a in LONG_WITH_ARG:
                i += 1
        else:
            for j, c in enumerate(a[1:], start=1):
                if c in SHORT_WITH_ARG:
                    if j == len(a) - 1:
                        i += 1  # the value is the next word
                    break
        i += 1
    return out


def attaches(argv: list[str]) -> bool:
    """Whether a strace command line given without a subcommand attaches
    (-p PID / --attach=PID among its options) rather than runs a command."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--" or not a.startswith("-") or a == "-":
            return False
        if a.startswith("--"):
            name = a.split("=", 1)[0]
            if name == "--attach":
                return True
            if name in LONG_WITH_ARG and "=" not in a:
                i += 1
        else:
            for j, c in enumerate(a[1:], start=1):
                if c == "p":
                    return True
                if c in SHORT_WITH_ARG:
                    if j == len(a) - 1:
                        i += 1
                    break
        i += 1
    return False


def strict_parser(p: argparse.ArgumentParser, prog: str = "tracectl") -> argparse.ArgumentParser:
    """Make `p` report errors as one-line UsageErrors and refuse unknown options
    (argparse would otherwise print its usage and exit 2, or pass unknown
    options on to the main parser)."""

    def error(message: str):
        m = _ARGPARSE_NEEDS_ARG.match(message)
        if m:
            message = f"option requires an argument -- '{m.group(1)[1:]}'"
        raise UsageError(message)

    orig = p.parse_known_args

    def parse_known_args(args=None, namespace=None):
        if args is not None:
            args = spell_out_optional(list(args))
        ns, extras = orig(args, namespace)
        if extras:
            bad = extras[0]
            if bad.startswith("--"):
                raise UsageError(f"unrecognized option '{bad.split('=')[0]}'")
            if bad.startswith("-") and len(bad) > 1:
                raise UsageError(f"invalid option -- '{bad[1]}'")
            raise UsageError(f"unexpected argument '{bad}'")
        return ns, extras

    p.error = error
    p.parse_known_args = parse_known_args
    return p


def _precision(value: str, what: str) -> int:
    if value not in PRECISIONS:
        raise UsageError(f"invalid {what} precision: '{value}'")
    return PRECISIONS[value]


def _abs_timestamps(value: str, fmt: str | None = None, prec: int | None = None) -> tuple[str | None, int | None]:
    """--absolute-timestamps=[[format:]FORMAT][,[precision:]PRECISION] on top
    of an earlier one's (format, precision): what it does not name stays."""
    for part in value.split(","):
        if not part:
            continue
        key, _, val = part.partition(":")
        if not val:
            key, val = ("precision", key) if key in PRECISIONS else ("format", key)
        if key in ("format", "fmt"):
            if val not in ("none", "time", "unix"):
                raise UsageError(f"invalid timestamp format: '{val}'")
            fmt = val
        elif key in ("precision", "prec", "p"):
            prec = _precision(val, "timestamp")
        else:
            raise UsageError(f"invalid timestamp format: '{part}'")
    if fmt is None:
        fmt = "time"
    return fmt, prec


_TS_UNITS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def _duration_ns(value: str, letter: str) -> int:
    """A duration as strace's -O reads it: an integer or a (non-negative)
    float, then a unit (s, ms, us, ns; microseconds without one)."""
    m = re.fullmatch(r"([+]?[0-9]+|[-+]?(?:[0-9]*\.?[0-9]*(?:[eE][-+]?[0-9]+)?))(s|ms|us|ns)?", value, re.IGNORECASE)
    n = None
    if m and m.group(1) not in ("", "+", "-", "."):
        try:
            n = float(m.group(1)) if not re.fullmatch(r"[+]?[0-9]+", m.group(1)) else int(m.group(1))
        except ValueError:
            n = None
    if n is None or n < 0:
        raise UsageError(f"invalid -{letter} argument: '{value}'")
    unit = _TS_UNITS[(m.group(2) or "us").lower()]
    return int(n * unit) if isinstance(n, float) else n * unit


# strace's largest -s: (unsigned) -1 / 4
STRSIZE_MAX = (1 << 30) - 1


def _int_arg(value: str, letter: str, minimum: int = 0, maximum: int | None = None) -> int:
    # as strace reads numbers (strtol): spaces before, a sign, decimal digits
    # and nothing after (int() would also take "1_000" and "5 ")
    n = int(value, 10) if isinstance(value, str) and re.fullmatch(r"[ \t\n\v\f\r]*[+-]?[0-9]+", value) else None
    if n is None or n < minimum or (maximum is not None and n > maximum):
        raise UsageError(f"invalid -{letter} argument: '{value}'")
    return n


def _environment(ops: list[str]) -> dict | None:
    if not ops:
        return None
    from ._launch import inherited_environ

    env = inherited_environ()
    for op in ops:
        name, eq, val = op.partition("=")
        if not name:
            raise UsageError(f"invalid -E argument: '{op}'")
        if eq:
            env[name] = val
        else:
            env.pop(name, None)
    return env


def _user_ids(user: str) -> tuple[int, int, tuple[int, ...]]:
    """-u USERNAME: (uid, gid, supplementary groups), with strace's checks
    and wording (a name, not a number, as strace 6.1 takes it)."""
    import pwd

    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        raise UsageError(f"Cannot find user '{user}'") from None
    if os.getuid() != 0 or os.geteuid() != 0:
        raise UsageError("You must be root to use the -u/--username option")
    return pw.pw_uid, pw.pw_gid, tuple(os.getgrouplist(pw.pw_name, pw.pw_gid))


def warnings(args, opts: "RunOptions") -> list[str]:
    """strace's warnings for options that change nothing (it goes on), and
    the qualifier parser's (retval= values a tracee may read as errors)."""
    out = list(getattr(opts.qualifiers, "warnings", None) or ()) + list(opts.notes)
    if opts.summary == 1:
        for on, letter, long in (
            (getattr(args, "stack", False), "k", "--stack-traces"),
            (args.syscall_number, "n", "--syscall-number"),
            (args.relative is not None, "r", "--relative-timestamps"),
            (args.tflag or args.abs_ts is not None, "t", "--absolute-timestamps"),
            (opts.syscall_times, "T", "--syscall-times"),
            (args.yflag, "y", "--decode-fds"),
        ):
            if on:
                out.append(f"-{letter}/{long} has no effect with -c/--summary-only")
    if getattr(args, "optF", False):
        out.append("deprecated option -F ignored" if args.follow else "option -F is deprecated, please use -f/--follow-forks instead")
    if args.sortby is not None and not opts.summary:
        out.append("-S/--summary-sort-by has no effect without (-c/--summary-only or -C/--summary)")
    q = opts.qualifiers
    if args.seccomp_bpf and opts.follow and hasattr(q, "_universe_all") and frozenset(opts.trace) >= q._universe_all():
        # every call stops: the filter skips none (strace then goes on without it)
        out.append("Seccomp filter is requested but there are no syscalls to filter.  See -e trace to filter syscalls.")
    return out


def make_qualifiers(exprs, paths, successful=False, failed=False):
    """Feed every -e expression and -P path to a fresh bpfgen.Qualifiers."""
    from tracerd.bpfgen import Qualifiers

    q = Qualifiers()
    for e in exprs:
        q.qualify(e)
    if successful:
        q.qualify("status=successful")
    if failed:
        q.qualify("status=failed")
    for path in paths:
        q.add_path(path)
        # strace traces the path and what it resolves to (a symlink's
        # target: what an fd's /proc link shows), and says so
        try:
            real = os.path.realpath(path, strict=True)
        except (OSError, ValueError):
            real = None
        if real is not None and real != path and real not in q.paths:
            q.add_path(real)
            if "path-resolution" not in q.quiet:
                q.warnings.append(f'Requested path "{_c_quote(path)}" resolved into "{_c_quote(real)}"')
    return q


def _c_quote(s: str) -> str:
    """A path inside strace's double quotes (its C escapes, octal else)."""
    out = []
    for ch in s.encode(errors="surrogateescape"):
        c = chr(ch)
        out.append({'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\f": "\\f", "\v": "\\v"}.get(c)
                   or (c if 0x20 <= ch < 0x7F else f"\\{ch:o}"))
    return "".join(out)


def _decode_options(args, q, strsize, xflag, yflag, pid_comm=False):
    from tracerd.client.decode import DecodeOptions

    decode_fds = frozenset(getattr(q, "decode_fds", ()) or ())
    if yflag == 1:
        decode_fds |= {"path"}
    elif yflag >= 2:
        decode_fds |= ALL_DECODE_FDS
    # The decoder's `verbose` is "printed unabbreviated" (-v); strace's
    # -e verbose= (dereference structures or not) it does not model.
    abbrev = getattr(q, "abbrev", None)
    if args.verbose:
        abbrev = frozenset()  # -v: nothing abbreviated
    deref = None  # -e verbose=SET: the calls whose structures are dereferenced
    if any(e.split("=", 1)[0] in ("verbose", "v") for e in args.exprs):
        if frozenset(q.verbose) != frozenset(type(q)().verbose):
            deref = frozenset(q.verbose)
    return DecodeOptions(
        deref=deref,
        pid_comm=pid_comm,
        strsize=strsize,
        xflag=xflag,
        yflag=yflag,
        verbose=frozenset(),
        raw=frozenset(getattr(q, "raw", ()) or ()),
        abbrev=abbrev,
        xstyle=args.xstyle or "abbrev",
        decode_fds=decode_fds,
    )


def parse_pids(values) -> tuple[int, ...]:
    """-p values: several, comma or space separated, like strace."""
    pids = []
    for v in values:
        for tok in re.split(r"[\s,]+", v.strip()):
            if not tok:
                continue
            if not tok.isdigit() or int(tok) <= 0:
                raise UsageError(f"Invalid process id: '{tok}'")
            pid = int(tok)
            if pid == os.getpid():
                raise UsageError("I'm sorry, I can't let you do that, Dave.")
            if pid not in pids:
                pids.append(pid)
    return tuple(pids)


def resolve(args) -> RunOptions:
    """Check the parsed options and resolve them; raise UsageError (one line)
    before anything runs. What runs the trace reads the result only, never
    `args` again."""
    # watch follows a daemon's session as attach would (its pids, named by
    # the daemon's reply, go in with `replace(opts, pids=...)`)
    attach = getattr(args, "command", None) in ("attach", "watch") or bool(getattr(args, "pid_args", None))
    user = _user_ids(args.user) if getattr(args, "user", None) else None
    fmt = args.fmt
    if fmt not in FORMATS:
        raise UsageError(f"invalid --format: '{fmt}' ({', '.join(FORMATS)})")
    strsize = 32 if args.strsize is None else _int_arg(args.strsize, "s", maximum=STRSIZE_MAX)
    acolumn = 40 if args.acolumn is None else _int_arg(args.acolumn, "a")
    xflag = _xflag(args)
    follow = min(args.follow or (1 if getattr(args, "optF", False) else 0), 2)  # -F: strace's deprecated -f
    if args.output_separately:
        follow = 2
    summary = _summary_mode(args, fmt, follow)
    if args.successful and args.failed:
        raise UsageError("-z and -Z are mutually exclusive")  # strace would print nothing
    table = _summary_table(args)
    if not summary:  # strace's checks, after the values (as strace, which checks them as it reads them): these shape only the summary
        if args.wall:
            raise UsageError("-w/--summary-wall-clock must be given with (-c/--summary-only or -C/--summary)")
        if args.columns is not None:
            raise UsageError("-U/--summary-columns must be given with (-c/--summary-only or -C/--summary)")
    times = _timestamps(args)
    # qualifiers (syscall and class names are checked here, before anything runs)
    q = make_qualifiers(args.exprs, args.paths, args.successful, args.failed)
    tamper, kernel_errno, tnotes = _tamper(q, args, attach)
    signals = getattr(q, "signals", None)
    status = frozenset(getattr(q, "status", ()) or ())
    if not status:
        status = frozenset({"none"})  # -e status=none: a filter nothing passes (strace prints no call)
    elif status >= STATUSES:
        status = frozenset()  # every status: no filtering (entries print as they come)
    decode_pids = frozenset(getattr(q, "decode_pids", ()) or ())
    decode = _decode_options(args, q, strsize, xflag, args.yflag, pid_comm="comm" in decode_pids)
    target = _target(args, attach)
    opts = RunOptions(
        trace=frozenset(q.trace) - frozenset(kernel_errno),
        signals=None if signals is None else frozenset(signals),
        status=status,
        quiet=_quiet(args.qflag, q, quiet_by_default=args.output is not None and not attach and not any(e.split("=", 1)[0] in ("quiet", "silent", "silence", "q") for e in args.exprs)),
        paths=tuple(getattr(q, "paths", ()) or ()),
        subcalls=_subcalls(q),
        read_fds=q.read_fds if q.read_fds else frozenset(),
        write_fds=q.write_fds if q.write_fds else frozenset(),
        qualifiers=q,
        decode=decode,
        strsize=strsize,
        fmt=fmt,
        output=args.output,
        append=args.append,
        follow=follow,
        acolumn=acolumn,
        syscall_number=args.syscall_number,
        pidns=args.pidns or "pidns" in decode_pids,
        pid_comm="comm" in decode_pids,
        detach_execve=_detach_on(getattr(args, "detach_on", None)),
        iflag=bool(getattr(args, "iflag", False)),
        kvm_vcpu=q.kvm_vcpu,
        stack=bool(getattr(args, "stack", False)) and summary != 1,  # strace: no effect with -c
        daemonize=_daemonize(args, attach),
        summary=summary,
        wall=args.wall,
        attach=attach,
        colocate=args.colocate,
        seccomp_bpf=args.seccomp_bpf,
        user=user,
        cpu_time=bool(summary) and not args.wall,
        plan_strsize=_plan_strsize(strsize, args.verbose, q),
        plan_abbrev=frozenset() if args.verbose else frozenset(getattr(q, "abbrev", ()) or ()),
        tamper=tamper,
        kernel_errno=kernel_errno,
        notes=tnotes,
        debug=getattr(args, "debug", 0) or 0,
        intr=_interruptible(getattr(args, "intr", None)),
        tips=_tips(getattr(args, "tips", None)),
        embedded=bool(getattr(args, "embedded", False)),
        socket=getattr(args, "socket", None),
        sinks=tuple(getattr(args, "sink", None) or ()),
        exprs=tuple(args.exprs or ()),
        path_args=tuple(args.paths or ()),
        verbose=bool(args.verbose),
        **table,
        **times,
        **target,
    )
    return replace(opts, warning_lines=tuple(warnings(args, opts)))


# --strings-in-hex values -> the decoder's xflag (3: non-ascii-chars, only
# the bytes that need an escape are printed as \xNN)
STRINGS_IN_HEX = {"none": 0, "non-ascii-chars": 3, "non-ascii": 1, "all": 2}


def _xflag(args):
    """-x/-xx or --strings-in-hex (the last one wins; with -x as well it is
    strace's error), with -X checked."""
    xflag = args.xflag
    if args.strings_in_hex is not None:
        long = STRINGS_IN_HEX.get(args.strings_in_hex)
        if long is None:
            raise UsageError(f"invalid --strings-in-hex argument: '{args.strings_in_hex}'")
        if xflag:
            raise UsageError("-x and --strings-in-hex cannot be provided simultaneously")
        xflag = long
    if args.xstyle is not None and args.xstyle not in ("raw", "abbrev", "verbose"):
        raise UsageError(f"invalid -X argument: '{args.xstyle}'")
    return xflag


INTERRUPTIBLE = {"1": 1, "anywhere": 1, "always": 1, "2": 2, "waiting": 2, "3": 3, "never": 3, "4": 4, "never_tstp": 4}


def _interruptible(value) -> int:
    if value is None:
        return 2
    n = INTERRUPTIBLE.get(value.lower())
    if n is None:
        raise UsageError(f"invalid -I argument: '{value}'")
    return n


DAEMONIZE = {"grandchild": 1, "pgroup": 2, "pgrp": 2, "session": 3}


def _daemonize(args, attach) -> int:
    """-D/-DD/-DDD or --daemonize=grandchild|pgroup|session, as strace checks them."""
    n = getattr(args, "daemonize", 0) or 0
    long = getattr(args, "daemonize_long", None)
    if long is not None:
        if long not in DAEMONIZE:
            raise UsageError(f"invalid --daemonize argument: '{long}'")
        n = DAEMONIZE[long]
    if not n:
        return 0
    if n > 3:
        raise UsageError(f"Too many -D's ({n}), maximum supported -D count is 3")
    if attach:
        raise UsageError("PROG [ARGS] must be specified with -D/--daemonize")
    return n


def _detach_on(value) -> bool:
    if value is None:
        return False
    if value != "execve":
        raise UsageError(f"Syscall '{value}' for -b isn't supported")
    return True


def _tips(values) -> tuple | None:
    """--tips[=[[id:]ID][,[format:]FORMAT]] (each one on top of the last, as
    strace): (tip id or None for a random one, "compact" or "full"), or
    None when no tip is printed."""
    if not values:
        return None
    tip, fmt = None, "compact"
    for value in values:
        for token in (value or "").split(","):
            if not token:
                continue
            kind, _, val = token.partition(":")
            low = token.lower()
            if val and kind.lower() in ("id", "format"):
                kind, low = kind.lower(), val.lower()
            else:
                kind = None
            if kind in (None, "id") and (low == "random" or low.isdigit()):
                tip = None if low == "random" else int(low)
            elif kind in (None, "format") and low in ("none", "compact", "full"):
                fmt = low
            else:
                raise UsageError(f"invalid --tips argument: '{value}'")
    return None if fmt == "none" else (tip, fmt)


def _summary_mode(args, fmt, follow):
    """0: no summary, 1: -c (summary only), 2: -C (summary and calls)."""
    if args.cflag and args.Cflag:
        raise UsageError("-c/--summary-only and -C/--summary are mutually exclusive")
    summary = 1 if args.cflag else 2 if args.Cflag else 0
    # msgpack: a recording with -c's CPU times (tracectl replay -c); jsonl:
    # the summary as one JSON object (docs/jsonl.md)
    if summary and fmt not in ("strace", "msgpack", "jsonl"):
        raise UsageError("-c/-C print strace's summary table: use them with --format=strace or jsonl")
    if summary == 1 and follow == 2 and args.output:
        raise UsageError("(-c or -C) and -ff are mutually exclusive")
    return summary


def _summary_table(args):
    """The summary table's sort key (-S), columns (-U) and overhead (-O)."""
    sortby = "time"
    if args.sortby is not None:
        sortby = SORT_KEYS.get(args.sortby)
        if sortby is None:
            raise UsageError(f"invalid sortby: '{args.sortby}'")
    columns = DEFAULT_COLUMNS
    if args.columns is not None:
        cols = []
        for c in args.columns.split(","):
            cid = COLUMN_KEYS.get(c)
            if cid is None:
                raise UsageError(f"unknown column name: '{c}'")
            if cid in cols:
                raise UsageError(f"call summary column has been provided more than once: '{c}' (-U option residual: '{args.columns}')")
            cols.append(cid)
        if "name" not in cols:
            cols.append("name")
        columns = tuple(cols)
    overhead = 0 if args.overhead is None else _duration_ns(args.overhead, "O")
    return {"sortby": sortby, "columns": columns, "overhead_ns": overhead}


def _timestamps(args):
    """-t/-tt/-ttt or --absolute-timestamps, -r and -T with their precisions."""
    tflag = min(args.tflag, 3)
    ts_format, ts_precision = "none", 0
    if tflag:
        if args.abs_ts:
            raise UsageError("-t and --absolute-timestamps cannot be provided simultaneously")
        ts_format, ts_precision = {1: ("time", 0), 2: ("time", 6), 3: ("unix", 6)}[tflag]
    if args.abs_ts:
        # each --absolute-timestamps= sets what it names, keeping the rest
        fmt, prec = None, None
        for value in args.abs_ts:
            fmt, prec = _abs_timestamps(value, fmt, prec)
        ts_format, ts_precision = fmt or "time", prec or 0
        tflag = 0 if ts_format == "none" else 1
    relative = args.relative is not None
    syscall_times = args.syscall_times is not None
    return {
        "tflag": tflag,
        "ts_format": ts_format,
        "ts_precision": ts_precision,
        "relative": relative,
        "rel_precision": _precision(args.relative, "relative timestamp") if relative else 6,
        "syscall_times": syscall_times,
        "dur_precision": _precision(args.syscall_times, "syscall time") if syscall_times else 6,
    }


def _quiet(qflag, q, quiet_by_default=False):
    """What -q/-qq/-qqq and -e quiet= silence.

    quiet_by_default: -o FILE with a command to run (not -p): strace then
    behaves as if -q were given (no "Process N attached" on the terminal for
    every child), unless -q or -e quiet= said otherwise."""
    quiet = set(getattr(q, "quiet", ()) or ())
    if quiet_by_default and qflag == 0:
        qflag = 1
    if qflag >= 1:
        quiet |= {"attach", "personality"}
    if qflag >= 2:
        quiet |= {"exit"}
    if qflag >= 3:
        quiet |= {"attach", "exit", "path-resolution", "personality", "thread-execve", "superseded"}
    if "thread-execve" in quiet:
        quiet.add("superseded")
    return frozenset(quiet)


def _target(args, attach):
    """What to trace: the processes to attach to (-p), or the command to run
    and its environment (-E)."""
    if getattr(args, "command", None) == "watch":
        # the session's processes: the daemon names them when the watch
        # starts (tracectl watch's -p and -E have nothing to act on)
        if args.colocate:
            raise UsageError("--colocate works with run only (it would change a running process's CPU affinity)")
        return {"argv": (), "pids": (), "env": None}
    if attach:
        if args.env:
            raise UsageError("-E has no effect with attach (the processes already run)")
        if args.colocate:
            raise UsageError("--colocate works with run only (it would change a running process's CPU affinity)")
        pids = parse_pids(args.pid_args)
        if not pids:
            raise UsageError("must have PROG [ARGS] or -p PID")
        return {"argv": (), "pids": pids, "env": None}
    argv = tuple(args.argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise UsageError("must have PROG [ARGS] or -p PID")
    return {"argv": argv, "pids": (), "env": _environment(args.env)}


def _tamper(q, args=None, attach=False) -> tuple[dict, dict, tuple]:
    """The tampering (-e inject=/fault=): (rules the loop executes, errnos the
    filter returns under --in-kernel, notes). strace's rules in
    bpfgen.tamper_map; with -P the loop tampers only with calls that name a
    -P path (the plan carries the paths)."""
    in_kernel = bool(getattr(args, "in_kernel", False))
    if not q.inject:
        return {}, {}, ()
    from tracerd.bpfgen import in_kernel_split, tamper_map

    if q.paths and in_kernel:
        raise UsageError("--in-kernel is refused with -P: the kernel cannot see paths")
    if not in_kernel:
        return tamper_map(q.inject, q.trace), {}, ()
    if attach and not args.seccomp_bpf:
        raise UsageError("--in-kernel needs a filter to put the faults in: use attach --seccomp-bpf")
    kernel, stops = in_kernel_split(q.inject, q.trace, q.table)
    names = lambda keys: ", ".join(sorted({q.table.lookup(p, n).name for p, n in keys}))  # noqa: E731
    if not attach:
        execs = [k for k in kernel if q.table.lookup(*k).name in ("execve", "execveat")]
        if execs:
            raise UsageError("--in-kernel: faults on execve/execveat are refused with run (the filter is in place before the command's own exec)")
    notes = []
    if kernel:
        line = f"--in-kernel: failed by the seccomp filter, never stopped, printed or counted: {names(kernel)}"
        if stops:
            line += f"; by stops: {names(stops)}"
        notes.append(line)
        if attach:
            pids = " ".join(str(p) for p in parse_pids(args.pid_args))
            notes.append(f"--in-kernel: process {pids} keeps these faults in its seccomp filter until it exits (irreversible, as the filter)")
    elif stops:
        notes.append(f"--in-kernel: nothing can go in the filter (when=, retval=, signal=, delay, poke and syscall= need stops): by stops: {names(stops)}")
    return stops, kernel, tuple(notes)


def _subcalls(q):
    """The i386 socketcall/ipc subcalls to show. bpfgen's filter traces the
    multiplexers whole (argument checks are not cacheable); which subcalls
    were asked for is for the printer to apply. None: no filtering (every
    subcall selected, or the multiplexer named itself)."""
    subs = frozenset(getattr(q, "trace_subcalls", ()) or ())
    if not subs:
        return None
    from tracerd.bpfgen import load_table

    # the subcall names live in the syscall table's [multiplexers]
    if all(subs >= frozenset(calls.values()) for calls in load_table().multiplexers.values()):
        return None
    return subs


# The fetch plan has one size for strings and arrays; -v prints whole argv/envp
# arrays (strace caps them at -s otherwise) and dumps print whole buffers, so
# the tracer then fetches more than the decoder shows of strings.
VERBOSE_FETCH = 4096
DUMP_FETCH = 65536


def _plan_strsize(strsize: int, verbose: bool, q) -> int:
    n = strsize
    abbrev = getattr(q, "abbrev", None)
    # -v, or a traced call -e abbrev= leaves out: arrays print whole
    if verbose or (abbrev is not None and not frozenset(q.trace) <= frozenset(abbrev)):
        n = max(n, VERBOSE_FETCH)
    if getattr(q, "read_fds", None) or getattr(q, "write_fds", None):
        n = max(n, DUMP_FETCH)
    return n

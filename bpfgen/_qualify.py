"""strace's qualifier language (`-e EXPR`, `-P PATH`), strict and compatible.

Semantics follow strace 6.1 (filter_qualify.c, basic_filters.c):

- each `-e trace=` (and abbrev=, verbose=, raw=) replaces the previous value
  of that set; leading `!` characters each invert what follows; `none` and
  `all` stand alone; otherwise a comma-separated list of tokens, each a name,
  a class (`%file`), a regex (`/^open`, POSIX extended, searched), a number,
  optionally prefixed by `?` (no error when it matches nothing) and suffixed
  by a personality designator (`@64`, `@32`, `@x32`);
- `-e EXPR` without a known `NAME=` prefix is `trace=EXPR`;
- signal=, status=, read=, write=, quiet=, decode-fds=, decode-pids= are
  plain token sets with the same `!`/all/none rules;
- inject= and fault= add to a list (parsed and validated here, executed by a
  later part).

Errors are one line, in strace's words, raised as tracerd.UsageError
(tracerd.UnknownSyscall for a bad syscall token).
"""

from __future__ import annotations

import errno as _errno
import re
from dataclasses import dataclass

from tracerd._errors import UnknownSyscall, UsageError
from tracerd._signals import SIGNAL_NUMBERS
from tracerd._wire import X32_SYSCALL_BIT, Pers

from ._table import Table, load_table

# strace's personality designators on x86_64 (PERSONALITY_DESIGNATORS).
PERS_DESIGNATORS = {"64": Pers.X86_64, "32": Pers.I386, "x32": Pers.X32}
# Legacy class names strace still accepts, and %net.
_CLASS_ALIASES = {
    "%net": "network",
    "desc": "desc", "file": "file", "memory": "memory", "process": "process",
    "signal": "signal", "ipc": "ipc", "network": "network",
}
STATUSES = ("successful", "failed", "unfinished", "unavailable", "detached")
_QUIET = {
    "attach": "attach", "exit": "exit", "exits": "exit", "path-resolution": "path-resolution",
    "personality": "personality", "superseded": "thread-execve", "thread-execve": "thread-execve",
}
QUIET = frozenset(_QUIET.values())
DECODE_FDS = frozenset({"path", "socket", "dev", "pidfd"})
DECODE_PIDS = frozenset({"pidns", "comm"})
MAX_ERRNO = 4095
# errno names strace knows that Python's errno module lacks: the kernel's
# internal codes (include/linux/errno.h), which -e inject=...:error= accepts.
_KERNEL_ERRNOS = {
    "ERESTARTSYS": 512, "ERESTARTNOINTR": 513, "ERESTARTNOHAND": 514, "ENOIOCTLCMD": 515,
    "ERESTART_RESTARTBLOCK": 516, "EPROBE_DEFER": 517, "EOPENSTALE": 518, "ENOPARAM": 519,
    "EBADHANDLE": 521, "ENOTSYNC": 522, "EBADCOOKIE": 523, "ENOTSUPP": 524, "ETOOSMALL": 525,
    "ESERVERFAULT": 526, "EBADTYPE": 527, "EJUKEBOX": 528, "EIOCBQUEUED": 529, "ERECALLCONFLICT": 530,
}
# strace knows one name per number: where errno.errorcode picks an alias
# (EWOULDBLOCK, EDEADLOCK, ENOTSUP), strace's name is the other one and the
# alias is refused
_ERRNO_CANONICAL = {_errno.EAGAIN: "EAGAIN", _errno.EDEADLK: "EDEADLK", _errno.EOPNOTSUPP: "EOPNOTSUPP"}
_ERRNO_BY_NAME = {
    _ERRNO_CANONICAL.get(code, name): code for code, name in _errno.errorcode.items()
} | _KERNEL_ERRNOS
NSIG = 65  # x86_64 kernel: signals 1..64
INJECT_LAST_INF = 0xFFFF

# Kinds of argument that make a call relevant to -P (a path or an fd).
_PATH_KINDS = frozenset({"path", "fd", "dirfd"})



def _negation(value: str) -> tuple[str, bool]:
    """Strip strace's leading `!`s: (rest, inverted) — each `!` flips."""
    rest = value.lstrip("!")
    return rest, (len(value) - len(rest)) % 2 == 1

class NumberSet:
    """An immutable set of non-negative integers that may be co-finite
    (`!3` = every fd but 3). Supports `in`, ==, and iteration when finite.
    Used for -e read=/write= where "all" has no finite list."""

    __slots__ = ("items", "inverted")

    def __init__(self, items=(), inverted: bool = False):
        object.__setattr__(self, "items", frozenset(items))
        object.__setattr__(self, "inverted", bool(inverted))

    def __setattr__(self, name, value):
        raise AttributeError("NumberSet is immutable")

    def __contains__(self, n) -> bool:
        return (n in self.items) != self.inverted

    def __iter__(self):
        if self.inverted:
            raise TypeError("a co-finite set cannot be listed")
        return iter(sorted(self.items))

    def __len__(self) -> int:
        if self.inverted:
            raise TypeError("a co-finite set has no length")
        return len(self.items)

    def __bool__(self) -> bool:
        return self.inverted or bool(self.items)

    def __eq__(self, other) -> bool:
        if isinstance(other, NumberSet):
            return self.items == other.items and self.inverted == other.inverted
        if isinstance(other, (set, frozenset)):
            return not self.inverted and self.items == other
        return NotImplemented

    def __hash__(self):
        return hash((self.items, self.inverted))

    def __repr__(self) -> str:
        return f"NumberSet({sorted(self.items)}{', inverted=True' if self.inverted else ''})"


@dataclass(frozen=True)
class Inject:
    """One `-e inject=` / `-e fault=` rule, validated (executed later)."""

    syscalls: frozenset  # frozenset[(Pers, nr)]
    subcalls: frozenset  # i386 socketcall/ipc subcall names
    error: int | None = None  # errno to fail with
    retval: int | None = None  # value to return instead
    signal: int | None = None  # signal to deliver
    syscall: str | None = None  # replace by this %pure syscall (name)
    delay_enter_ns: int | None = None
    delay_exit_ns: int | None = None
    poke_enter: tuple = ()  # ((argN 1..7, bytes), ...)
    poke_exit: tuple = ()
    first: int = 1
    last: int = INJECT_LAST_INF  # INJECT_LAST_INF = no last
    step: int = 1  # 0 = only the first
    fault: bool = False  # came from -e fault=


# Signal names as strace knows them on x86_64: the kernel's 1..31 (no
# aliases such as SIGIOT or SIGCLD), SIGRTMIN for 32, SIGRT_1..SIGRT_32 above.
_SIGNAL_NAMES = SIGNAL_NUMBERS


def _signal_number(tok: str) -> int:
    """strace's sigstr_to_uint: a number 0..255, or a name with or without
    SIG, any case."""
    if tok[:1].isdigit():
        return int(tok) if tok.isdigit() and int(tok) <= 255 else -1
    s = tok[3:] if tok[:3].upper() == "SIG" else tok
    return _SIGNAL_NAMES.get("SIG" + s.upper(), -1) if s else -1


def _uint(tok: str) -> int:
    return int(tok) if tok.isdigit() and int(tok) <= 0x7FFFFFFF else -1


_C_SPACE = " \t\n\v\f\r"  # C's isspace() in the C locale


def _strtol(text: str) -> tuple[int | None, str]:
    """C's strtol(text, &end, 10): (value or None when no digits, the rest)."""
    m = re.match(r"[ \t\n\v\f\r]*([+-]?)([0-9]+)", text)
    if not m:
        return None, text
    n = int(m.group(2))
    return (-n if m.group(1) == "-" else n), text[m.end():]


def _uint_ex(text: str, limit: int, endings: str = "") -> tuple[int, str]:
    """strace's string_to_uint_ex: a decimal (strtol's leading spaces and
    sign allowed) in 0..limit, followed by nothing or one of `endings`;
    (-1, text) when it is not one."""
    n, rest = _strtol(text)
    if n is None or n < 0 or n > limit or (rest and rest[0] not in endings):
        return -1, text
    return n, rest


def _strtoull(text: str) -> int | None:
    """C's strtoull(text, &end, 0) accepting only a full match, as strace's
    retval= does: leading spaces, a sign (a negative value wraps modulo 2**64),
    0x hex, 0 octal, decimal."""
    m = re.fullmatch(r"[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)", text)
    if not m:
        return None
    digits = m.group(2)
    n = int(digits, 16) if digits[:2].lower() == "0x" else int(digits, 8) if digits.startswith("0") else int(digits)
    if n >= 1 << 64:
        return None
    return (-n) % (1 << 64) if m.group(1) == "-" else n


# strace's time units for delay_enter=/delay_exit= (no unit: microseconds)
_TIME_UNITS = {"": 1000, "s": 1_000_000_000, "ms": 1_000_000, "us": 1000, "ns": 1}
DELAY_MAX_NS = (1 << 64) - 1  # longer delays are held this long (584 years)


def _parse_delay_ns(text: str) -> int | None:
    """strace 6.1's parse_ts: a decimal integer (strtoll: leading spaces and
    a sign allowed, no overflow), or a decimal floating-point number (strtod:
    fraction and exponent; no hex, inf or nan), then nothing or a unit:
    s, ms, us, ns (none: us). Negative is refused. Returns nanoseconds."""
    n, rest = _strtol(text)
    if n is not None and rest in _TIME_UNITS:
        if not -(1 << 63) <= n < 1 << 63 or n < 0:
            return None  # strtoll's ERANGE, or negative
        return min(n * _TIME_UNITS[rest], DELAY_MAX_NS)
    m = re.match(r"[ \t\n\v\f\r]*([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)", text)
    if not m or text[m.end():] not in _TIME_UNITS:
        return None
    value = float(m.group(1))
    if value == float("inf") or value < 0:
        return None  # strtod's ERANGE, or negative
    return min(round(value * _TIME_UNITS[text[m.end():]]), DELAY_MAX_NS)


def _parse_when(val: str) -> tuple[int, int, int] | None:
    """strace 6.1's when=: F, F+, F+S, F..L, F..L+, F..L+S (each number a
    decimal as strtol reads it); F in 1..65535, L in F..65534, S in 1..65535.
    Returns (first, last, step); last INJECT_LAST_INF = none, step 0 = F only."""
    first, rest = _uint_ex(val, 0xFFFF, "+.")
    if first < 1:
        return None
    last = INJECT_LAST_INF
    if rest.startswith("."):
        if not rest.startswith(".."):
            return None
        last, rest = _uint_ex(rest[2:], 0xFFFF, "+")
        if last < first or last == INJECT_LAST_INF:
            return None
    if not rest:
        return first, last, (0 if last == INJECT_LAST_INF else 1)
    step_text = rest[1:]  # rest starts with "+"
    if not step_text:
        return first, last, 1
    step, _ = _uint_ex(step_text, 0xFFFF)
    if step < 1:
        return None
    return first, last, step


POKE_MAX_TEXT = 2048  # characters of one @argN= value (strace: 1024 bytes in hex)


def _parse_pokes(val: str) -> tuple | None:
    """poke_enter=/poke_exit=: comma-separated @argN=HEX (N 1..7, each N
    once; HEX an even number (at most 2048) of characters read in pairs, each
    two hex digits, or "0x", which strace's sscanf reads as a zero byte).
    ((N, bytes), ...) or None."""
    pokes: dict[int, bytes] = {}
    for item in val.split(","):
        if not item:
            continue  # strtok skips empty fields
        m = re.fullmatch(r"@arg([1-7])=(.*)", item, re.S)
        if not m or int(m.group(1)) in pokes:
            return None
        text = m.group(2)
        if not text or len(text) > POKE_MAX_TEXT or len(text) % 2:
            return None
        data = bytearray()
        for i in range(0, len(text), 2):
            pair = text[i:i + 2]
            if pair in ("0x", "0X"):
                data.append(0)  # strace reads each pair with sscanf("%2hhx"): "0x" is a zero byte
            elif re.fullmatch(r"[0-9a-fA-F]{2}", pair):
                data.append(int(pair, 16))
            else:
                return None
        pokes[int(m.group(1))] = bytes(data)
    return tuple(pokes.items()) if pokes else None


def retval_warnings(retval: int) -> list[str]:
    """strace's warnings for a retval= that the tracee could read as an error
    (it goes on): in the native personality, then in the compat one."""
    if retval > (1 << 64) - 4096:
        return [f"Inadvertent injection of error {(1 << 64) - retval} is possible for retval={retval}"]
    if retval > 0xFFFFFFFF:
        return [f"Injected return value {retval} will be clipped to {retval & 0xFFFFFFFF} in compat personality"]
    if retval > 0xFFFFFFFF - 4095:
        return [f"Inadvertent injection of error {(1 << 32) - retval} is possible in compat personality for retval={retval}"]
    return []


class Qualifiers:
    """The state of every `-e` option and `-P` path of one command line.

    Map strace's options onto this API:
      -e EXPR       -> q.qualify(EXPR)
      -P PATH       -> q.add_path(PATH)
      -z            -> q.qualify("status=successful")
      -Z            -> q.qualify("status=failed")
    """

    def __init__(self, table: Table | None = None):
        self.table = table or load_table()
        self._u = _universe(self.table)
        self._universe = self._u.all
        self._all_real: frozenset | None = None
        self._trace: frozenset | None = None  # None = not given (default: all)
        self.abbrev: frozenset = self._universe_all()
        self.verbose: frozenset = self._universe_all()
        self.raw: frozenset = frozenset()
        self.signals: frozenset[int] = frozenset(range(1, 256))
        self.status: frozenset[str] = frozenset(STATUSES)
        self.read_fds = NumberSet()
        self.write_fds = NumberSet()
        self.quiet: frozenset[str] = frozenset()
        self.decode_fds: frozenset[str] = frozenset()
        self.decode_pids: frozenset[str] = frozenset()
        self.kvm_vcpu = False  # -e kvm=vcpu
        self.inject: list[Inject] = []
        self.warnings: list[str] = []  # strace's parse-time warnings (it goes on)
        self.paths: tuple[str, ...] = ()
        self._subcalls: dict[str, frozenset[str]] = {"trace": frozenset(), "abbrev": frozenset(), "verbose": frozenset(), "raw": frozenset()}
        self._trace_given = False
        self._raw_sel: dict[str, frozenset] = {}

    # --- results -------------------------------------------------------------
    def _universe_all(self) -> frozenset:
        if self._all_real is None:
            self._all_real = self._real(self._universe)
        return self._all_real

    @property
    def trace(self) -> frozenset:
        """The selected (Pers, nr) pairs. i386 socket/ipc subcalls are
        represented by their multiplexer (socketcall, ipc): see trace_subcalls."""
        if self._trace is not None:
            return self._trace
        if self.paths:
            return self._path_set()
        return self._universe_all()

    @property
    def trace_subcalls(self) -> frozenset[str]:
        """Names of i386 socketcall/ipc subcalls selected (the consumer keeps a
        multiplexer record only when its subcall is in here)."""
        if self._trace is not None:
            return self._subcalls["trace"]
        return frozenset(self._all_subcall_names())

    @property
    def trace_given(self) -> bool:
        """True once a trace= expression was given (strace: -P then filters
        only the given calls)."""
        return self._trace_given

    # --- entry points ----------------------------------------------------------
    def qualify(self, expr: str) -> None:
        """Apply the value of one `-e` option."""
        name, value = None, expr
        m = re.match(r"([a-z-]+)=", expr)
        if m and m.group(1) in _HANDLERS:
            name, value = m.group(1), expr[m.end():]
        handler = _HANDLERS[name or "trace"]
        getattr(self, handler)(value)

    def add_path(self, path: str) -> None:
        """`-P PATH`: trace only calls touching PATH (the consumer matches
        paths; without trace= the filter selects every call with a path or an
        fd argument)."""
        if not path:
            raise UsageError("-P: empty path")
        self.paths = self.paths + (path,)

    # --- syscall sets ----------------------------------------------------------
    def _q_trace(self, value: str) -> None:
        self._trace, self._subcalls["trace"] = self._syscall_set(value, "trace")
        self._trace_given = True

    def _q_abbrev(self, value: str) -> None:
        self.abbrev, self._subcalls["abbrev"] = self._syscall_set(value, "abbrev")

    def _q_verbose(self, value: str) -> None:
        self.verbose, self._subcalls["verbose"] = self._syscall_set(value, "verbose")

    def _q_raw(self, value: str) -> None:
        self.raw, self._subcalls["raw"] = self._syscall_set(value, "raw")

    def selection(self, which: str = "trace") -> frozenset:
        """The raw selection of a syscall set ("trace", "abbrev", "verbose",
        "raw"): (Pers, nr) for numbers selected themselves, and
        (Pers.I386, NAME) for i386 socketcall/ipc subcalls selected by name
        (which `trace` shows as their multiplexer's number)."""
        if which == "trace" and self._trace is None:
            if self.paths:
                return self._path_items()
            return self._universe
        return self._raw_sel.get(which, self._universe if which in ("abbrev", "verbose") else frozenset())

    def _syscall_set(self, value: str, which: str) -> tuple[frozenset, frozenset[str]]:
        """Parse one syscall-set expression; returns ((Pers, nr) set, subcall names)."""
        selected = self._select(value)
        self._raw_sel[which] = selected
        real = self._real(selected)
        subs = frozenset(name for (p, key) in selected if p == Pers.I386 and isinstance(key, str) for name in [key])
        return real, subs

    def _select(self, value: str) -> frozenset:
        """The set over the universe: (Pers, nr) and (Pers.I386, "subcall-name")."""
        s, invert = _negation(value)
        if s == "none":
            chosen: set = set()
        elif s == "all":
            chosen = set(self._universe)
        else:
            chosen = set()
            done = False
            for token in s.split(","):
                if not token:
                    continue  # strtok skips empty tokens
                got, ok = self._token(token)
                chosen |= got
                done = ok
                if not ok:
                    raise UnknownSyscall(f"invalid system call '{token}'{self._suggest(token)}")
            if not done:
                raise UnknownSyscall(f"invalid system call '{value}'")
        if invert:
            return self._universe - chosen
        return frozenset(chosen)

    def _token(self, token: str) -> tuple[set, bool]:
        ok = False
        while token.startswith("?"):
            token = token[1:]
            ok = True
        pers_list = list(Pers)
        at = token.rfind("@")
        if at >= 0:
            designator = token[at + 1:]
            if designator not in PERS_DESIGNATORS:
                raise UsageError(f"incorrect personality designator '{designator}' in qualification '{token}'")
            pers_list = [PERS_DESIGNATORS[designator]]
            token = token[:at]
        got: set = set()
        for pers in pers_list:
            part, valid = self._token_pers(token, pers)
            got |= part
            ok |= valid
        return got, ok

    def _token_pers(self, token: str, pers: Pers) -> tuple[set, bool]:
        """Matches of one token in one personality, and whether the token is
        valid there (strace: a class is valid even with no member; a name,
        number or regex only when it matches)."""
        u = self._u
        if token[:1].isdigit():
            if not token.isdigit():
                return set(), False
            nr = int(token)
            for cand in (nr | X32_SYSCALL_BIT, nr) if pers == Pers.X32 else (nr,):
                if cand in u.by_pers[pers]:
                    return {(pers, cand)}, True
            return set(), False
        if token.startswith("/"):
            try:
                rx = re.compile(token[1:])
            except re.error as exc:
                raise UsageError(f"regcomp: {token[1:]}: {exc}") from None
            got = {(pers, key) for name, key in u.names[pers] if rx.search(name)}
            return got, bool(got)
        cls = self._class(token)
        if cls is not None:
            return {(pers, key) for name, key in u.names[pers] if name in cls}, True
        got = {(pers, key) for key in u.by_name[pers].get(token, ())}
        return got, bool(got)

    def _class(self, token: str) -> frozenset[str] | None:
        if token == "all":  # legacy class: every syscall
            return frozenset(self.table.syscalls)
        if token in _CLASS_ALIASES:
            return self.table.classes[_CLASS_ALIASES[token]]
        if token.startswith("%") and token[1:] in self.table.classes:
            return self.table.classes[token[1:]]
        return None

    def _suggest(self, token: str) -> str:
        bare = token.lstrip("?")
        bare = bare.split("@")[0]
        if bare.startswith("/") or bare[:1].isdigit():
            return ""
        if bare.startswith("%"):
            cands = ["%" + c for c in self.table.classes] + ["%net"]
        else:
            cands = list(self.table.syscalls)
        import difflib  # only for this error's suggestion

        close = difflib.get_close_matches(bare, cands, n=1, cutoff=0.75)
        return f"; did you mean '{close[0]}'?" if close else ""

    # --- universe helpers ------------------------------------------------------
    def _real(self, selected) -> frozenset:
        """Replace i386 subcall entries by their multiplexer's number."""
        out = set()
        for p, key in selected:
            if isinstance(key, str):
                mux = self.table.syscalls[key].subcall[0]
                out.add((p, self.table.syscalls[mux].numbers[Pers.I386]))
            else:
                out.add((p, key))
        return frozenset(out)

    def _all_subcall_names(self):
        return [k for p, k in self._universe if isinstance(k, str)]

    def _path_set(self) -> frozenset:
        return self._real(self._path_items())

    def _path_items(self) -> frozenset:
        chosen = set()
        for p, key in self._universe:
            sc = self.table.syscalls[key] if isinstance(key, str) else self.table.lookup(p, key)
            if sc is None:
                continue
            if sc.name in self.table.multiplexers or any(a.kind in _PATH_KINDS for a in sc.args_for(p)) or sc.ret == "fd":
                chosen.add((p, key))
        return frozenset(chosen)

    # --- token sets ------------------------------------------------------------
    @staticmethod
    def _tokens(value: str, convert, what: str, universe=None):
        """strace's qualify_tokens: returns (items, inverted)."""
        s, invert = _negation(value)
        if s == "none":
            return set(), invert
        if s == "all":
            return set(), not invert
        items = set()
        seen = False
        for token in s.split(","):
            if not token:
                continue
            v = convert(token)
            if v is None or (isinstance(v, int) and v < 0):
                raise UsageError(f"invalid {what} '{token}'")
            items.add(v)
            seen = True
        if not seen:
            raise UsageError(f"invalid {what} '{value}'")
        return items, invert

    def _finite(self, value, convert, what, universe) -> frozenset:
        items, inverted = self._tokens(value, convert, what)
        return frozenset(universe) - items if inverted else frozenset(items)

    def _q_signal(self, value: str) -> None:
        self.signals = self._finite(value, _signal_number, "signal", range(1, 256))

    def _q_status(self, value: str) -> None:
        self.status = self._finite(value, lambda t: t if t in STATUSES else None, "status", STATUSES)

    def _q_quiet(self, value: str) -> None:
        self.quiet = self._finite(value, _QUIET.get, "quiet", QUIET)

    def _q_decode_fds(self, value: str) -> None:
        self.decode_fds = self._finite(value, lambda t: t if t in DECODE_FDS else None, "decode-fds", DECODE_FDS)

    def _q_decode_pids(self, value: str) -> None:
        self.decode_pids = self._finite(value, lambda t: t if t in DECODE_PIDS else None, "decode-pids", DECODE_PIDS)

    def _q_read(self, value: str) -> None:
        self.read_fds = NumberSet(*self._tokens(value, _uint, "descriptor"))

    def _q_write(self, value: str) -> None:
        self.write_fds = NumberSet(*self._tokens(value, _uint, "descriptor"))

    def _q_kvm(self, value: str) -> None:
        # strace 6.1 knows one value: print why KVM_RUN returned (the vcpu's
        # kvm_run.exit_reason, read at the exit stop: PlanFlag.KVM)
        if value != "vcpu":
            raise UsageError(f"invalid -e kvm= argument: '{value}'")
        self.kvm_vcpu = True

    def _q_secontext(self, value: str) -> None:
        raise UsageError("SELinux context printing (--secontext option) is not supported by tracerd")

    # --- inject / fault --------------------------------------------------------
    def _q_inject(self, value: str) -> None:
        self.inject.append(self._inject(value, fault=False))

    def _q_fault(self, value: str) -> None:
        self.inject.append(self._inject(value, fault=True))

    def _inject(self, value: str, *, fault: bool) -> Inject:
        what = "fault argument" if fault else "inject argument"
        bad = UsageError(f"invalid {what} '{value}'")
        if not value or value.startswith(":"):
            # strace passes "" on to the syscall parser: invalid system call ''
            raise UnknownSyscall(f"invalid system call '{value.split(':')[0]}'")
        name, *tokens = [t for t in value.split(":")]
        opts: dict = {}
        for tok in tokens:
            if not tok:
                continue  # strtok skips empty fields
            key, eq, val = tok.partition("=")
            if not eq:
                raise bad
            if key == "when":
                when = _parse_when(val)
                if when is None:
                    raise bad
                opts.update(zip(("first", "last", "step"), when))
            elif key == "syscall":
                if "syscall" in opts:
                    raise bad
                sc = self.table.syscalls.get(val)
                if sc is None or "pure" not in sc.classes or set(sc.numbers) != set(Pers):
                    raise bad
                opts["syscall"] = val
            elif key == "error":
                if "error" in opts or "retval" in opts:
                    raise bad
                n, _ = _uint_ex(val, MAX_ERRNO)
                if n < 0:
                    n = _ERRNO_BY_NAME.get(val.upper(), -1)  # strace compares names case-insensitively
                if n < 1:
                    raise bad
                opts["error"] = n
            elif not fault and key == "retval":
                if "error" in opts or "retval" in opts:
                    raise bad
                n = _strtoull(val)
                if n is None:
                    raise bad
                opts["retval"] = n
            elif not fault and key == "signal":
                if "signal" in opts:
                    raise bad
                n = _signal_number(val)
                if not 1 <= n < NSIG:
                    raise bad
                opts["signal"] = n
            elif not fault and key in ("delay_enter", "delay_exit"):
                k = key + "_ns"
                ns = _parse_delay_ns(val)
                if k in opts or ns is None:
                    raise bad
                opts[k] = ns
            elif not fault and key in ("poke_enter", "poke_exit"):
                pokes = _parse_pokes(val)
                if key in opts or pokes is None:
                    raise bad
                opts[key] = pokes
            else:
                raise bad
        # syscall= alone is no action (strace's INJECT_ACTION_FLAGS)
        if not any(k in opts for k in ("error", "retval", "signal", "delay_enter_ns", "delay_exit_ns", "poke_enter", "poke_exit")):
            if fault:
                opts["error"] = _errno.ENOSYS
            else:
                raise bad
        if "retval" in opts:
            self.warnings.extend(retval_warnings(opts["retval"]))
        selected = self._select(name)
        subs = frozenset(k for p, k in selected if isinstance(k, str))
        return Inject(syscalls=self._real(selected), subcalls=subs, fault=fault, **opts)


# `-e NAME=` -> handler (strace's qual_options, with its short aliases).
_HANDLERS = {
    "trace": "_q_trace", "t": "_q_trace",
    "abbrev": "_q_abbrev", "a": "_q_abbrev",
    "verbose": "_q_verbose", "v": "_q_verbose",
    "raw": "_q_raw", "x": "_q_raw",
    "signal": "_q_signal", "signals": "_q_signal", "s": "_q_signal",
    "status": "_q_status",
    "quiet": "_q_quiet", "silent": "_q_quiet", "silence": "_q_quiet", "q": "_q_quiet",
    "read": "_q_read", "reads": "_q_read", "r": "_q_read",
    "write": "_q_write", "writes": "_q_write", "w": "_q_write",
    "fault": "_q_fault",
    "inject": "_q_inject",
    "kvm": "_q_kvm",
    "decode-fd": "_q_decode_fds", "decode-fds": "_q_decode_fds",
    "decode-pid": "_q_decode_pids", "decode-pids": "_q_decode_pids",
    "secontext": "_q_secontext",
}


@dataclass(frozen=True)
class _Universe:
    """Everything a set may select (the names and numbers of the table)."""

    all: frozenset  # every selectable item
    by_pers: dict  # Pers -> set of keys
    names: dict  # Pers -> [(name, key)]
    by_name: dict  # Pers -> {name: [key, ...]}


_UNIVERSES: dict[int, tuple[Table, _Universe]] = {}


def _universe(table: Table) -> _Universe:
    """Every selectable item: (Pers, nr) for each real number, and on i386
    (Pers.I386, name) for each socketcall/ipc subcall (computed once per table)."""
    hit = _UNIVERSES.get(id(table))
    if hit is not None and hit[0] is table:
        return hit[1]
    by_pers: dict = {p: set() for p in Pers}
    names: dict = {p: [] for p in Pers}
    by_name: dict = {p: {} for p in Pers}
    for pers in Pers:
        for nr, sc in table.numbers(pers).items():
            by_pers[pers].add(nr)
            names[pers].append((sc.name, nr))
            by_name[pers].setdefault(sc.name, []).append(nr)
    for subs in table.multiplexers.values():
        for name in subs.values():
            by_pers[Pers.I386].add(name)
            names[Pers.I386].append((name, name))
            by_name[Pers.I386].setdefault(name, []).append(name)
    u = _Universe(
        all=frozenset((p, k) for p in Pers for k in by_pers[p]),
        by_pers=by_pers,
        names=names,
        by_name=by_name,
    )
    _UNIVERSES[id(table)] = (table, u)
    return u

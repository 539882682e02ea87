"""Tampering: the per-call plan the native loop executes for strace's
`-e inject=` and `-e fault=` (docs/fetch-plan.md, "The tamper section").

strace's rules, checked against strace 6.1:
- expressions apply in order and, for each (personality, number), the last
  one that names it wins whole (`-e inject=close:error=1 -e fault=%desc`
  faults every close with ENOSYS);
- only calls that are traced are counted and tampered with (`-e trace=open
  -e inject=close:...` tampers with nothing), and with -P only those that
  name a -P path (a path argument as passed, or an fd argument whose
  /proc/TID/fd link is the path: the consumer's rule for showing them);
- the counters of `when=` are per thread and per call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from tracerd._errors import UsageError
from tracerd._wire import (
    TAMPER_HEADER,
    TAMPER_LAST_INF,
    TAMPER_PATH,
    TAMPER_POKE,
    TAMPER_RULE,
    Pers,
    TamperAction,
)

from ._qualify import Inject
from ._table import Table, load_table


def tamper_map(injects: Iterable[Inject], trace: Iterable) -> dict[tuple[Pers, int], Inject]:
    """(pers, nr) -> the rule that applies to it: the last expression naming
    it wins; calls that are not traced are left out (strace tampers only
    with traced calls)."""
    traced = frozenset((Pers(p), n) for p, n in trace)
    out: dict[tuple[Pers, int], Inject] = {}
    for rule in injects:
        for p, n in rule.syscalls:
            key = (Pers(p), n)
            if key in traced:
                out[key] = rule
    return out


def kernel_eligible(rule: Inject, key, table: Table) -> bool:
    """Whether `rule` needs no per-call decision on (pers, nr): an error on
    every call (no when=, retval=, signal=, delay, poke or syscall=), and not
    an i386 socket/ipc call (its multiplexer would need argument checks the
    kernel's seccomp cache cannot run)."""
    if rule.error is None or rule.retval is not None or rule.signal is not None or rule.syscall is not None:
        return False
    if rule.delay_enter_ns is not None or rule.delay_exit_ns is not None or rule.poke_enter or rule.poke_exit:
        return False
    if (rule.first, rule.last, rule.step) != (1, 0xFFFF, 1):
        return False
    sc = table.lookup(*key)
    return not (key[0] == Pers.I386 and (sc.subcall is not None or sc.name in table.multiplexers))


def in_kernel_split(injects: Iterable[Inject], trace: Iterable, table: Table | None = None) -> tuple[dict, dict]:
    """--in-kernel: (errnos for the filter, rules for the loop). The last
    expression naming a call wins, as without --in-kernel; a winner the
    kernel can apply goes into the filter whatever -e trace= selects (not
    strace's semantics: those calls never stop); the others are done by
    stops on traced calls only."""
    table = table or load_table()
    every = frozenset((Pers(p), n) for r in injects for p, n in r.syscalls)
    winners = tamper_map(injects, every)
    kernel = {k: r.error for k, r in winners.items() if kernel_eligible(r, k, table)}
    traced = frozenset((Pers(p), n) for p, n in trace)
    stops = {k: r for k, r in winners.items() if k not in kernel and k in traced}
    return kernel, stops


def _actions(rule: Inject) -> int:
    a = 0
    if rule.error is not None:
        a |= TamperAction.ERROR
    if rule.retval is not None:
        a |= TamperAction.RETVAL
    if rule.signal is not None:
        a |= TamperAction.SIGNAL
    if rule.syscall is not None and a & (TamperAction.ERROR | TamperAction.RETVAL):
        a |= TamperAction.SYSCALL  # strace: syscall= acts only with error= or retval=
    if rule.delay_enter_ns is not None:
        a |= TamperAction.DELAY_ENTER
    if rule.delay_exit_ns is not None:
        a |= TamperAction.DELAY_EXIT
    if rule.poke_enter:
        a |= TamperAction.POKE_ENTER
    if rule.poke_exit:
        a |= TamperAction.POKE_EXIT
    return int(a)


_PATH_KINDS = frozenset({"path"})
_FD_KINDS = frozenset({"fd", "dirfd"})


def _arg_masks(table: Table, pers: Pers, nr: int) -> tuple[int, int]:
    """(path args, fd args) of a call as bit masks: what -P looks at (the
    consumer's rule: path strings as passed, fds by what they name)."""
    sc = table.lookup(pers, nr)
    paths = fds = 0
    for i, a in enumerate(sc.args_for(pers) if sc else ()):
        if a.kind in _PATH_KINDS:
            paths |= 1 << i
        elif a.kind in _FD_KINDS:
            fds |= 1 << i
    return paths, fds


def build_tamper(rules: Mapping[tuple[Pers, int], Inject], table: Table | None = None, paths: Iterable[str] = ()) -> bytes:
    """The tamper section for `rules` ((pers, nr) -> Inject), sorted by
    (pers, nr); b"" when there is nothing to tamper with. `paths`: -P's;
    then only calls that name one of them are counted and tampered with."""
    if not rules:
        return b""
    table = table or load_table()
    paths = [p.encode(errors="surrogateescape") if isinstance(p, str) else bytes(p) for p in paths]
    if len(rules) > 0xFFFF or len(paths) > 0xFFFF:
        raise UsageError("too many system calls to tamper with")
    parts = [TAMPER_HEADER.pack(len(rules), len(paths), 0)]
    for p in paths:
        entry = TAMPER_PATH.pack(len(p)) + p
        parts.append(entry + b"\0" * (-len(entry) % 8))
    for (pers, nr) in sorted(rules):
        rule = rules[(pers, nr)]
        actions = _actions(rule)
        scno = -1
        if actions & TamperAction.SYSCALL:
            scno = table.syscalls[rule.syscall].numbers[Pers(pers)]
        pokes = [(0, a, d) for a, d in rule.poke_enter] + [(1, a, d) for a, d in rule.poke_exit]
        if pokes:
            sc = table.lookup(Pers(pers), nr)
            nargs = len(sc.args_for(Pers(pers))) if sc else 6
            # a poke past the call's arguments never applies: arg 0 carries
            # strace's message instead (docs/fetch-plan.md)
            pokes = [(ph, a, d) if a <= nargs else (ph, 0, f"requested to tamper with argument #{a}, but system call '{sc.name}' has only {nargs} arguments".encode())
                     for ph, a, d in pokes]
        pmask, fmask = _arg_masks(table, Pers(pers), nr) if paths else (0, 0)
        parts.append(TAMPER_RULE.pack(
            int(pers), actions, rule.signal or 0, len(pokes), nr,
            rule.first, rule.last, rule.step, rule.error or 0,
            rule.retval or 0, scno,
            rule.delay_enter_ns or 0, rule.delay_exit_ns or 0,
            pmask, fmask, 0, 0,
        ))
        for phase, arg, data in pokes:
            parts.append(TAMPER_POKE.pack(phase, arg, len(data), 0))
            parts.append(data + b"\0" * (-len(data) % 8))
    return b"".join(parts)


def parse_tamper(buf: bytes, off: int) -> tuple[list[dict], list[str], int]:
    """Read a tamper section at `off`: (rules as plain data, -P paths, end
    offset). Raises ValueError on a malformed section."""
    if off + TAMPER_HEADER.size > len(buf):
        raise ValueError("fetch plan truncated in the tamper header")
    count, npaths, _ = TAMPER_HEADER.unpack_from(buf, off)
    off += TAMPER_HEADER.size
    paths = []
    for _ in range(npaths):
        if off + TAMPER_PATH.size > len(buf):
            raise ValueError("fetch plan truncated in a tamper path")
        (n,) = TAMPER_PATH.unpack_from(buf, off)
        size = TAMPER_PATH.size + n
        size += -size % 8
        if not n or off + size > len(buf):
            raise ValueError("bad tamper path")
        paths.append(buf[off + TAMPER_PATH.size:off + TAMPER_PATH.size + n].decode(errors="surrogateescape"))
        off += size
    rules = []
    prev = None
    for _ in range(count):
        if off + TAMPER_RULE.size > len(buf):
            raise ValueError("fetch plan truncated in a tamper rule")
        (pers, actions, signo, npokes, nr, first, last, step, error, retval, scno,
         d_enter, d_exit, pmask, fmask, _, _) = TAMPER_RULE.unpack_from(buf, off)
        off += TAMPER_RULE.size
        if pers > max(Pers) or (prev is not None and (pers, nr) <= prev):
            raise ValueError("tamper rules not sorted by (pers, nr)")
        prev = (pers, nr)
        if not actions or actions & ~0xFF or first < 1 or (last != TAMPER_LAST_INF and last < first):
            raise ValueError(f"bad tamper rule for ({pers}, {nr})")
        pokes = []
        for _ in range(npokes):
            if off + TAMPER_POKE.size > len(buf):
                raise ValueError("fetch plan truncated in a poke")
            phase, arg, length, _ = TAMPER_POKE.unpack_from(buf, off)
            off += TAMPER_POKE.size
            padded = length + (-length % 8)
            if phase > 1 or not 1 <= arg <= 7 or off + padded > len(buf):
                raise ValueError(f"bad poke in tamper rule for ({pers}, {nr})")
            pokes.append({"phase": phase, "arg": arg, "data": buf[off:off + length].hex()})
            off += padded
        rules.append({
            "pers": pers, "nr": nr, "actions": actions, "signo": signo, "first": first, "last": last,
            "step": step, "error": error, "retval": retval, "scno": scno,
            "delay_enter_ns": d_enter, "delay_exit_ns": d_exit, "pokes": pokes,
            "pathargs": pmask, "fdargs": fmask,
        })
    return rules, paths, off

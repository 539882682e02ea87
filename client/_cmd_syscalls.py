"""`tracectl syscalls [SET]...`: what a syscall set (`%network`, `/^open`,
names, `!`...: the value of strace's -e trace=) expands to, per personality.
A rich table on a terminal, plain aligned columns otherwise."""

from __future__ import annotations

import sys

from ._options import strict_parser


def add_parser(subparsers, name, help):
    p = subparsers.add_parser(
        name,
        help=help,
        usage="tracectl syscalls [SET]...",
        description="List the syscalls a trace set expands to, with their number in each personality "
        "(x32 numbers without __X32_SYSCALL_BIT; i386 socket/ipc calls also show their multiplexer).",
    )
    p.add_argument("set", nargs="*", metavar="SET", help="as strace's -e trace= (default: all); several are joined with commas")
    strict_parser(p)
    return p


def rows(expr: str) -> list[tuple[str, str, str, str, str]]:
    """(name, x86_64, i386, x32, classes) for each syscall the set selects;
    an i386 socket/ipc call made through its multiplexer shows as
    `socketcall:N` / `ipc:N`."""
    from tracerd._wire import X32_SYSCALL_BIT, Pers
    from tracerd.bpfgen import Qualifiers

    q = Qualifiers()
    q.qualify("trace=" + expr)
    table = q.table
    by_name: dict[str, dict[Pers, list[str]]] = {}
    for pers, key in q.selection("trace"):
        if isinstance(key, str):  # an i386 subcall
            mux, sub = table.syscalls[key].subcall
            name, shown = key, f"{mux}:{sub}"
        else:
            name = table.lookup(pers, key).name
            shown = str(key & ~X32_SYSCALL_BIT if pers == Pers.X32 else key)
        by_name.setdefault(name, {}).setdefault(pers, []).append(shown)
    out = []
    for name in sorted(by_name):
        nums = by_name[name]
        classes = " ".join("%" + c for c in sorted(table.syscalls[name].classes))
        out.append((name, *(", ".join(sorted(nums.get(p, []), key=_numkey)) for p in Pers), classes))
    return out


def _numkey(s: str):
    return (0, int(s)) if s.isdigit() else (1, s)


def run(args) -> int:
    expr = ",".join(args.set) if args.set else "all"
    table_rows = rows(expr)
    try:
        _print(expr, table_rows)
    except BrokenPipeError:  # `| head`: the reader is gone, not an error
        _silence_stdout()
    return 0


def _silence_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _print(expr, table_rows) -> None:
    header = ("NAME", "X86_64", "I386", "X32", "CLASSES")
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        t = Table(*header, title=f"{len(table_rows)} system calls in '{expr}'")
        for r in table_rows:
            t.add_row(*r)
        Console().print(t)
    else:
        widths = [max(len(h), *(len(r[i]) for r in table_rows)) if table_rows else len(h) for i, h in enumerate(header)]
        for r in (header, *table_rows):
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        sys.stdout.flush()

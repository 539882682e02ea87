"""`tracectl bpf [-e EXPR]... [-P PATH]... [--entry-only]`: print the seccomp
filter a trace set compiles to, one instruction per line, syscall names in
comments (or the raw `struct sock_filter` bytes with --binary, or the fetch
plan with --plan)."""

from __future__ import annotations

import sys

from ._options import strict_parser


def add_parser(subparsers, name, help):
    p = subparsers.add_parser(
        name,
        help=help,
        usage="tracectl bpf [-e EXPR]... [-P PATH]... [-s STRSIZE] [--entry-only] [--binary | --plan]",
        description="Print the seccomp-BPF program (and fetch plan) that the -e/-P options compile to.",
    )
    p.add_argument("-e", dest="exprs", action="append", default=[], metavar="EXPR", help="a qualifying expression, as strace's -e (trace=%%file, signal=...)")
    p.add_argument("-P", "--trace-path", dest="paths", action="append", default=[], metavar="PATH", help="trace only calls touching PATH")
    p.add_argument("-s", "--string-limit", dest="strsize", type=int, default=32, metavar="STRSIZE", help="string size the fetch plan reads (--plan)")
    p.add_argument("--entry-only", action="store_true", help="no exit stops: entry records only")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--binary", action="store_true", help="write the raw struct sock_filter array to stdout")
    out.add_argument("--plan", action="store_true", help="print the fetch plan instead of the program")
    strict_parser(p)
    return p


def run(args) -> int:
    try:
        return _run(args)
    except BrokenPipeError:  # `| head`: the reader is gone, not an error
        from ._cmd_syscalls import _silence_stdout

        _silence_stdout()
        return 0


def _run(args) -> int:
    from tracerd.bpfgen import Qualifiers, build_plan, compile_filter, disassemble, load_table, parse_plan
    from tracerd._wire import LEN_FIXED, LEN_IOC, LEN_NONE, LEN_RET, EntryFlag, Op, Pers

    q = Qualifiers()
    for e in args.exprs:
        q.qualify(e)
    for path in args.paths:
        q.add_path(path)
    if args.plan:
        table = load_table()
        plan = parse_plan(build_plan(q.trace, strsize=args.strsize, entry_only=args.entry_only))
        print(f"fetch plan v{plan['version']}: {len(plan['entries'])} entries, strsize {plan['strsize']}")
        for e in plan["entries"]:
            pers = Pers(e["pers"])
            sc = table.lookup(pers, e["nr"])
            flags = "|".join(f.name for f in EntryFlag if e["flags"] & f) or "0"
            print(f"{pers.name.lower():<6} {e['nr']:>10} {sc.name if sc else '?':<24} {flags}")
            for o in e["ops"]:
                src = {LEN_RET: "ret", LEN_FIXED: "fixed", LEN_IOC: "ioc", LEN_NONE: "-"}.get(o["len"], f"arg{o['len']}")
                phase = "entry" if o["phase"] == 0 else "exit"
                print(f"{'':<43}{phase:<5} {Op(o['kind']).name:<6} arg{o['arg']} len={src} size={o['size']}")
        return 0
    bpf = compile_filter(q.trace, entry_only=args.entry_only)
    if args.binary:
        sys.stdout.buffer.write(bpf)
        sys.stdout.flush()
        return 0
    lines = disassemble(bpf)
    print("\n".join(lines))
    sys.stdout.flush()
    return 0

"""tracerd.bpfgen: the syscall table, the strace qualifier language, the
seccomp-BPF compiler and the fetch plan. Pure Python over libseccomp.

    table = load_table()                    # the syscall table (docs/syscall-table.md)
    q = Qualifiers()                        # strace's -e / -P
    q.qualify("trace=%file"); q.add_path("/etc/passwd")
    bpf = compile_filter(q.trace)           # struct sock_filter[] bytes
    plan = build_plan(q.trace, strsize=32)  # the fetch plan (docs/fetch-plan.md)
    print("\\n".join(disassemble(bpf)))
"""

from ._compile import cache_problems, compile_filter, disassemble, instructions, ret_name
from ._plan import build_plan, effective_set, parse_plan, syscall_ops, trace_flags
from ._qualify import DECODE_FDS, PERS_DESIGNATORS, QUIET, STATUSES, Inject, NumberSet, Qualifiers
from ._tamper import build_tamper, in_kernel_split, kernel_eligible, parse_tamper, tamper_map
from ._table import ARG_KINDS, CLASSES, RET_KINDS, Arg, Syscall, Table, TableError, load_table

__all__ = [
    "ARG_KINDS",
    "CLASSES",
    "DECODE_FDS",
    "PERS_DESIGNATORS",
    "QUIET",
    "RET_KINDS",
    "STATUSES",
    "Arg",
    "Inject",
    "NumberSet",
    "Qualifiers",
    "Syscall",
    "Table",
    "TableError",
    "build_plan",
    "build_tamper",
    "cache_problems",
    "compile_filter",
    "disassemble",
    "effective_set",
    "in_kernel_split",
    "instructions",
    "kernel_eligible",
    "load_table",
    "parse_plan",
    "parse_tamper",
    "ret_name",
    "syscall_ops",
    "tamper_map",
    "trace_flags",
]

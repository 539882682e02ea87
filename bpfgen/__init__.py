"""tracerd.bpfgen: the syscall table, the strace qualifier language, the
seccomp-BPF compiler and the fetch plan. Pure Python over libseccomp."""

from ._table import ARG_KINDS, CLASSES, RET_KINDS, Arg, Syscall, Table, TableError, load_table

__all__ = ["ARG_KINDS", "CLASSES", "RET_KINDS", "Arg", "Syscall", "Table", "TableError", "load_table"]

"""The seccomp-BPF compiler (through libseccomp) and a disassembler.

The filter allows everything by default and returns SECCOMP_RET_TRACE with
the EntryFlag bits as data for each selected (personality, number). All three
x86 personalities are in it, so a call made through `int $0x80` is matched by
its i386 number. The program loads only `nr` and `arch` and uses only the
instructions the kernel's seccomp action cache can emulate (checked by
`cache_problems`).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable

from tracerd._errors import TracerdError
from tracerd._wire import AUDIT_ARCH, X32_SYSCALL_BIT, EntryFlag, Pers

from ._plan import effective_set, trace_flags
from ._table import _seccomp, libseccomp_arch, load_table

SOCK_FILTER = struct.Struct("<HBBI")  # struct sock_filter: code, jt, jf, k

# linux/filter.h / bpf_common.h
BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_ALU, BPF_JMP, BPF_RET, BPF_MISC = range(8)
BPF_W, BPF_H, BPF_B = 0x00, 0x08, 0x10
BPF_IMM, BPF_ABS, BPF_IND, BPF_MEM, BPF_LEN, BPF_MSH = 0x00, 0x20, 0x40, 0x60, 0x80, 0xA0
BPF_K, BPF_X, BPF_A = 0x00, 0x08, 0x10
BPF_JA, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET = 0x00, 0x10, 0x20, 0x30, 0x40
_ALU_OPS = {0x00: "add", 0x10: "sub", 0x20: "mul", 0x30: "div", 0x40: "or", 0x50: "and", 0x60: "lsh", 0x70: "rsh", 0x80: "neg", 0x90: "mod", 0xA0: "xor"}
_JMP_OPS = {BPF_JEQ: "jeq", BPF_JGT: "jgt", BPF_JGE: "jge", BPF_JSET: "jset"}

# linux/seccomp.h: return actions (the high 16 bits), data in the low 16.
SECCOMP_RET_ACTION_FULL = 0xFFFF0000
SECCOMP_RET_DATA = 0x0000FFFF
_RET_NAMES = {
    0x80000000: "KILL_PROCESS",
    0x00000000: "KILL_THREAD",
    0x00030000: "TRAP",
    0x00050000: "ERRNO",
    0x7FC00000: "USER_NOTIF",
    0x7FF00000: "TRACE",
    0x7FFC0000: "LOG",
    0x7FFF0000: "ALLOW",
}
# struct seccomp_data offsets
SECCOMP_DATA_NR = 0
SECCOMP_DATA_ARCH = 4
_ARCH_NAMES = {0xC000003E: "AUDIT_ARCH_X86_64", 0x40000003: "AUDIT_ARCH_I386"}

# Opcodes the kernel's seccomp cache emulator accepts (kernel/seccomp.c,
# seccomp_is_const_allow): loads of nr/arch, K-jumps, AND K, RET K.
_CACHE_OK = {
    BPF_LD | BPF_W | BPF_ABS,
    BPF_JMP | BPF_JA,
    BPF_JMP | BPF_JEQ | BPF_K,
    BPF_JMP | BPF_JGE | BPF_K,
    BPF_JMP | BPF_JGT | BPF_K,
    BPF_JMP | BPF_JSET | BPF_K,
    BPF_ALU | 0x50 | BPF_K,  # and #k
    BPF_RET | BPF_K,
}
BPF_MAXINSNS = 4096


class _Fd:
    """Just enough of a file object for pyseccomp's export_bpf()."""

    def __init__(self, fd: int):
        self._fd = fd

    def fileno(self) -> int:
        return self._fd


def _export(flt) -> bytes:
    fd = os.memfd_create("tracerd-bpf", os.MFD_CLOEXEC)
    try:
        flt.export_bpf(_Fd(fd))
        size = os.lseek(fd, 0, os.SEEK_END)
        return os.pread(fd, size, 0)
    finally:
        os.close(fd)


def _optimize(f, sc) -> None:
    """Ask for a binary tree of syscall numbers: for big sets far fewer
    instructions run per call (libseccomp >= 2.5; older ones keep the linear
    list, which is still correct). Must be set before rules are added."""
    try:
        f.set_attr(sc.Attr.CTL_OPTIMIZE, 2)
    except OSError:
        pass


def compile_filter(trace: Iterable, *, entry_only: bool = False, errno: dict | None = None, fds: bool = False) -> bytes:
    """The raw `struct sock_filter` array for seccomp(SECCOMP_SET_MODE_FILTER):
    default ALLOW (also for an unknown arch: a tracer must not kill), and
    SECCOMP_RET_TRACE | EntryFlag bits for each selected (pers, nr).
    `errno`: (pers, nr) -> E, calls failed in the kernel with
    SECCOMP_RET_ERRNO | E (`--in-kernel` fault injection); they must not be
    in `trace`. `fds`: the plan names fds (build_plan's `fds=`), which may
    add fetches to a call's flags.

    Kept in the on-disk cache (bpfgen/_cache.py) by trace set: a hit costs
    neither pyseccomp's import nor libseccomp's compilation (~30 ms)."""
    from . import _cache

    trace = frozenset(trace)
    errno = dict(errno or {})
    key = _cache.derived_key("filter", sorted((int(p), int(n)) for p, n in trace), bool(entry_only),
                             sorted((int(p), int(n), int(e)) for (p, n), e in errno.items()), *(("fds",) if fds else ()))
    return _cache.cached_bytes(
        "filter-", key,
        lambda: compile_filter_uncached(trace, entry_only=entry_only, errno=errno, fds=fds),
        lambda bpf: bpf and len(bpf) % SOCK_FILTER.size == 0,
    )


def compile_filter_uncached(trace: Iterable, *, entry_only: bool = False, errno: dict | None = None, fds: bool = False) -> bytes:
    """compile_filter() without the cache: libseccomp compiles it now."""
    sc = _seccomp()
    table = load_table()
    flags = trace_flags(trace, entry_only=entry_only, table=table, fds=fds)
    eff = effective_set(trace, table)
    errno = dict(errno or {})
    if set(errno) & set(eff):
        raise TracerdError("a call cannot be both traced and failed in the kernel")
    merged = None
    try:
        for pers in Pers:
            f = sc.SyscallFilter(sc.ALLOW)
            f.set_attr(sc.Attr.ACT_BADARCH, sc.ALLOW)
            _optimize(f, sc)
            if not f.exist_arch(libseccomp_arch(pers)):
                f.add_arch(libseccomp_arch(pers))
                f.remove_arch(sc.system_arch())
            # Multiplexers first: with a whole-syscall rule on socketcall/ipc
            # in place, libseccomp adds no argument check for their subcalls.
            items = sorted(
                ((nr, s) for (p, nr), s in eff.items() if p == pers),
                key=lambda it: (it[1].name not in table.multiplexers, it[0]),
            )
            for nr, s in items:
                f.add_rule(sc.TRACE(flags[(pers, nr)]), s.name)
            for (p, nr), e in sorted(errno.items()):
                if p == pers:
                    f.add_rule(sc.ERRNO(int(e)), table.lookup(pers, nr).name)
            if merged is None:
                merged = f
            else:
                merged.merge(f)
        return _export(merged)
    except OSError as exc:
        raise TracerdError(f"libseccomp refused the filter: {exc}") from exc


def instructions(bpf: bytes) -> list[tuple[int, int, int, int]]:
    if len(bpf) % SOCK_FILTER.size:
        raise ValueError("a BPF program is a whole number of 8-byte instructions")
    return [SOCK_FILTER.unpack_from(bpf, i) for i in range(0, len(bpf), SOCK_FILTER.size)]


def cache_problems(bpf: bytes) -> list[str]:
    """Why the kernel's seccomp action cache could not emulate this program
    (empty: cacheable). Checks what seccomp_cache_prepare_bitmap accepts."""
    out = []
    ins = instructions(bpf)
    if len(ins) > BPF_MAXINSNS:
        out.append(f"{len(ins)} instructions (more than {BPF_MAXINSNS})")
    for i, (code, _jt, _jf, k) in enumerate(ins):
        if code not in _CACHE_OK:
            out.append(f"{i:04}: opcode {code:#06x} not emulated by the seccomp cache")
        elif code == BPF_LD | BPF_W | BPF_ABS and k not in (SECCOMP_DATA_NR, SECCOMP_DATA_ARCH):
            out.append(f"{i:04}: loads seccomp_data offset {k} (only nr and arch are cacheable)")
    return out


def ret_name(k: int) -> str:
    action = k & SECCOMP_RET_ACTION_FULL
    name = _RET_NAMES.get(action)
    if name is None:
        return f"{k:#x}"
    data = k & SECCOMP_RET_DATA
    if name == "TRACE":
        bits = [f.name for f in EntryFlag if data & f]
        rest = data & ~sum(int(f) for f in EntryFlag)
        if rest:
            bits.append(f"{rest:#x}")
        return f"TRACE({'|'.join(bits) or '0'})"
    if name == "ERRNO":
        return f"ERRNO({data})"
    return name


def _syscall_comment(table, arches, k: int) -> str:
    names = []
    for arch in sorted(arches or ()):
        if arch == AUDIT_ARCH[Pers.I386]:
            pers = Pers.I386
        elif arch == AUDIT_ARCH[Pers.X86_64]:
            pers = Pers.X32 if k & X32_SYSCALL_BIT else Pers.X86_64
        else:
            continue
        sc = table.lookup(pers, k)
        if sc is not None:
            names.append(sc.name if len(arches) == 1 else f"{sc.name}@{pers.name.lower()}")
    return ", ".join(names)


def disassemble(bpf: bytes) -> list[str]:
    """One line per instruction: `NNNN: op operands  ; comment`, jump targets
    absolute, syscall names (per the arch the path has checked) in comments."""
    ins = instructions(bpf)
    table = load_table()
    # Forward data flow (classic BPF only jumps forward): what A holds
    # ("nr", "arch", None) and which arch values are possible on entry.
    ALL = frozenset(_ARCH_NAMES)
    states: list[tuple[str | None, frozenset] | None] = [None] * (len(ins) + 1)
    states[0] = (None, ALL)

    def merge(target, state):
        if target >= len(states):
            return
        old = states[target]
        if old is None:
            states[target] = state
        else:
            states[target] = (old[0] if old[0] == state[0] else None, old[1] | state[1])

    lines = []
    for i, (code, jt, jf, k) in enumerate(ins):
        st = states[i] or (None, ALL)
        a_src, arches = st
        cls = code & 0x07
        comment = ""
        nxt = (a_src, arches)
        if cls == BPF_LD:
            mode = code & 0xE0
            if mode == BPF_ABS:
                text = f"ld     [{k}]"
                what = {SECCOMP_DATA_NR: "nr", SECCOMP_DATA_ARCH: "arch"}.get(k)
                if what is None:
                    what = f"args[{(k - 16) // 8}]{' high' if (k - 16) % 8 else ''}" if k >= 16 else "instruction_pointer" if k >= 8 else None
                comment = what or ""
                nxt = (what if what in ("nr", "arch") else None, arches)
            elif mode == BPF_IMM:
                text = f"ld     #{k:#x}"
                nxt = (None, arches)
            elif mode == BPF_MEM:
                text = f"ld     M[{k}]"
                nxt = (None, arches)
            elif mode == BPF_LEN:
                text = "ld     #len"
                nxt = (None, arches)
            else:
                text = f"ld     ?{code:#x} {k:#x}"
                nxt = (None, arches)
            merge(i + 1, nxt)
        elif cls == BPF_LDX:
            text = f"ldx    {'#' if code & 0xE0 == BPF_IMM else 'M'}[{k:#x}]"
            merge(i + 1, nxt)
        elif cls in (BPF_ST, BPF_STX):
            text = f"{'st' if cls == BPF_ST else 'stx'}    M[{k}]"
            merge(i + 1, nxt)
        elif cls == BPF_ALU:
            op = _ALU_OPS.get(code & 0xF0, f"alu{code & 0xF0:#x}")
            text = f"{op:<6} {'x' if code & BPF_X else f'#{k:#x}'}"
            merge(i + 1, (None, arches) if op != "and" or a_src != "nr" else ("nr&", arches))
        elif cls == BPF_JMP:
            op = code & 0xF0
            if op == BPF_JA:
                text = f"ja     {i + 1 + k:04}"
                merge(i + 1 + k, nxt)
            else:
                name = _JMP_OPS.get(op, f"j{op:#x}")
                operand = "x" if code & BPF_X else f"#{k:#x}"
                t, f = i + 1 + jt, i + 1 + jf
                text = f"{name:<6} {operand}, {t:04}, {f:04}"
                t_arches, f_arches = arches, arches
                if a_src == "arch" and op == BPF_JEQ and not code & BPF_X:
                    comment = _ARCH_NAMES.get(k, "")
                    t_arches, f_arches = frozenset({k}), arches - {k}
                elif a_src == "nr" and not code & BPF_X:
                    if op == BPF_JEQ:
                        comment = _syscall_comment(table, arches, k)
                    elif k == X32_SYSCALL_BIT:
                        comment = "x32 bit"
                merge(t, (a_src, t_arches))
                merge(f, (a_src, f_arches))
        elif cls == BPF_RET:
            if code & 0x18 == BPF_A:
                text = "ret    a"
            else:
                text = f"ret    #{k:#x}"
                comment = ret_name(k)
        else:
            text = f"misc   {code:#x}"
            merge(i + 1, (None, arches))
        lines.append(f"{i:04}: {text:<32}" + (f" ; {comment}" if comment else "").rstrip())
    return [line.rstrip() for line in lines]

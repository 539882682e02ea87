"""KVM ioctls (type 0xAE) as strace 6.1 prints them: the vcpu number of
KVM_CREATE_VCPU, the structs of KVM_SET_USER_MEMORY_REGION and
KVM_{GET,SET}_{REGS,SREGS} (x86), and with `-e kvm=vcpu` why KVM_RUN
returned: `ioctl(5, KVM_RUN, 0) = 0 (KVM_EXIT_HLT)`.

The exit reason is the vcpu's `kvm_run.exit_reason`, which only the stop
itself can read (the next KVM_RUN overwrites it): the loop reads it when the
plan has PlanFlag.KVM and puts it in the exit mem entry `KVM_SLOT`
(native/memory.c, tr_kvm_exit). Without that entry (no -e kvm=vcpu, or the
mapping could not be found) the return value prints alone, as strace's.
"""

from __future__ import annotations

import struct

from tracerd._wire import FD_RET, FD_SLOT, KVM_SLOT

from ._core import C
from ._fmt import FlagSet, hexa
from ._ioctl_util import arg_bytes, printer

KVM_RUN = 0xAE80
KVM_CREATE_VCPU = 0xAE41
KVM_CREATE_VM = 0xAE01
KVM_SET_USER_MEMORY_REGION = 0x4020AE46
KVM_GET_REGS = 0x8090AE81
KVM_SET_REGS = 0x4090AE82
KVM_GET_SREGS = 0x8138AE83
KVM_SET_SREGS = 0x4138AE84

# linux/kvm.h KVM_EXIT_* (uapi), the names strace prints
EXIT_REASONS = (
    "KVM_EXIT_UNKNOWN", "KVM_EXIT_EXCEPTION", "KVM_EXIT_IO", "KVM_EXIT_HYPERCALL", "KVM_EXIT_DEBUG",
    "KVM_EXIT_HLT", "KVM_EXIT_MMIO", "KVM_EXIT_IRQ_WINDOW_OPEN", "KVM_EXIT_SHUTDOWN", "KVM_EXIT_FAIL_ENTRY",
    "KVM_EXIT_INTR", "KVM_EXIT_SET_TPR", "KVM_EXIT_TPR_ACCESS", "KVM_EXIT_S390_SIEIC", "KVM_EXIT_S390_RESET",
    "KVM_EXIT_DCR", "KVM_EXIT_NMI", "KVM_EXIT_INTERNAL_ERROR", "KVM_EXIT_OSI", "KVM_EXIT_PAPR_HCALL",
    "KVM_EXIT_S390_UCONTROL", "KVM_EXIT_WATCHDOG", "KVM_EXIT_S390_TSCH", "KVM_EXIT_EPR", "KVM_EXIT_SYSTEM_EVENT",
    "KVM_EXIT_S390_STSI", "KVM_EXIT_IOAPIC_EOI", "KVM_EXIT_HYPERV", "KVM_EXIT_ARM_NISV", "KVM_EXIT_X86_RDMSR",
    "KVM_EXIT_X86_WRMSR", "KVM_EXIT_DIRTY_RING_FULL", "KVM_EXIT_AP_RESET_HOLD", "KVM_EXIT_X86_BUS_LOCK",
    "KVM_EXIT_XEN", "KVM_EXIT_RISCV_SBI", "KVM_EXIT_RISCV_CSR", "KVM_EXIT_NOTIFY",
)
_MEM_FLAGS = ((1, "KVM_MEM_LOG_DIRTY_PAGES"), (2, "KVM_MEM_READONLY"))
_REGS = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
         "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags")
_SEGMENTS = ("cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt")
_SEGMENT = struct.Struct("<QIHBBBBBBBB2x")  # struct kvm_segment, 24 bytes


def kvm_ret(c: C) -> str | None:
    """`0 (KVM_EXIT_IO)` for a KVM_RUN whose exit reason the loop read;
    the fd KVM_CREATE_VM and KVM_CREATE_VCPU return, named with -y."""
    req = c.uint(1)
    if not c.ok or req not in (KVM_RUN, KVM_CREATE_VM, KVM_CREATE_VCPU):
        return None
    if req != KVM_RUN:
        if not c.dec._anyfd:
            return None
        named = c.mem.get((1, FD_SLOT + FD_RET))  # as the tracer named it at the stop
        return c.dec.fd_named(c.rval, named) if named is not None else c.dec.fd_text(c.rval, c.tid, False)
    v = c.m(KVM_SLOT, 1)
    if not isinstance(v, int):
        return None
    name = EXIT_REASONS[v] if 0 <= v < len(EXIT_REASONS) else "KVM_EXIT_???"
    return f"{c.rval} ({name})"


def _mem(c: C, phase: int, size: int) -> bytes | None:
    v = c.m(2, phase)
    if not isinstance(v, (bytes, bytearray)) or len(v) < size:
        return None
    return bytes(v[:size])


def _flags(v: int) -> str:
    if not v:
        return "0"
    names = [n for bit, n in _MEM_FLAGS if v & bit]
    rest = v & ~3
    if not names:
        return f"{v:#x} /* KVM_MEM_??? */"
    return "|".join(names + ([f"{rest:#x}"] if rest else []))


def _memory_region(b: bytes) -> str:
    slot, flags, gpa, size, uaddr = struct.unpack_from("<IIQQQ", b)
    return (f"{{slot={slot}, flags={_flags(flags)}, guest_phys_addr={hexa(gpa)}, "
            f"memory_size={size}, userspace_addr={hexa(uaddr)}}}")


def _regs(c: C, b: bytes) -> str:
    r = dict(zip(_REGS, struct.unpack_from("<18Q", b)))
    if c.abbrev:
        names = ["rax", "...", "rsp", "rbp", "...", "rip", "rflags"]
    else:
        names = list(_REGS)
    return "{" + ", ".join(n if n == "..." else f"{n}={hexa(r[n])}" for n in names) + "}"


def _segment(b: bytes, off: int) -> str:
    base, limit, sel, typ, present, dpl, db, s, long_, g, avl = _SEGMENT.unpack_from(b, off)[:11]
    return (f"{{base={hexa(base)}, limit={limit}, selector={sel}, type={typ}, present={present}, "
            f"dpl={dpl}, db={db}, s={s}, l={long_}, g={g}, avl={avl}}}")


_SEGS = ("cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt")
_SREGS_SIZE = 312  # struct kvm_sregs (x86): read whole, the request encodes its size


def _sregs(c: C, phase: int) -> str:
    """struct kvm_sregs: cs alone abbreviated, every field under -v."""
    b = _mem(c, phase, _SEGMENT.size if c.abbrev else _SREGS_SIZE)
    if b is None:
        return c.ptr(2)
    if c.abbrev:
        return f"{{cs={_segment(b, 0)}, ...}}"
    p = [f"{n}={_segment(b, 24 * i)}" for i, n in enumerate(_SEGS)]
    for i, n in enumerate(("gdt", "idt")):
        base, limit = struct.unpack_from("<QH", b, 192 + 16 * i)
        p.append(f"{n}={{base={hexa(base)}, limit={limit}}}")
    cr0, cr2, cr3, cr4, cr8, efer, apic = struct.unpack_from("<7Q", b, 224)
    p.append(f"cr0={cr0}, cr2={cr2}, cr3={cr3}, cr4={cr4}, cr8={cr8}, efer={efer}, apic_base={hexa(apic)}")
    p.append("interrupt_bitmap=[" + ", ".join(hexa(x) for x in struct.unpack_from("<4Q", b, 280)) + "]")
    return "{" + ", ".join(p) + "}"


def kvm_arg(c: C, req: int) -> list[str] | None:
    """The third argument of the KVM requests strace decodes ([] when it is
    printed at the exit and this is the entry), or None for the others."""
    if req == KVM_CREATE_VCPU:
        return [str(c.uint(2))]
    if req in (KVM_SET_USER_MEMORY_REGION, KVM_SET_REGS, KVM_SET_SREGS):
        if c.ulong(2) == 0:
            return ["NULL"]
        if req == KVM_SET_SREGS:
            return [_sregs(c, 0)]
        b = _mem(c, 0, 32 if req == KVM_SET_USER_MEMORY_REGION else 144)
        if b is None:
            return [c.ptr(2)]
        return [_memory_region(b) if req == KVM_SET_USER_MEMORY_REGION else _regs(c, b)]
    if req in (KVM_GET_REGS, KVM_GET_SREGS):
        if not c.exiting:
            return []
        if not c.ok:
            return [c.ptr(2)]
        if req == KVM_GET_SREGS:
            return [_sregs(c, 1)]
        b = _mem(c, 1, 144)
        return [c.ptr(2) if b is None else _regs(c, b)]
    return None


_CPUID_FLAGS = FlagSet("kvm_cpuid_flags", [("KVM_CPUID_FLAG_SIGNIFCANT_INDEX", 1), ("KVM_CPUID_FLAG_STATEFUL_FUNC", 2),
                                           ("KVM_CPUID_FLAG_STATE_READ_NEXT", 4)], "KVM_CPUID_FLAG_???",
                       "arch/x86/include/uapi/asm/kvm.h")


def _cpuid2(c: C, phase: int) -> str:
    """struct kvm_cpuid2 {u32 nent; u32 padding; kvm_cpuid_entry2 entries[]}:
    `{nent=56, entries=[...]}` (`[]` for none); under -v each entry of 40
    bytes, when the fetch read them all (the request encodes only the
    8-byte head: a fetch rule reads 100 entries), else their address."""
    b = arg_bytes(c, phase, 8)
    if isinstance(b, str):
        return b
    nent = struct.unpack_from("<I", b)[0]
    if c.abbrev or not nent:
        return f"{{nent={nent}, entries=[{'...' if nent else ''}]}}"
    v = c.m(2, phase)
    if not isinstance(v, (bytes, bytearray)) or len(v) < 8 + 40 * nent:
        return f"{{nent={nent}, entries={hexa(c.ulong(2) + 8)}}}"
    items = []
    for k in range(nent):
        fn, idx, flags, eax, ebx, ecx, edx = struct.unpack_from("<7I", v, 8 + 40 * k)
        items.append(f"{{function={hexa(fn)}, index={hexa(idx)}, flags={_CPUID_FLAGS.flags(flags, c.style)}, eax={hexa(eax)}, "
                     f"ebx={hexa(ebx)}, ecx={hexa(ecx)}, edx={hexa(edx)}}}")
    return f"{{nent={nent}, entries=[{', '.join(items)}]}}"


printer("kvm_cpuid2_set")(lambda c: _cpuid2(c, 0))
printer("kvm_cpuid2_get")(lambda c: _cpuid2(c, 1))

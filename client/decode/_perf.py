"""perf_event_open(2): struct perf_event_attr, as strace 6.1 prints it.

The attr is the table's `struct[perf_event_attr, inout]`, read as far as it
can be at entry (and at exit, where E2BIG writes back the size the kernel
knows: `size=0xa0 => 0x88`). As strace: the size field decides how much is
read (0 means PERF_ATTR_SIZE_VER0, more than the 128 bytes it knows is cut,
less than VER0 prints the address), abbreviated only the 48 bytes before
wakeup_events; memory that ends first prints the address. Fields a later
kernel added print only when the size reaches them; a size beyond what was
read ends the struct with `...`.
"""

from __future__ import annotations

import struct

from ._core import C, syscall
from ._fmt import hexa

KNOWN, VER0, ABBREV_SIZE = 128, 64, 48
TYPE_HARDWARE, TYPE_SOFTWARE, TYPE_TRACEPOINT, TYPE_HW_CACHE, TYPE_BREAKPOINT = 0, 1, 2, 3, 5
SAMPLE_BRANCH_STACK, SAMPLE_STACK_USER = 1 << 11, 1 << 13
E2BIG = 7

# the bit fields at offset 40, in order (precise_ip, two bits, at 15)
_BITS = ("disabled", "inherit", "pinned", "exclusive", "exclude_user", "exclude_kernel", "exclude_hv", "exclude_idle",
         "mmap", "comm", "freq", "inherit_stat", "enable_on_exec", "task", "watermark")
_BITS2 = ("mmap_data", "sample_id_all", "exclude_host", "exclude_guest", "exclude_callchain_kernel",
          "exclude_callchain_user", "mmap2", "comm_exec", "use_clockid", "context_switch", "write_backward",
          "namespaces", "ksymbol", "bpf_event", "aux_output", "cgroup", "text_poke", "build_id", "inherit_thread",
          "remove_on_exec", "sigtrap")
_PRECISE = ("arbitrary skid", "constant skid", "requested to have 0 skid", "must have 0 skid")


def _config(c: C, t: int, cfg: int) -> str:
    x = c.style
    if t == TYPE_HARDWARE:
        hi = f"{cfg >> 32:#x}<<32|" if cfg >> 32 else ""
        return hi + c.fs("perf_hw_ids").xval(cfg & 0xFFFFFFFF, x)
    if t == TYPE_SOFTWARE:
        return c.fs("perf_sw_ids").xval(cfg, x)
    if t == TYPE_TRACEPOINT:
        return str(cfg)
    if t == TYPE_HW_CACHE:
        out = f"{cfg >> 32:#x}<<32|" if cfg >> 32 else ""
        if (cfg & 0xFFFFFFFF) >> 24:
            out += f"{(cfg & 0xFFFFFFFF) >> 24:#x}<<24|"
        return (out + c.fs("perf_hw_cache_results").xval((cfg >> 16) & 0xFF, x) + "<<16|"
                + c.fs("perf_hw_cache_ops").xval((cfg >> 8) & 0xFF, x) + "<<8|"
                + c.fs("perf_hw_cache_ids").xval(cfg & 0xFF, x))
    return hexa(cfg)


def _tail(c: C, b: bytes, size: int, t: int, stype: int, bits: int) -> list:
    """The fields after the bit flags (printed under -v only), each group
    only while the size read reaches its offset."""
    p = []
    wm = bits >> 14 & 1
    p.append(f"{'wakeup_watermark' if wm else 'wakeup_events'}={struct.unpack_from('<I', b, 48)[0]}")
    bp_type, cfg1, cfg2 = struct.unpack_from("<IQQ", b, 52)
    if t == TYPE_BREAKPOINT:
        fs = c.fs("hw_breakpoint_types")
        text = fs.xval(bp_type, c.style)
        if bp_type <= 7 and fs.lookup(bp_type) is None and c.style != "raw":  # any R/W with X
            text = hexa(bp_type) + " /* HW_BREAKPOINT_INVALID */"
        p += [f"bp_type={text}", f"bp_addr={hexa(cfg1)}"]
    else:
        p.append(f"config1={hexa(cfg1)}")
    if size <= 64:
        return p
    p.append(f"bp_len={cfg2}" if t == TYPE_BREAKPOINT else f"config2={hexa(cfg2)}")
    branch, regs_user, stack_user, clockid, regs_intr, aux_wm, max_stack, rsv2, aux_size, rsv3, sig = \
        struct.unpack_from("<QQIIQIHHIIQ", b, 72)
    steps = (
        (72, lambda: [f"branch_sample_type={c.fs('perf_branch_sample_types').flags(branch, c.style)}"]
         if stype & SAMPLE_BRANCH_STACK else []),
        (80, lambda: [f"sample_regs_user={hexa(regs_user)}"]),
        (88, lambda: [f"sample_stack_user={hexa(stack_user)}"] if stype & SAMPLE_STACK_USER else []),
        (92, lambda: [f"clockid={c.fs('clocks').xval(clockid, c.style)}"] if bits >> 25 & 1 else []),
        (96, lambda: [f"sample_regs_intr={hexa(regs_intr)}"]),
        (104, lambda: [f"aux_watermark={aux_wm}"]),
        (108, lambda: [f"sample_max_stack={max_stack}"]),
        (110, lambda: ["\0" + f" /* bytes 110..111: {rsv2:#x} */"] if rsv2 else []),
        (112, lambda: [f"aux_sample_size={aux_size}"]),
        (116, lambda: ["\0" + f" /* bytes 116..119: {rsv3:#x} */"] if rsv3 else []),
        (120, lambda: [f"sig_data={hexa(sig)}"]),
    )
    for off, fields in steps:
        if off == 92 and not bits >> 25 & 1:
            continue  # clockid: checked only when used
        if off >= size:
            break
        p += fields()
    return p


def attr_text(c: C, i: int = 0) -> str:
    """The struct perf_event_attr argument i points to (perf_event_open's,
    PERF_EVENT_IOC_MODIFY_ATTRIBUTES')."""
    v = c.m(i, 0)
    b = bytes(v) if isinstance(v, (bytes, bytearray)) else b""
    if not c.ulong(i) or len(b) < 8:
        return c.ptr(i)
    asize = struct.unpack_from("<I", b, 4)[0]
    size = min(asize, KNOWN) or VER0
    if size < VER0:
        return c.ptr(i)
    if c.abbrev:
        size = ABBREV_SIZE
    if len(b) < size:
        return c.ptr(i)
    b = b[:size].ljust(KNOWN, b"\0")
    t, _, cfg, period, stype, rfmt, bits = struct.unpack_from("<IIQQQQQ", b)
    sz = c.fs("perf_attr_sizes").xval(asize, c.style)
    if c.exiting and c.is_error and c.ret == -E2BIG:
        x = c.m(i, 1)
        new = struct.unpack_from("<I", x, 4)[0] if isinstance(x, (bytes, bytearray)) and len(x) >= 8 else None
        sz += " => " + ("???" if new is None else c.fs("perf_attr_sizes").xval(new, c.style))
    p = [f"type={c.fs('perf_type_ids').xval(t, c.style)}", f"size={sz}", f"config={_config(c, t, cfg)}",
         f"{'sample_freq' if bits >> 10 & 1 else 'sample_period'}={period}",
         f"sample_type={c.fs('perf_sample_formats').flags(stype, c.style)}",
         f"read_format={c.fs('perf_read_formats').flags(rfmt, c.style)}"]
    p += [f"{n}={bits >> i & 1}" for i, n in enumerate(_BITS) if not c.abbrev or bits >> i & 1]
    precise = bits >> 15 & 3
    p.append(f"precise_ip={precise} /* {_PRECISE[precise]} */")
    p += [f"{n}={bits >> (17 + i) & 1}" for i, n in enumerate(_BITS2) if not c.abbrev or bits >> (17 + i) & 1]
    if bits >> 38:
        p.append(f"__reserved_1={bits >> 38:#x} /* Bits 63..38 */")
    if not c.abbrev:
        p += _tail(c, b, size, t, stype, bits)
    if (asize and asize > size) or (not asize and size < VER0):
        p.append("...")
    # a comment field (reserved bytes) follows the previous field without a comma
    return "{" + ", ".join(p).replace(", \0", "") + "}"


@syscall("perf_event_open", ret="fd")
def _perf_event_open(c: C):
    return [attr_text(c), c.d(1), c.d(2), c.fd(3), c.flags(4, "perf_flags", 64)]

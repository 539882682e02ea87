"""prctl: each option says what its other arguments are (a number, a flag
word, a string, or a pointer the call fills) and how the return value reads.

The table's arg2 and arg5 are `polyptr`: the fetch plan reads them as a C
string at entry and as up to 16 bytes at exit, and this decoder picks
by option."""

from __future__ import annotations

import struct

from ._fprog import fprog_text
from ._core import C, sigtext, styled, syscall
from ._fmt import comment, hexa

# option numbers (include/uapi/linux/prctl.h)
PR_SET_PDEATHSIG, PR_GET_PDEATHSIG, PR_GET_DUMPABLE, PR_SET_DUMPABLE = 1, 2, 3, 4
PR_GET_UNALIGN, PR_SET_UNALIGN, PR_GET_KEEPCAPS, PR_SET_KEEPCAPS = 5, 6, 7, 8
PR_GET_FPEMU, PR_SET_FPEMU, PR_GET_FPEXC, PR_SET_FPEXC = 9, 10, 11, 12
PR_GET_TIMING, PR_SET_TIMING, PR_SET_NAME, PR_GET_NAME = 13, 14, 15, 16
PR_GET_ENDIAN, PR_SET_ENDIAN, PR_GET_SECCOMP, PR_SET_SECCOMP = 19, 20, 21, 22
PR_CAPBSET_READ, PR_CAPBSET_DROP, PR_GET_TSC, PR_SET_TSC = 23, 24, 25, 26
PR_GET_SECUREBITS, PR_SET_SECUREBITS, PR_SET_TIMERSLACK, PR_GET_TIMERSLACK = 27, 28, 29, 30
PR_TASK_PERF_EVENTS_DISABLE, PR_TASK_PERF_EVENTS_ENABLE, PR_MCE_KILL, PR_MCE_KILL_GET = 31, 32, 33, 34
PR_SET_MM, PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 35, 36, 37, 38
PR_SET_THP_DISABLE, PR_GET_TID_ADDRESS = 41, 40
PR_SET_FP_MODE, PR_GET_FP_MODE, PR_CAP_AMBIENT, PR_SVE_SET_VL, PR_SVE_GET_VL = 45, 46, 47, 50, 51
PR_GET_SPECULATION_CTRL, PR_SET_SPECULATION_CTRL, PR_PAC_RESET_KEYS = 52, 53, 54
PR_SET_TAGGED_ADDR_CTRL, PR_GET_TAGGED_ADDR_CTRL, PR_SET_IO_FLUSHER = 55, 56, 57
PR_SET_SYSCALL_USER_DISPATCH, PR_PAC_SET_ENABLED_KEYS, PR_PAC_GET_ENABLED_KEYS = 59, 60, 61
PR_SCHED_CORE, PR_SME_SET_VL, PR_SME_GET_VL = 62, 63, 64
PR_SET_VMA, PR_SET_PTRACER = 0x53564D41, 0x59616D61
TASK_COMM_LEN = 16

# options that print no argument at all
_NO_ARGS = frozenset({PR_GET_KEEPCAPS, PR_GET_SECCOMP, PR_GET_TIMERSLACK, PR_GET_TIMING,
                      PR_TASK_PERF_EVENTS_DISABLE, PR_TASK_PERF_EVENTS_ENABLE, PR_GET_DUMPABLE,
                      PR_GET_SECUREBITS, PR_GET_FP_MODE, PR_SVE_GET_VL, PR_SME_GET_VL})
# options whose arg2 is an unsigned number
_U2 = frozenset({PR_SET_CHILD_SUBREAPER, PR_SET_ENDIAN, PR_SET_FPEMU, PR_SET_FPEXC, PR_SET_KEEPCAPS, PR_SET_TIMING})
# ... and the rest of the arguments in hex
_U2_REST = frozenset({PR_SET_NO_NEW_PRIVS, PR_SET_THP_DISABLE, PR_SET_IO_FLUSHER})


def _rest(c: C, first: int) -> list[str]:
    """strace's print_prctl_args: arguments `first`.. (0-based) in hex."""
    return [hexa(c.ulong(k)) for k in range(first, 5)]


def _out(c: C, i: int, size: int) -> bytes | None:
    """What the call wrote at argument i: `size` bytes when it succeeded and they were readable."""
    if not c.ok or not c.ulong(i):
        return None
    v = c.m(i, 1)
    if isinstance(v, (bytes, bytearray)) and len(v) >= size:
        return bytes(v[:size])
    return None


def _num(c: C, i: int, fmt) -> str:
    """A number the call wrote at argument i, `[N]`, else the address (NULL)."""
    v = _out(c, i, 4)
    return f"[{fmt(struct.unpack_from('<I', v)[0])}]" if v is not None else c.ptr(i)


def _xval64(c: C, i: int, setname: str) -> str:
    return c.fs(setname).xval(c.ulong(i), c.style)


def _flags64(c: C, i: int, setname: str) -> str:
    return c.fs(setname).flags(c.ulong(i), c.style)


def _vl(c: C, v: int, aux: bool, setname: str) -> str | None:
    """An SVE/SME vector length word: `PR_SVE_VL_INHERIT|0x1000`."""
    if c.style == "raw":
        return None if aux else hexa(v)
    vl, fl = v & 0xFFFF, v & ~0xFFFF
    if not fl and aux:
        return None
    fs = c.fs(setname)
    names = fs.flags(fl) if fl else None
    text = (names + "|" if names else "") + hexa(vl)
    if not aux and fl and c.style == "verbose":
        return hexa(v) + comment(text)
    return text


def _tagged(c: C, v: int, ret: bool) -> str | None:
    """A tagged address control word (arm64's PR_SET_TAGGED_ADDR_CTRL)."""
    out = "" if ret or c.style == "abbrev" else hexa(v)
    if c.style == "raw":
        return None if ret else out
    body = ("PR_TAGGED_ADDR_ENABLE" if v & 1 else "!PR_TAGGED_ADDR_ENABLE") + "|"
    tcf = v & 6
    body += c.fs("pr_tagged_addr_mte_tcf").lookup(tcf) or hexa(tcf)
    tag = (v >> 3) & 0xFFFF
    if tag:
        body += f"|{tag:#x}<<PR_MTE_TAG_SHIFT"
    rest = v & ~(1 | 6 | (0xFFFF << 3))
    if rest:
        body += f"|{rest:#x}"
    if not ret and c.style == "verbose":
        return out + comment(body)
    return body


def _ret_hexstr(c: C, aux: str | None) -> str:
    return f"{hexa(c.ret)} ({aux})" if aux else hexa(c.ret)


def _prctl_ret(c: C) -> str:
    op = c.uint(0)
    r = c.ret
    style = c.style
    if op == PR_GET_DUMPABLE:
        n = c.fs("pr_dumpable").lookup(r)
        return f"{r} ({n})" if n else str(r)
    if op == PR_MCE_KILL_GET:
        n = c.fs("pr_mce_kill_policy").lookup(r)
        return f"{r} ({n})" if n else str(r)
    if op in (PR_GET_SECUREBITS, PR_GET_FP_MODE, PR_PAC_GET_ENABLED_KEYS):
        if r == 0:
            return "0"
        setname = {PR_GET_SECUREBITS: "secbits", PR_GET_FP_MODE: "pr_fp_mode"}.get(op, "pr_pac_enabled_keys")
        return _ret_hexstr(c, None if style == "raw" else _aux_flags(c, setname, r))
    if op in (PR_SVE_SET_VL, PR_SVE_GET_VL, PR_SME_SET_VL, PR_SME_GET_VL):
        if r == 0:
            return "0"
        setname = "pr_sve_vl_flags" if op in (PR_SVE_SET_VL, PR_SVE_GET_VL) else "pr_sme_vl_flags"
        return _ret_hexstr(c, _vl(c, r, True, setname))
    if op == PR_GET_TAGGED_ADDR_CTRL:
        return _ret_hexstr(c, _tagged(c, r, True))
    if op == PR_GET_SPECULATION_CTRL:
        if c.ulong(1) in (0, 1, 2):
            return _ret_hexstr(c, None if style == "raw" else _aux_flags(c, "pr_spec_get_store_bypass_flags", r))
        return str(r)
    return str(r)


def _aux_flags(c: C, setname: str, v: int) -> str | None:
    """Flags in a return's parenthesis (the value itself is printed in hex before)."""
    text = c.fs(setname).flags(v)
    return None if text.startswith("0x") else text  # no known bit: no parenthesis


@syscall("prctl", ret=_prctl_ret)
def _prctl(c: C):
    op = c.uint(0)
    out = [c.xval(0, "prctl_options")]  # the kernel's int, printed unsigned (0xffffffff /* PR_??? */)
    if op in _NO_ARGS:
        return out
    a2 = c.ulong(1)
    if op in (PR_GET_CHILD_SUBREAPER, PR_GET_ENDIAN, PR_GET_FPEMU, PR_GET_FPEXC):
        return out + [_num(c, 1, str) if c.exiting else c.ptr(1)]
    if op == PR_GET_PDEATHSIG:
        return out + [_num(c, 1, lambda v: sigtext(v, c.style) if v else "0") if c.exiting else c.ptr(1)]
    if op == PR_GET_TSC:
        return out + [_num(c, 1, lambda v: c.fs("pr_tsc").xval(v, c.style)) if c.exiting else c.ptr(1)]
    if op == PR_GET_UNALIGN:
        return out + [_num(c, 1, lambda v: c.fs("pr_unalign_flags").flags(v, c.style)) if c.exiting else c.ptr(1)]
    if op == PR_GET_TID_ADDRESS:
        v = _out(c, 1, 8)
        return out + [f"[{hexa(struct.unpack_from('<Q', v)[0]) if struct.unpack_from('<Q', v)[0] else 'NULL'}]"
                      if v is not None else c.ptr(1)]
    if op == PR_GET_NAME:
        v = c.m(1, 1)
        if c.ok and a2 and isinstance(v, (bytes, bytearray)) and v:
            from ._fmt import quote

            name = bytes(v[:TASK_COMM_LEN]).split(b"\0", 1)[0]
            return out + [quote(name, c.opts.xflag)]
        return out + [c.ptr(1)]
    if op == PR_SET_NAME:
        return out + [c.strn(1, TASK_COMM_LEN - 1)]
    if op in (PR_SVE_SET_VL, PR_SME_SET_VL):
        return out + [_vl(c, a2, False, "pr_sve_vl_flags" if op == PR_SVE_SET_VL else "pr_sme_vl_flags")]
    if op == PR_GET_SPECULATION_CTRL:
        return out + [_xval64(c, 1, "pr_spec_cmds")]
    if op == PR_SET_TAGGED_ADDR_CTRL:
        return out + [_tagged(c, a2, False)] + _rest(c, 2)
    if op in (PR_GET_TAGGED_ADDR_CTRL, PR_MCE_KILL_GET, PR_PAC_GET_ENABLED_KEYS):
        return out + _rest(c, 1)
    if op in _U2:
        return out + [str(a2)]
    if op in _U2_REST:
        return out + [str(a2)] + _rest(c, 2)
    if op == PR_SET_DUMPABLE:
        return out + [_xval64(c, 1, "pr_dumpable")]
    if op in (PR_CAPBSET_DROP, PR_CAPBSET_READ):
        return out + [_xval64(c, 1, "capabilities")]
    if op == PR_CAP_AMBIENT:
        out.append(_xval64(c, 1, "pr_cap_ambient"))
        if a2 in (1, 2, 3):
            return out + [_xval64(c, 2, "capabilities")] + _rest(c, 3)
        return out + _rest(c, 2)
    if op == PR_MCE_KILL:
        out.append(_xval64(c, 1, "pr_mce_kill"))
        out.append(_xval64(c, 2, "pr_mce_kill_policy") if a2 == 1 else hexa(c.ulong(2)))
        return out + _rest(c, 3)
    if op == PR_SET_VMA:
        out.append(_xval64(c, 1, "pr_set_vma"))
        if a2 == 0:
            return out + [c.ptr(2), str(c.ulong(3)), c.cstr(4)]
        return out + _rest(c, 2)
    if op == PR_SET_MM:
        return out + [c.xval(1, "pr_set_mm")] + _rest(c, 2)
    if op == PR_SET_PDEATHSIG:
        return out + [str(a2) if a2 > 128 else (sigtext(a2, c.style) if a2 else "0")]
    if op == PR_SET_PTRACER:
        if c.int(1) == -1:
            return out + [styled("-1", "PR_SET_PTRACER_ANY", c.style)]
        return out + [c.pid(1)]
    if op == PR_SET_SECCOMP:
        out.append(_xval64(c, 1, "seccomp_mode"))
        if a2 == 1:
            return out
        if a2 == 2:  # the program: {len, filter}, its instructions under -v
            v = c.m(2, 0)
            t = fprog_text(c, 2, bytes(v), True) if isinstance(v, (bytes, bytearray)) and c.ulong(2) else None
            return out + [t or c.ptr(2)]
        return out + _rest(c, 2)
    if op == PR_SET_SECUREBITS:
        return out + [_flags64(c, 1, "secbits")]
    if op == PR_SET_TIMERSLACK:
        return out + [c.ld(1)]
    if op == PR_SET_TSC:
        return out + [c.xval(1, "pr_tsc")]
    if op == PR_SET_UNALIGN:
        return out + [c.flags(1, "pr_unalign_flags")]
    if op == PR_SET_FP_MODE:
        return out + [c.flags(1, "pr_fp_mode")]
    if op == PR_SET_SPECULATION_CTRL:
        out.append(_xval64(c, 1, "pr_spec_cmds"))
        return out + [_xval64(c, 2, "pr_spec_set_store_bypass_flags") if a2 in (0, 1, 2) else hexa(c.ulong(2))]
    if op == PR_PAC_RESET_KEYS:
        return out + [_flags64(c, 1, "pr_pac_keys")] + _rest(c, 2)
    if op == PR_PAC_SET_ENABLED_KEYS:
        return out + [_flags64(c, 1, "pr_pac_enabled_keys"), _flags64(c, 2, "pr_pac_enabled_keys")] + _rest(c, 3)
    if op == PR_SET_SYSCALL_USER_DISPATCH:
        return out + [_xval64(c, 1, "pr_sud_cmds"), hexa(c.ulong(2)), hexa(c.ulong(3)), c.ptr(4)]
    if op == PR_SCHED_CORE:
        pt = c.uint(3)
        fs = c.fs("pr_sched_core_pidtypes")
        n = fs.lookup(pt)
        if c.style == "raw":
            ptext = hexa(pt)
        else:  # strace comments the pid type even when abbreviating
            ptext = hexa(pt) + comment(n or "PIDTYPE_???")
        out += [c.xval(1, "pr_sched_core_cmds"), c.pid(2), ptext]
        if c.uint(1) == 0:  # PR_SCHED_CORE_GET: the cookie, at exit
            v = _out(c, 4, 8)
            out.append(f"[{hexa(struct.unpack_from('<Q', v)[0])}]" if v is not None else c.ptr(4))
        else:
            out.append(c.ptr(4))
        return out
    return out + _rest(c, 1)


def _arch_prctl_ret(c: C) -> str:
    op = c.uint(0)
    if op in (0x1023, 0x1025) and c.ret > 0:  # a feature mask, in hex
        aux = _aux_flags(c, "x86_xfeatures", c.ret) if c.style != "raw" else None
        return f"{hexa(c.ret)} ({aux})" if aux else hexa(c.ret)
    return str(c.ret)


@syscall("arch_prctl", ret=_arch_prctl_ret)
def _arch_prctl(c: C):
    """ARCH_GET_FS/GS fill a word (printed at exit); ARCH_GET_CPUID takes none."""
    op = c.uint(0)
    out = [c.xval(0, "arch_prctl_codes")]
    if op in (0x1003, 0x1004):  # ARCH_GET_FS, ARCH_GET_GS
        if not c.exiting:
            return out + [c.ptr(1)]
        v = _out(c, 1, 8)
        w = struct.unpack_from('<Q', v)[0] if v is not None else 0
        return out + [f"[{hexa(w) if w else 'NULL'}]" if v is not None else c.ptr(1)]
    if op == 0x1011:  # ARCH_GET_CPUID
        return out
    if op in (0x1021, 0x1022, 0x1024):  # ARCH_GET_XCOMP_SUPP, _PERM, _GUEST_PERM: a feature mask, at exit
        if not c.exiting:
            return out + [c.ptr(1)]
        v = _out(c, 1, 8)
        if v is None:
            return out + [c.ptr(1)]
        w = struct.unpack_from("<Q", v)[0]
        fs = c.fs("x86_xfeatures")
        # strace comments the names even when abbreviating (the masks are not public)
        return out + [f"[{fs.flags(w, 'raw' if c.style == 'raw' else 'verbose')}]"]
    if op in (0x1023, 0x1025):  # ARCH_REQ_XCOMP_PERM, _GUEST_PERM: a feature number
        return out + [c.fs("x86_xfeature_bits").xval(c.ulong(1), "raw" if c.style == "raw" else "verbose")]
    return out + [hexa(c.ulong(1))]

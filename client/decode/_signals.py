"""siginfo_t (the raw 128 bytes of a SIGNAL record) as strace prints it."""

from __future__ import annotations

import struct

from ._core import sigtext, styled
from ._fmt import errno_name, hexa, ptr

SI_CODES = {0: "SI_USER", 0x80: "SI_KERNEL", -1: "SI_QUEUE", -2: "SI_TIMER", -3: "SI_MESGQ",
            -4: "SI_ASYNCIO", -5: "SI_SIGIO", -6: "SI_TKILL", -7: "SI_DETHREAD", -60: "SI_ASYNCNL"}
# uapi asm-generic/siginfo.h, per signal
SIG_CODES = {
    "SIGCHLD": ["CLD_EXITED", "CLD_KILLED", "CLD_DUMPED", "CLD_TRAPPED", "CLD_STOPPED", "CLD_CONTINUED"],
    "SIGSEGV": ["SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR", "SEGV_ACCADI", "SEGV_ADIDERR",
                "SEGV_ADIPERR", "SEGV_MTEAERR", "SEGV_MTESERR"],  # not SEGV_CPERR (10): strace 6.1 prints 0xa
    "SIGBUS": ["BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR", "BUS_MCEERR_AR", "BUS_MCEERR_AO"],
    "SIGILL": ["ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP", "ILL_PRVOPC", "ILL_PRVREG",
               "ILL_COPROC", "ILL_BADSTK", "ILL_BADIADDR"],
    "SIGFPE": ["FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF", "FPE_FLTUND", "FPE_FLTRES",
               "FPE_FLTINV", "FPE_FLTSUB", "FPE_DECOVF", "FPE_DECDIV", "FPE_DECERR", "FPE_INVASC",
               "FPE_INVDEC", "FPE_FLTUNK", "FPE_CONDTRAP"],
    "SIGTRAP": ["TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH", "TRAP_HWBKPT", "TRAP_UNK", "TRAP_PERF"],
    "SIGIO": ["POLL_IN", "POLL_OUT", "POLL_MSG", "POLL_ERR", "POLL_PRI", "POLL_HUP"],
    "SIGSYS": ["SYS_SECCOMP", "SYS_USER_DISPATCH"],
    "SIGPROF": ["PROF_SIG"],
}
_FAULTS = ("SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGTRAP")
_HDR = struct.Struct("<iii")


def _ticks(v: int) -> str:
    # clock ticks (USER_HZ = 100), with seconds in a comment as strace does
    return f"{v} /* {v // 100}.{v % 100:02d} s */" if v else "0"


def code_name(sig: str, code: int) -> str:
    if code in SI_CODES and (code <= 0 or code == 0x80):
        return SI_CODES[code]
    names = SIG_CODES.get(sig)
    if names and 1 <= code <= len(names):
        return names[code - 1]
    return str(code)


def _syscall_name(nr: int, arch: int, style: str) -> str:
    """si_syscall: `__NR_read` for an architecture we know, else unsigned."""
    from . import _table

    pers = {0xC000003E: 0, 0x40000003: 1}.get(arch)  # AUDIT_ARCH_X86_64, AUDIT_ARCH_I386
    n = nr & 0xFFFFFFFF
    sc = _table.lookup(pers, n) if pers is not None else None
    return styled(str(n), f"__NR_{sc.name}", style) if sc is not None else str(n)


def _fault_fields(sig: str, code: int, info: bytes, style: str) -> list:
    """What the kernel tells of a fault, by signal and code (strace's print_si_info)."""
    addr = struct.unpack_from("<Q", info, 16)[0]
    parts = [f"si_addr={ptr(addr)}"]
    if sig == "SIGBUS" and code in (4, 5):  # BUS_MCEERR_AR, BUS_MCEERR_AO
        lsb = struct.unpack_from("<H", info, 24)[0]
        parts.append(f"si_addr_lsb={hexa(lsb)}")
    elif sig == "SIGSEGV" and code == 3:  # SEGV_BNDERR
        lower, upper = struct.unpack_from("<QQ", info, 32)
        parts += [f"si_lower={ptr(lower)}", f"si_upper={ptr(upper)}"]
    elif sig == "SIGSEGV" and code == 4:  # SEGV_PKUERR
        parts.append(f"si_pkey={struct.unpack_from('<I', info, 32)[0]}")
    return parts


def siginfo_body(signo: int, info: bytes, style: str = "abbrev", fd_text=str) -> str:
    """`{si_signo=SIGCHLD, si_code=CLD_EXITED, ...}` (the braces included);
    `fd_text` prints si_fd (-y: named, as ptrace's SETSIGINFO names it)."""
    if len(info) < 48:
        return "{si_signo=" + sigtext(signo) + "}"
    si_signo, si_errno, code = _HDR.unpack_from(info)
    sig = sigtext(si_signo)
    parts = [f"si_signo={sigtext(si_signo, style)}"]
    cname = code_name(sig, code)
    if cname != str(code):
        parts.append(f"si_code={styled(hexa(code & 0xFFFFFFFF) if code >= 0 or style != 'abbrev' else str(code), cname, style)}")
    else:  # an unknown code: its unsigned value in hex
        parts.append(f"si_code={hexa(code & 0xFFFFFFFF)}")
    if si_errno:  # by name when it is an errno, else unsigned (strace's PRINT_FIELD_ERR_U)
        name = errno_name(si_errno)
        parts.append(f"si_errno={si_errno & 0xFFFFFFFF if name.startswith('errno ') else styled(str(si_errno), name, style)}")
    pid, uid = struct.unpack_from("<iI", info, 16)
    uid = "-1" if uid == 0xFFFFFFFF else uid  # a uid_t: (uid_t)-1 prints -1
    val = struct.unpack_from("<Q", info, 24)[0]
    sigval = [f"si_int={struct.unpack_from('<i', info, 24)[0]}", f"si_ptr={ptr(val)}"]
    if code <= 0:  # sent by a process: SI_USER, SI_TKILL, SI_QUEUE, SI_TIMER, ...
        if code == -5:  # SI_SIGIO
            band, fd = struct.unpack_from("<qi", info, 16)
            parts += [f"si_band={band}", f"si_fd={fd_text(fd)}"]
        elif code == -2:  # SI_TIMER
            tid, overrun = struct.unpack_from("<Ii", info, 16)
            parts += [f"si_timerid={hexa(tid)}", f"si_overrun={overrun}"] + sigval
        else:
            parts += [f"si_pid={pid}", f"si_uid={uid}"]
            if code not in (0, -6) and val:  # the others carry a value, shown when set
                parts += sigval
    elif sig == "SIGCHLD":
        status = struct.unpack_from("<i", info, 24)[0]
        utime, stime = struct.unpack_from("<qq", info, 32)
        st = str(status) if code == 1 else sigtext(status)
        parts += [f"si_pid={pid}", f"si_uid={uid}", f"si_status={st}", f"si_utime={_ticks(utime)}", f"si_stime={_ticks(stime)}"]
    elif sig in _FAULTS:
        parts += _fault_fields(sig, code, info, style)
    elif sig == "SIGIO":
        if 1 <= code <= 6:  # POLL_IN .. POLL_HUP
            band, fd = struct.unpack_from("<qi", info, 16)
            parts += [f"si_band={band}", f"si_fd={fd_text(fd)}"]
    elif sig == "SIGSYS":
        addr, nr, arch = struct.unpack_from("<QiI", info, 16)
        from ._ioctl import _AUDIT_ARCHES

        parts += [f"si_call_addr={ptr(addr)}", f"si_syscall={_syscall_name(nr, arch, style)}",
                  f"si_arch={_AUDIT_ARCHES.xval(arch, style)}"]
    else:
        if pid or uid:
            parts += [f"si_pid={pid}", f"si_uid={uid}"]
        if val:
            parts += sigval
    return "{" + ", ".join(parts) + "}"


def siginfo_text(signo: int, info: bytes, style: str = "abbrev") -> str:
    return f"--- {sigtext(signo)} {siginfo_body(signo, info, style)} ---"


def _siginfo_struct(c, b: bytes, i: int) -> str:
    signo = struct.unpack_from("<i", b)[0]
    if signo == 0:
        return "{}"  # nothing was written (waitid's WNOHANG with no child ready)
    text = siginfo_body(signo, b, c.style)
    t = c.dec.pidns
    if t is not None and len(b) >= 24 and "si_pid=" in text:
        # --pidns-translation: the sender as our namespace numbers it too
        pid = struct.unpack_from("<i", b, 16)[0]
        note = t.comment(c.tid, pid)
        if note:
            text = text.replace(f"si_pid={pid},", f"si_pid={pid}{note},", 1)
    return text


def register() -> None:
    from ._core import STRUCTS

    STRUCTS["siginfo"] = _siginfo_struct


register()

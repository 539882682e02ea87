"""Write the fetch-plan golden vectors: tests/vectors/plan_*.bin and their
expected `parse_plan` output as plan_*.json (the native tests read the same
files). Run after a deliberate change to the plan: python -m tests.bpfgen.make_plan_vectors
"""

from __future__ import annotations

import json
from pathlib import Path

from tracerd._wire import PLAN_HEADER, PLAN_MAGIC, PLAN_VERSION
from tracerd.bpfgen import Qualifiers, build_plan, parse_plan, tamper_map

VECTORS = Path(__file__).resolve().parents[1] / "vectors"

# name -> (-e expressions, build_plan keyword arguments)
GOOD = {
    "plan_file_basic": (["trace=open@64,read@64,close@64,exit_group@64"], {}),
    "plan_all_ops": (["trace=" + ",".join(n + "@64" for n in "openat write read fstat nanosleep execve writev readv poll sendmsg recvmsg sendmmsg rt_sigreturn ioctl".split())], {"strsize": 64}),
    "plan_entry_only": (["trace=execve@64,write@64,exit@64"], {"entry_only": True}),
    "plan_i386_socket_cpu": (["trace=connect@32,open@32"], {"strsize": 128, "cpu_time": True}),
    "plan_empty": (["trace=none"], {}),
    # the tamper section: every action, both phases of pokes, i386
    "plan_tamper": ([
        "trace=close,chdir,read@64,write@64",
        "inject=close:error=EBADF:when=3",
        "inject=chdir@64:retval=7:syscall=getpid:when=2..6+2",
        "inject=chdir@32:signal=USR1:delay_enter=1.5ms:delay_exit=2us",
        "inject=read@64:poke_enter=@arg2=0a0b0c,@arg3=ff:poke_exit=@arg2=0x00",
        "fault=write@64:when=4+",
    ], {}),
    # -P: the paths, and each rule's path and fd arguments
    "plan_tamper_paths": (["trace=openat@64,close@64,read@64", "inject=openat:error=ENOENT:when=2", "fault=close"],
                          {"paths": ["/etc/passwd", "/tmp/x"]}),
    # -yy: FD ops (arguments at entry, the returned fd and a pipe's pair at
    # exit) and the detail flags
    "plan_fds": (["trace=openat@64,read@64,dup2@64,pipe2@64,socketpair@64,close@64,poll@64,pselect6@64"], {"fds": ["path", "socket", "dev", "pidfd"]}),
    # second-level memory (DEREF: clone_args' pointers, pselect6's sigset,
    # the seccomp filter under -v: abbrev none) and conditional fetches
    # (COND: seccomp's operation, prctl's, setsockopt's two, kcmp's type),
    # both personalities
    "plan_deref": (["trace=clone3,pselect6,io_pgetevents,seccomp,prctl,setsockopt@64,kcmp"], {"abbrev": []}),
    # fds inside a struct (FD_AT: io_uring_params' wq_fd, mount_attr's
    # userns_fd, SECCOMP_IOCTL_NOTIF_ADDFD's srcfd behind a COND)
    "plan_fd_at": (["trace=io_uring_setup@64,mount_setattr@64,ioctl@64"], {"fds": ["path"]}),
    # bpf under -y -v: CONDs on the command, the attr by its size argument,
    # DEREFs (strings, arrays, DEREF_STRS: kprobe_multi's syms), FD_ATs
    "plan_bpf": (["trace=bpf@64"], {"abbrev": [], "fds": ["path"]}),
}


def _bad() -> dict[str, tuple[bytes, str]]:
    good = build_plan(_trace(GOOD["plan_file_basic"][0]))
    q = _qualified(GOOD["plan_tamper"][0])
    tamper = build_plan(q.trace, tamper=tamper_map(q.inject, q.trace))
    # a rule for a call the plan does not select (chdir's rules, close's entries)
    q2 = _qualified(["trace=close@64", "inject=chdir@64:error=1"])
    orphan = build_plan(q2.trace, tamper=tamper_map(q2.inject, _trace(["trace=chdir@64"])))
    fds = build_plan(_trace(["trace=read@64"]), fds={"path"})
    # read's entry FD op (its first op) turned to the return value, which
    # there is none of at entry
    assert fds[-16:-14] == bytes([0, 9])
    fd_ret_entry = fds[:-14] + bytes([6]) + fds[-13:]
    # open's path (a CSTR: the third entry's op, after read's and close's
    # entries) given ioctl's length source, which only a BUF may have
    assert good[41] == 1 and good[43] == 0xFF
    cstr_ioc = good[:43] + bytes([8]) + good[44:]
    # clone3's ops: BUF, then DEREFs; a DEREF of argument 6, a COND gating
    # past its entry, a COND gating an op of the other phase, an FD_AT past
    # its offset bound
    deref = build_plan(_trace(["trace=clone3@64"]))
    assert deref[24 + 9] == 10  # the first DEREF: entry 16 + 8, op 1
    deref_arg = deref[:24 + 10] + bytes([deref[24 + 10] | 6]) + deref[24 + 11:]
    kcmp = build_plan(_trace(["trace=kcmp@64"]))
    assert kcmp[24 + 1] == 12 and kcmp[24 + 3] == 1  # COND gating one op
    cond_far = kcmp[:24 + 3] + bytes([2]) + kcmp[24 + 4:]
    cond_phase = kcmp[:32] + bytes([1]) + kcmp[33:]  # the STRUCT at exit, its COND at entry
    fd_at = build_plan(_trace(["trace=io_uring_setup@64"]), fds={"path"})
    assert fd_at[32 + 1] == 11  # FD_AT: the second op
    fd_at_off = fd_at[:32 + 4] + (256).to_bytes(4, "little") + fd_at[32 + 8:]
    return {
        "plan_bad_deref_arg": (deref_arg, "bad deref op"),
        "plan_bad_cond_reach": (cond_far, "bad cond op"),
        "plan_bad_cond_phase": (cond_phase, "bad cond op"),
        "plan_bad_fd_at": (fd_at_off, "bad fd_at op"),
        "plan_bad_fd_op": (fd_ret_entry, "bad fd op"),
        "plan_bad_len_src": (cstr_ioc, "bad length source"),
        "plan_bad_magic": (b"XXXX" + good[4:], "bad fetch plan magic"),
        "plan_bad_version": (PLAN_HEADER.pack(PLAN_MAGIC, PLAN_VERSION + 1, 0, 32, 0), "unsupported fetch plan version"),
        "plan_truncated": (good[:-3], "fetch plan truncated"),
        "plan_trailing": (good + b"\0", "trailing bytes"),
        "plan_tamper_truncated": (tamper[:-5], "truncated"),
        "plan_tamper_orphan": (orphan, "without a plan entry"),
    }


def _trace(exprs):
    return _qualified(exprs).trace


def _qualified(exprs):
    q = Qualifiers()
    for e in exprs:
        q.qualify(e)
    return q


def expected() -> dict[str, tuple[bytes, dict]]:
    out = {}
    for name, (exprs, kw) in GOOD.items():
        q = _qualified(exprs)
        data = build_plan(q.trace, tamper=tamper_map(q.inject, q.trace), **kw)  # kw may hold -P's paths
        doc = {"source": {"qualify": exprs, **kw}, **parse_plan(data)}
        out[name] = (data, doc)
    for name, (data, err) in _bad().items():
        out[name] = (data, {"error": err})
    return out


def main() -> None:
    VECTORS.mkdir(exist_ok=True)
    for name, (data, doc) in expected().items():
        (VECTORS / f"{name}.bin").write_bytes(data)
        (VECTORS / f"{name}.json").write_text(json.dumps(doc, indent=1) + "\n")
        print(name, len(data), "bytes")


if __name__ == "__main__":
    main()

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
    return {
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

"""Golden tests: small C programs make raw syscalls (garbage in the upper
bits of 32-bit arguments) and write the line strace prints for each. The
expectation is checked against strace itself, then against our decoder on a
real trace (embedded worker, real ptrace and seccomp)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracerd.client.decode import DecodeOptions, Decoder

from . import _harness as H

GOLDEN = Path(__file__).parent / "golden"

# program -> the syscalls it makes (the trace set). Decoder modules covered:
# file: _file, _stat; desc: _desc, _ioctl, _poll; memory: _memory;
# process: _process, _resource; signal: _signal, _signals (siginfo);
# network: _network, _sockaddr; msghdr: _msghdr (and iovec data); time: _time; misc: _misc, _ipc;
# i386: names and args of int $0x80 calls; netlink: _netlink (route, generic), _sockaddr's
# lengths, _ioctl's request names and argument kinds; structs: what calls fill or read
# (getcpu, getgroups/setgroups lists, sched_param, timezone, sigsets of 1..8 bytes);
# prctl: _prctl; sets: _poll (select), _process (sched_attr), _desc (flock, mq_attr), _ipc, _misc; ioctl: _ioctl's per-family argument structs; fam: _desc, _process, _network, _misc; args: _core's kinds, _file, _memory, _misc, _process, _time.
CASES = {
    "file": ["getxattr", "fgetxattr", "openat", "newfstatat", "access", "faccessat2", "mkdirat", "unlinkat", "chdir", "getcwd", "close",
             "readlinkat", "renameat2", "fchmodat", "statx"],
    "desc": ["pipe2", "write", "read", "fcntl", "lseek", "dup3", "close", "ioctl", "writev", "readv", "poll",
             "epoll_create1", "epoll_ctl", "dup2"],
    "memory": ["mmap", "mprotect", "madvise", "munmap", "brk"],
    "process": ["getpid", "kill", "prlimit64", "wait4", "waitid"],
    "signal": ["rt_sigaction", "rt_sigprocmask", "kill", "rt_sigtimedwait", "rt_sigreturn"],
    "network": ["socket", "connect", "sendto", "shutdown"],
    "msghdr": ["sendmsg", "recvmsg", "writev", "sendmmsg", "recvmmsg"],
    "time": ["nanosleep", "clock_nanosleep", "clock_getres", "clock_gettime", "timer_settime", "timer_gettime",
             "setitimer", "getrlimit"],
    "misc": ["uname", "getrusage", "sysinfo", "getrandom", "shmget", "shmat", "shmdt", "shmctl"],
    "i386": ["getpid", "open", "write", "close", "mmap"],
    "structs": ["getcpu", "getgroups", "setgroups", "sched_getparam", "gettimeofday", "rt_sigpending"],
    "netlink": ["socket", "sendto", "sendmsg", "getsockname", "getpeername", "ioctl"],
    # prctl/arch_prctl by option (_prctl); args: the table-wide classes of
    # issue 13 (widths and signedness, flag sets, octal and annotated
    # returns, NULL, unreadable memory as an address, PATH_MAX paths)
    "prctl": ["prctl", "arch_prctl"],
    # ioctl: _ioctl's argument structs by request family
    "ioctl": ["ioctl"],
    # ioctl_dev: the device families decoded by request type (_ioctl_evdev,
    # _ioctl_ptp, _ioctl_gpio, _ioctl_loop) and strace's parametrised names
    "ioctl_dev": ["ioctl"],
    # ioctl_kd: the console's requests (_ioctl_kd, _ioctl_kdfont; the font and
    # unicode map behind a struct's pointer read by DEREF)
    "ioctl_kd": ["ioctl"],
    # ioctl_fd: fds ioctl takes, named at the stop (-y)
    "ioctl_fd": ["ioctl"],
    # v4l2: video4linux requests (_ioctl_v4l2, _ioctl_v4l2_req)
    "v4l2": ["ioctl"],
    # netlink_diag: sock_diag requests by family, bridge mdb entries (_netlink_msgs)
    "netlink_diag": ["sendto"],
    "args": ["chown", "umask", "openat", "fanotify_mark", "memfd_secret", "unshare", "mknodat", "mknod", "futex",
             "mmap", "sched_getscheduler", "time", "wait4", "readv", "add_key", "faccessat", "setxattr", "chdir"],
    # sets: select's fd sets, sched_attr, flock, mq_attr, sembuf and futex_waitv arrays
    "sets": ["select", "sched_getattr", "sched_setattr", "fcntl", "mq_open", "mq_getsetattr", "mq_unlink", "semop",
             "futex_waitv"],
    # fam: words through pointers as [N], clone3, socket options by level and option, getpriority
    "fam": ["copy_file_range", "splice", "sendfile", "get_robust_list", "clone3", "getsockopt", "setsockopt",
            "getpriority", "quotactl", "writev", "rt_sigprocmask", "remap_file_pages", "msgget", "msgsnd", "msgrcv",
            "msgctl", "sethostname", "execve", "move_pages", "preadv", "process_vm_writev"],
    # fam2: bpf's attr by command (_bpf), timex (_time), io_uring_setup (_desc), siginfo (_signals), ptrace (_ptrace),
    # control messages (_msghdr), ip_mreq (_network)
    # deref: second-level memory and fds inside structs (the plan's DEREF,
    # FD_AT and COND ops), under -y -v
    "deref": ["clone3", "pselect6", "io_pgetevents", "seccomp", "setsockopt", "kcmp", "ioctl", "io_uring_setup",
              "mount_setattr", "kexec_load", "connect", "sendmsg"],
    "fam2": ["bpf", "adjtimex", "clock_adjtime", "io_uring_setup", "pidfd_send_signal", "ptrace", "sendmsg",
             "setsockopt"],
    # fam3: setsockopt's group_req, packet_mreq, tpacket_req (_sockopt); socket addresses of the rarer
    # families (_sockaddr_fam, _sockaddr_more); quotactl's XFS structs (_quota_xfs);
    # perf_event_open's attr (_perf); fsconfig by command (_fsconfig); mincore (_memory); modify_ldt, set/get_thread_area (_ldt); poll/ppoll (_poll); siginfo's fault fields (_signals); kcmp (_misc); pidfd_getfd (_process); a failed recvmsg (_msghdr); capset (_caps)
    "fam3": ["setsockopt", "connect", "quotactl", "perf_event_open", "fsconfig", "mincore", "modify_ldt", "poll", "ppoll",
             "rt_sigqueueinfo", "set_thread_area", "get_thread_area", "kcmp", "pidfd_getfd", "recvmsg", "capset"],
    # bpf: the attr by command from bpf.toml (_bpf), its fds and returned fd named at the stop (-y), the
    # instructions (-v)
    "bpf": ["bpf"],
    # tailopt: modify_ldt's user_desc and its 32-bit error return (_ldt)
    "tailopt": ["modify_ldt"],
    # tail: poll/ppoll as arrays (_poll), -s + 1 bytes of a buffer (_core), mincore (_memory), capset/capget and
    # user_desc (_ldt, _caps)
    "tail": ["poll", "ppoll", "write", "add_key", "mincore", "capset", "capget", "set_thread_area", "get_thread_area"],
    # keyctl: _keyctl by command (the table's per-command fetch rules, the keyctl_kdf_params layout)
    "keyctl": ["keyctl"],
}
# per-program gcc options
CFLAGS = {"i386": ["-no-pie"]}
# per-program strace/tracectl options (-y: fds named at the stops; -v:
# nothing abbreviated)
OPTS = {"deref": ["-y", "-v"], "ioctl_fd": ["-y"], "bpf": ["-y", "-v"]}


def _decode_options(prog: str) -> DecodeOptions:
    o = OPTS.get(prog, [])
    return DecodeOptions(yflag=int("-y" in o), decode_fds=frozenset({"path"} if "-y" in o else ()),
                         abbrev=frozenset() if "-v" in o else None)
# personalities traced per program (the names resolve in each)
PERS = {"i386": (H.Pers.X86_64, H.Pers.I386)}

pytestmark = pytest.mark.skipif(H.skip_reason() is not None, reason=H.skip_reason() or "")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("golden")
    return {name: H.compile_c(GOLDEN / f"{name}.c", d, ["-I", str(GOLDEN), *CFLAGS.get(name, [])]) for name in CASES}


def _expected(path: Path) -> list[str]:
    return [l for l in path.read_text().splitlines() if l]


@pytest.mark.parametrize("prog", sorted(CASES))
def test_golden(prog, built, tmp_path):
    names = CASES[prog]
    exe = built[prog]
    # 1. the expectation is what strace prints
    ref_out = tmp_path / "ref.txt"
    ref = H.strace_lines([str(exe), str(ref_out)], names, OPTS.get(prog, ()))
    expected = _expected(ref_out)
    assert expected, "the program wrote no expectation"
    missing_ref = [e for e in expected if e not in ref]
    assert not missing_ref, f"expectation differs from strace: {missing_ref}\nstrace: {ref}"
    # 2. our tracer + decoder print the same lines
    our_out = tmp_path / "ours.txt"
    o = OPTS.get(prog, [])
    recs, status = H.records([str(exe), str(our_out)], names, pers=PERS.get(prog, (H.Pers.X86_64,)),
                             fds={"path"} if "-y" in o else (), abbrev=frozenset() if "-v" in o else None)
    assert status == 0
    ours = H.lines(Decoder(_decode_options(prog)), recs)
    expected = _expected(our_out)
    missing = [e for e in expected if e not in ours]
    assert not missing, f"not reproduced: {missing}\nours: {ours}"


@pytest.mark.parametrize("prog", sorted(CASES))
def test_golden_tracectl(prog, built, tmp_path):
    """The same through the command line: `tracectl run -e trace=... -o FILE`."""
    import subprocess
    import sys

    exe = built[prog]
    log = tmp_path / "log.txt"
    out = tmp_path / "exp.txt"
    tracectl = Path(sys.executable).with_name("tracectl")
    names = ",".join(CASES[prog]) if prog != "i386" else ",".join(CASES[prog]) + "," + ",".join(n + "@32" for n in CASES[prog])
    res = subprocess.run([str(tracectl), "--embedded", "run", "-qq", *OPTS.get(prog, []), "-e", "trace=" + names,
                          "-o", str(log), str(exe), str(out)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    ours = [H.unalign(l) for l in H.merge_unfinished(log.read_text().splitlines())]
    missing = [e for e in _expected(out) if e not in ours]
    assert not missing, f"not reproduced: {missing}\nours: {ours}"

"""Decoder unit tests: records built with tracerd._wire.record() and real
bytes (os.stat of a real file packed as the kernel lays out struct stat,
real sockaddrs, real fds of this process for -y/-yy)."""

from __future__ import annotations

import os
import socket
import struct

from hypothesis import given
from hypothesis import strategies as st

from tracerd._wire import Pers, Rec, record
from tracerd.client.decode import DecodeOptions, Decoder

NR = {"read": 0, "write": 1, "close": 3, "mmap": 9, "rt_sigaction": 13, "rt_sigprocmask": 14, "connect": 42,
      "execve": 59, "wait4": 61, "kill": 62, "newfstatat": 262, "openat": 257, "clone": 56, "fcntl": 72,
      "nanosleep": 35, "futex": 202, "exit_group": 231, "getpid": 39}
AT_FDCWD = 0xFFFFFF9C
PID = os.getpid()


def sysrec(name, args, ret, mem=(), err=False, pers=Pers.X86_64, nr=None, tid=PID):
    args = list(args) + [0] * (6 - len(args))
    return record(Rec.SYSCALL, 1, 0, tid, tid, int(pers), NR[name] if nr is None else nr, args, ret, err, 100,
                  [list(m) for m in mem], None, 0)


def kstat(path: str) -> bytes:
    """struct stat as the x86_64 kernel writes it, from a real file."""
    s = os.stat(path)
    return struct.pack("<QQQIII4xQqqqqqqqqq3q", s.st_dev, s.st_ino, s.st_nlink, s.st_mode, s.st_uid, s.st_gid,
                       s.st_rdev, s.st_size, s.st_blksize, s.st_blocks, int(s.st_atime), s.st_atime_ns % 10**9,
                       int(s.st_mtime), s.st_mtime_ns % 10**9, int(s.st_ctime), s.st_ctime_ns % 10**9, 0, 0, 0)


D = Decoder(DecodeOptions())


def test_openat_and_errors():
    m = [(0, 1, b"/etc/hostname\0")]
    assert D.call(sysrec("openat", [AT_FDCWD, 0x1000, 0o2000000], 3, m)) == 'openat(AT_FDCWD, "/etc/hostname", O_RDONLY|O_CLOEXEC) = 3'
    assert D.call(sysrec("openat", [AT_FDCWD, 0x1000, 0o101 | 0o1000, 0o644], -2, m, True)) == \
        'openat(AT_FDCWD, "/etc/hostname", O_WRONLY|O_CREAT|O_TRUNC, 0644) = -1 ENOENT (No such file or directory)'
    # a path that could not be read (-EFAULT) prints as its address
    assert D.call(sysrec("openat", [AT_FDCWD, 0x1000, 0], -14, [(0, 1, -14)], True)) == \
        "openat(AT_FDCWD, 0x1000, O_RDONLY) = -1 EFAULT (Bad address)"
    # no exit stop: `= ?`
    assert D.call(sysrec("exit_group", [0xDEAD00000003], None)) == "exit_group(3) = ?"


def test_stat_from_a_real_file():
    b = kstat("/etc/hostname")
    s = os.stat("/etc/hostname")
    r = sysrec("newfstatat", [3, 0x10, 0x20, 0x1000], 0, [(0, 1, b"\0"), (1, 2, b)])
    assert D.call(r) == f'newfstatat(3, "", {{st_mode=S_IFREG|0{s.st_mode & 0o777:o}, st_size={s.st_size}, ...}}, AT_EMPTY_PATH) = 0'
    v = Decoder(DecodeOptions(verbose=frozenset({(Pers.X86_64, NR["newfstatat"])})))
    text = v.call(r)
    assert f"st_ino={s.st_ino}" in text and f"st_nlink={s.st_nlink}" in text and "..." not in text
    # a failed call does not show the (unwritten) buffer
    assert D.call(sysrec("newfstatat", [3, 0x10, 0x20, 0], -9, [(0, 1, b"\0")], True)).startswith('newfstatat(3, "", 0x20, 0)')


def test_read_write_buffers_and_strsize():
    data = b"x" * 40
    assert D.call(sysrec("write", [1, 0x10, 40], 40, [(0, 1, data)])) == f'write(1, "{"x" * 32}"..., 40) = 40'
    d8 = Decoder(DecodeOptions(strsize=8))
    assert d8.call(sysrec("write", [1, 0x10, 40], 40, [(0, 1, data[:9])])) == 'write(1, "xxxxxxxx"..., 40) = 40'
    # strace reads -s bytes and one more: memory that ends before it, the address
    assert d8.call(sysrec("write", [1, 0x10, 40], 40, [(0, 1, data[:8])])) == 'write(1, 0x10, 40) = 40'
    assert D.call(sysrec("read", [0, 0x10, 4096], 3, [(1, 1, b"ab\n")])) == 'read(0, "ab\\n", 4096) = 3'
    assert D.call(sysrec("read", [0, 0x10, 4096], -11, [], True)) == "read(0, 0x10, 4096) = -1 EAGAIN (Resource temporarily unavailable)"
    x = Decoder(DecodeOptions(xflag=2))
    assert x.call(sysrec("read", [0, 0x10, 4096], 2, [(1, 1, b"ab")])) == 'read(0, "\\x61\\x62", 4096) = 2'


def test_entry_and_resumed_make_the_whole_call():
    args = [0, 0x10, 4096, 0, 0, 0]
    e = record(Rec.SYSCALL_ENTRY, 1, 0, 9, 9, 0, NR["read"], args, [], 0)
    x = record(Rec.SYSCALL_EXIT, 2, 0, 9, 9, 0, NR["read"], 3, False, 10, [[1, 1, b"abc"]], None, 0)
    assert D.entry(e) == "read(0, "
    assert D.resumed(x, e) == '"abc", 4096) = 3'
    assert D.entry(e) + D.resumed(x, e) == D.call(sysrec("read", args, 3, [(1, 1, b"abc")]))
    # a call whose arguments are all inputs prints them all at entry
    f = record(Rec.SYSCALL_ENTRY, 1, 0, 9, 9, 0, NR["futex"], [0x1000, 0x80, 2, 0, 0, 0], [], 0)
    fx = record(Rec.SYSCALL_EXIT, 2, 0, 9, 9, 0, NR["futex"], 0, False, 10, [], None, 0)
    assert D.entry(f) == "futex(0x1000, FUTEX_WAIT_PRIVATE, 2, NULL"
    assert D.resumed(fx, f) == ") = 0"
    # the exit alone (entry lost) still gives the return value
    assert D.resumed(x, None) == ") = 3"
    # an ioctl argument the call fills prints nothing at entry: the `, `
    # before it comes with the exit (KDGETLED's)
    i = record(Rec.SYSCALL_ENTRY, 1, 0, 9, 9, 0, 16, [3, 0x4B31, 0x10, 0, 0, 0], [], 0)
    ix = record(Rec.SYSCALL_EXIT, 2, 0, 9, 9, 0, 16, 0, False, 10, [[1, 2, b"\x01"]], None, 0)
    whole = D.call(sysrec("ioctl", [3, 0x4B31, 0x10], 0, [(1, 2, b"\x01")], nr=16, tid=9))
    assert whole.startswith("ioctl(3, KDGETLED, [LED_SCR]) = ")
    assert D.entry(i) + D.resumed(ix, i) == whole
    assert D.entry(i) == "ioctl(3, KDGETLED" and D.resumed(ix, i).startswith(", [LED_SCR])")


@given(st.binary(max_size=100), st.integers(0, 200))
def test_entry_resumed_equals_call_property(data, n):
    args = [5, 0x10, n, 0, 0, 0]
    mem = [[1, 1, data]]
    e = record(Rec.SYSCALL_ENTRY, 1, 0, 9, 9, 0, NR["read"], args, [], 0)
    x = record(Rec.SYSCALL_EXIT, 2, 0, 9, 9, 0, NR["read"], len(data), False, 10, mem, None, 0)
    assert D.entry(e) + D.resumed(x, e) == D.call(sysrec("read", args, len(data), [tuple(mem[0])], tid=9))


def test_execve_argv_and_env_count():
    m = [(0, 0, b"/bin/ls\0"), (0, 1, [2, b"ls\0", b"-la\0"]), (0, 2, [35, b"A=1\0"])]
    r = sysrec("execve", [0x10, 0x20, 0x7FFD0000], 0, m)
    assert D.call(r) == 'execve("/bin/ls", ["ls", "-la"], 0x7ffd0000 /* 35 vars */) = 0'
    v = Decoder(DecodeOptions(verbose=frozenset({(Pers.X86_64, NR["execve"])})))
    assert v.call(r) == 'execve("/bin/ls", ["ls", "-la"], ["A=1", ...]) = 0'


def test_mmap_clone_wait4_kill():
    assert D.call(sysrec("mmap", [0, 8192, 3, 0x22, 0xFFFFFFFF, 0], 0x7F0000001000)) == \
        "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000001000"
    assert D.call(sysrec("mmap", [0, 4096, 1, 0x80000002, 3, 0x1000], 0x1000)) == \
        "mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|32<<MAP_HUGE_SHIFT, 3, 0x1000) = 0x1000"  # strace 6.1: the huge page size bits
    assert D.call(sysrec("clone", [0x1200011, 0, 0, 0x7F00, 0], 1234)) == \
        "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f00) = 1234"
    st9 = struct.pack("<i", 9)  # killed by SIGKILL
    assert D.call(sysrec("wait4", [0xFFFFFFFF, 0x10, 0, 0], 77, [(1, 1, st9)])) == \
        "wait4(-1, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], 0, NULL) = 77"
    assert D.call(sysrec("kill", [0xBAD00000000 | 12, 15], 0)) == "kill(12, SIGTERM) = 0"


def test_signal_masks_and_sigaction():
    mask = struct.pack("<Q", (1 << 16) | (1 << 14))  # CHLD, TERM
    assert D.call(sysrec("rt_sigprocmask", [0, 0x10, 0x20, 8], 0, [(0, 1, mask), (1, 2, struct.pack("<Q", 0))])) == \
        "rt_sigprocmask(SIG_BLOCK, [TERM CHLD], [], 8) = 0"
    full = struct.pack("<Q", (1 << 64) - 1 - (1 << 31) - (1 << 32))
    assert D.call(sysrec("rt_sigprocmask", [2, 0x10, 0, 8], 0, [(0, 1, full)])) == \
        "rt_sigprocmask(SIG_SETMASK, ~[RTMIN RT_1], NULL, 8) = 0"
    act = struct.pack("<QQQQ", 0x5000, 0x04000000 | 0x10000000, 0x7000, 0)
    assert D.call(sysrec("rt_sigaction", [2, 0x10, 0, 8], 0, [(0, 1, act)])) == \
        "rt_sigaction(SIGINT, {sa_handler=0x5000, sa_mask=[], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7000}, NULL, 8) = 0"


def _siginfo(signo, code, *rest):
    b = struct.pack("<iii4x", signo, 0, code) + b"".join(rest)
    return b.ljust(128, b"\0")


def test_siginfo():
    chld = _siginfo(17, 2, struct.pack("<iIi4xqq", 42, 0, 9, 0, 150))
    r = record(Rec.SIGNAL, 1, 0, 9, 9, 17, chld)
    assert D.signal(r) == ("--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=42, si_uid=0, "
                           "si_status=SIGKILL, si_utime=0, si_stime=150 /* 1.50 s */} ---")
    segv = _siginfo(11, 1, struct.pack("<Q", 0))
    assert D.signal(record(Rec.SIGNAL, 1, 0, 9, 9, 11, segv)) == "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL} ---"
    user = _siginfo(10, 0, struct.pack("<iI", 7, 1000))
    assert D.signal(record(Rec.SIGNAL, 1, 0, 9, 9, 10, user)) == "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=7, si_uid=1000} ---"
    tkill = _siginfo(15, -6, struct.pack("<iI", 7, 0))
    assert D.signal(record(Rec.SIGNAL, 1, 0, 9, 9, 15, tkill)) == "--- SIGTERM {si_signo=SIGTERM, si_code=SI_TKILL, si_pid=7, si_uid=0} ---"


def test_sockaddrs():
    sin = struct.pack("<H", socket.AF_INET) + struct.pack(">H", 80) + socket.inet_aton("10.1.2.3") + bytes(8)
    assert D.call(sysrec("connect", [3, 0x10, 16], 0, [(0, 1, sin)])) == \
        'connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("10.1.2.3")}, 16) = 0'
    sun = struct.pack("<H", socket.AF_UNIX) + b"\0abstract"
    assert D.call(sysrec("connect", [3, 0x10, len(sun)], 0, [(0, 1, sun)])) == \
        'connect(3, {sa_family=AF_UNIX, sun_path=@"abstract"}, 11) = 0'


def test_ret_kinds_and_fcntl():
    assert D.call(sysrec("fcntl", [3, 3], 0o2000000 | 2)) == "fcntl(3, F_GETFL) = 0x80002 (flags O_RDWR|O_CLOEXEC)"
    assert D.call(sysrec("fcntl", [3, 1030, 10], 11)) == "fcntl(3, F_DUPFD_CLOEXEC, 10) = 11"
    assert D.call(sysrec("getpid", [], 99)) == "getpid() = 99"
    assert D.call(sysrec("nanosleep", [0x10, 0x20], -516, [(0, 0, struct.pack("<qq", 1, 0)), (1, 1, struct.pack("<qq", 0, 5))], True)) == \
        "nanosleep({tv_sec=1, tv_nsec=0}, {tv_sec=0, tv_nsec=5}) = ? ERESTART_RESTARTBLOCK (Interrupted by signal)"


def test_names_unknown_and_i386():
    assert D.name(Pers.X86_64, 0x3E7) == "syscall_0x3e7"
    assert D.name(Pers.I386, 5) == "open"
    assert D.name(Pers.X86_64, 257) == "openat"
    r = sysrec("openat", [0x1000, 0, 0], -2, [(0, 0, b"/x\0")], True, pers=Pers.I386, nr=5)
    assert D.call(r) == 'open("/x", O_RDONLY) = -1 ENOENT (No such file or directory)'
    # i386 struct layouts are not decoded: the address
    r = sysrec("read", [3, 0x10], 0, [(1, 1, bytes(64))], pers=Pers.I386, nr=108)  # fstat
    assert D.call(r) == "fstat(3, 0x10) = 0"


def test_xstyle_and_raw():
    m = [(0, 1, b"/etc/hostname\0")]
    r = sysrec("openat", [AT_FDCWD, 0x1000, 0o2000000], 3, m)
    assert Decoder(DecodeOptions(xstyle="raw")).call(r) == 'openat(-100, "/etc/hostname", 0x80000) = 3'
    assert Decoder(DecodeOptions(xstyle="verbose")).call(r) == \
        'openat(-100 /* AT_FDCWD */, "/etc/hostname", 0x80000 /* O_RDONLY|O_CLOEXEC */) = 3'
    raw = Decoder(DecodeOptions(raw=frozenset({(Pers.X86_64, NR["close"])})))
    assert raw.call(sysrec("close", [3], 0)) == "close(0x3) = 0"
    assert raw.call(sysrec("close", [3], 5)) == "close(0x3) = 0x5"  # checked with strace -e raw=


def test_decode_fds_with_real_fds(tmp_path):
    p = tmp_path / "file.txt"
    p.write_text("hi")
    fd = os.open(p, os.O_RDONLY)
    try:
        y = Decoder(DecodeOptions(yflag=1))
        assert y.call(sysrec("read", [fd, 0x10, 10], 2, [(1, 1, b"hi")])) == f'read({fd}<{p}>, "hi", 10) = 2'
        assert y.paths_of(sysrec("read", [fd, 0x10, 10], 2)) == [str(p)]
    finally:
        os.close(fd)
    # the path an open named is what -y shows for its fd, even once the fd is reused
    y = Decoder(DecodeOptions(yflag=1))
    r = sysrec("openat", [AT_FDCWD, 0x10, 0], 1000, [(0, 1, b"/etc/hostname\0")])
    assert y.call(r) == f'openat(AT_FDCWD<{os.getcwd()}>, "/etc/hostname", O_RDONLY) = 1000</etc/hostname>'
    assert y.call(sysrec("close", [1000], 0)) == "close(1000</etc/hostname>) = 0"
    assert y.call(sysrec("close", [1000], -9, err=True)) == "close(1000) = -1 EBADF (Bad file descriptor)"


def test_decode_sockets_yy():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    cli = socket.create_connection(srv.getsockname())
    try:
        yy = Decoder(DecodeOptions(yflag=2))
        lport = cli.getsockname()[1]
        sport = srv.getsockname()[1]
        text = yy.call(sysrec("close", [cli.fileno()], 0))
        assert text == f"close({cli.fileno()}<TCP:[127.0.0.1:{lport}->127.0.0.1:{sport}]>) = 0"
        un = socket.socket(socket.AF_UNIX)
        ino = os.fstat(un.fileno()).st_ino
        assert yy.call(sysrec("close", [un.fileno()], 0)) == f"close({un.fileno()}<UNIX-STREAM:[{ino}]>) = 0"
        un.close()
    finally:
        cli.close()
        srv.close()


def test_paths_of_open():
    assert D.paths_of(sysrec("openat", [AT_FDCWD, 0x10, 0], 3, [(0, 1, b"/etc/x\0")])) == ["/etc/x"]


def test_a_decoder_bug_prints_raw_args():
    # a struct too short for its layout falls back to the address; nothing raises
    r = sysrec("newfstatat", [3, 0x10, 0x20, 0], 0, [(0, 1, b"\0"), (1, 2, b"short")])
    assert D.call(r) == 'newfstatat(3, "", 0x20, 0) = 0'


def test_paths_of_follows_fds_without_y():
    # -P: a read on fd 1000 matches the file an earlier openat gave fd 1000,
    # however /proc looks by the time the records are decoded
    d = Decoder(DecodeOptions())
    op = sysrec("openat", [AT_FDCWD, 0x10, 0], 1000, [(0, 1, b"/etc/hostname\0")])
    assert d.paths_of(op) == ["/etc/hostname"]
    assert d.call(op) == 'openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 1000'
    assert d.paths_of(sysrec("read", [1000, 0x10, 4], 0, [(1, 1, b"")])) == ["/etc/hostname"]
    cl = sysrec("close", [1000], 0)
    assert d.paths_of(cl) == ["/etc/hostname"]
    d.call(cl)
    assert d.paths_of(sysrec("read", [1000, 0x10, 4], -9, [], True)) == []


def test_select_result_sets():
    NRS = 23  # select
    fdset = lambda *fds: sum(1 << f for f in fds).to_bytes(128, "little")  # noqa: E731
    tv = struct.pack("<qq", 4, 999000)
    r = sysrec("read", [5, 0x10, 0x20, 0, 0x30], 2, [(0, 1, fdset(3)), (0, 2, fdset(4)), (1, 1, fdset(3)), (1, 2, fdset(4)),
                                                   (0, 4, struct.pack("<qq", 5, 0)), (1, 4, tv)], nr=NRS)
    assert D.call(r) == "select(5, [3], [4], NULL, {tv_sec=5, tv_usec=0}) = 2 (in [3], out [4], left {tv_sec=4, tv_usec=999000})"
    r = sysrec("read", [0, 0, 0, 0, 0x30], 0, [(0, 4, struct.pack("<qq", 0, 0))], nr=NRS)
    assert D.call(r) == "select(0, NULL, NULL, NULL, {tv_sec=0, tv_usec=0}) = 0 (Timeout)"


def test_dup2_shows_the_old_file_then_the_new(tmp_path):
    y = Decoder(DecodeOptions(yflag=1))
    a, b = tmp_path / "a", tmp_path / "b"
    for p in (a, b):
        p.write_text("")
    y.call(sysrec("openat", [AT_FDCWD, 0x10, 0], 1001, [(0, 1, str(a).encode() + b"\0")]))
    y.call(sysrec("openat", [AT_FDCWD, 0x10, 0], 1002, [(0, 1, str(b).encode() + b"\0")]))
    assert y.call(sysrec("read", [1001, 1002], 1002, nr=33)) == f"dup2(1001<{a}>, 1002<{b}>) = 1002<{a}>"
    # a call failing with EBADF shows the fd bare, and it is forgotten
    assert y.call(sysrec("close", [1001], -9, err=True)) == "close(1001) = -1 EBADF (Bad file descriptor)"


def test_futex_ops():
    r = sysrec("futex", [0x1000, 9 | 128 | 256, 0, 0, 0, 0xFFFFFFFF], 0)
    assert D.call(r) == "futex(0x1000, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, NULL, FUTEX_BITSET_MATCH_ANY) = 0"
    assert D.call(sysrec("futex", [0x1000, 1 | 128, 2147483647], 1)) == "futex(0x1000, FUTEX_WAKE_PRIVATE, 2147483647) = 1"


def test_restart_syscall_names_the_interrupted_call():
    d = Decoder()
    RS = 219
    assert d.call(sysrec("read", [], 0, nr=RS, tid=77)) == "restart_syscall(<... resuming interrupted call ...>) = 0"
    ts = struct.pack("<qq", 2, 0)
    d.call(sysrec("nanosleep", [0x10, 0x20], -516, [(0, 0, ts)], True, tid=77))
    assert d.call(sysrec("read", [], 0, nr=RS, tid=77)) == "restart_syscall(<... resuming interrupted nanosleep ...>) = 0"


def test_pidfd_with_yy():
    fd = os.pidfd_open(os.getpid())
    try:
        yy = Decoder(DecodeOptions(yflag=2))
        assert yy.call(sysrec("close", [fd], 0)) == f"close({fd}<pid:{os.getpid()}>) = 0"
        y = Decoder(DecodeOptions(yflag=1))
        assert y.call(sysrec("close", [fd], 0)) == f"close({fd}<anon_inode:[pidfd]>) = 0"
    finally:
        os.close(fd)


def test_timer_create_and_ficlone():
    # what strace printed for `timeout 1 true` (needs the table to describe timer_*)
    sev = struct.pack("<Qiii", 0, 14, 0, 0).ljust(64, b"\0")
    r = sysrec("read", [0, 0x10, 0x20], 0, [(0, 1, sev), (1, 2, struct.pack("<i", 0))], nr=222)
    assert D.call(r) == "timer_create(CLOCK_REALTIME, {sigev_signo=SIGALRM, sigev_notify=SIGEV_SIGNAL}, [0]) = 0"
    its = struct.pack("<qqqq", 0, 0, 1, 0)
    r = sysrec("read", [0, 0, 0x10, 0], 0, [(0, 2, its)], nr=223)
    assert D.call(r) == "timer_settime(0, 0, {it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=1, tv_nsec=0}}, NULL) = 0"
    r = sysrec("read", [4, 0x40049409, 3], -95, err=True, nr=16)
    assert D.call(r) == "ioctl(4, BTRFS_IOC_CLONE or FICLONE, 3) = -1 EOPNOTSUPP (Operation not supported)"


def test_fd_table_forgotten_at_exit_group():
    y = Decoder(DecodeOptions(yflag=1))
    y.call(sysrec("openat", [AT_FDCWD, 0x10, 0], 1003, [(0, 1, b"/etc/hostname\0")], tid=999999))
    assert any(k[0] == 999999 for k in y._fdcache)
    y.call(sysrec("exit_group", [0], None, tid=999999))
    assert not any(k[0] == 999999 for k in y._fdcache)


def test_without_close_in_the_trace_proc_wins(tmp_path):
    # -e trace=read -y: closes and reopens are not seen, so an fd number
    # reused for another file must not keep the first file's name
    y = Decoder(DecodeOptions(yflag=1))
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("x")
    b.write_text("x")
    fd = os.open(a, os.O_RDONLY)
    try:
        assert y.call(sysrec("read", [fd, 0x10, 1], 1, [(1, 1, b"x")])) == f'read({fd}<{a}>, "x", 1) = 1'
        os.close(fd)
        assert os.open(b, os.O_RDONLY) == fd
        assert y.call(sysrec("read", [fd, 0x10, 1], 1, [(1, 1, b"x")])) == f'read({fd}<{b}>, "x", 1) = 1'
    finally:
        os.close(fd)


def test_netlink_and_sockopt_names():
    nl = struct.pack("<HHiI", socket.AF_NETLINK, 0, -141298815, 0)
    assert D.call(sysrec("connect", [3, 0x10, 12], 0, [(0, 1, nl)], nr=49)) == \
        "bind(3, {sa_family=AF_NETLINK, nl_pid=-141298815, nl_groups=00000000}, 12) = 0"
    one = struct.pack("<i", 1)
    assert D.call(sysrec("connect", [3, 270, 11, 0x10, 4], 0, [(0, 3, one)], nr=54)) == \
        "setsockopt(3, SOL_NETLINK, NETLINK_EXT_ACK, [1], 4) = 0"
    assert D.call(sysrec("connect", [3, 0, 11, 0x10, 4], 0, [(0, 3, one)], nr=54)) == \
        "setsockopt(3, SOL_IP, IP_RECVERR, [1], 4) = 0"
    act = struct.pack("<QQQQ", 0x5000, 0x04000000 | 0x40000000 | 0x80000000 | (1 << 40), 0x7000, 0)
    assert "sa_flags=SA_RESTORER|SA_NODEFER|SA_RESETHAND|0x10000000000" in D.call(sysrec("rt_sigaction", [2, 0x10, 0, 8], 0, [(0, 1, act)]))


def test_utimensat_times_carry_dates():
    ts = struct.pack("<qqqq", 1577836800, 0, 0, (1 << 30) - 2)
    r = sysrec("read", [0, 0, 0x10, 0], 0, [(0, 2, ts)], nr=280)
    assert D.call(r) == ("utimensat(0, NULL, [{tv_sec=1577836800, tv_nsec=0} /* "
                         + __import__("time").strftime("%Y-%m-%dT%H:%M:%S%z", __import__("time").localtime(1577836800))
                         + " */, UTIME_OMIT], 0) = 0")


def test_i386_old_mmap_block():
    block = struct.pack("<6I", 0, 4096, 3, 0x22, 0xFFFFFFFF, 0)
    r = sysrec("mmap", [0xFFD00000], 0xF7F00000, [(0, 0, block)], pers=Pers.I386, nr=90)
    assert D.call(r) == "mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0xf7f00000"


def test_call_split_and_multiplexers():
    r = sysrec("openat", [AT_FDCWD, 0x10, 0], -2, [(0, 1, b"/x\0")], True)
    assert D.call_split(r) == ('openat(AT_FDCWD, "/x", O_RDONLY)', "-1 ENOENT (No such file or directory)")
    # i386 socketcall: the subcall by name; its arguments sit behind a pointer the plan does not follow
    r = sysrec("read", [1, 0xFFD01000], 3, pers=Pers.I386, nr=102)
    assert D.call(r) == "socketcall(SYS_SOCKET, 0xffd01000) = 3"
    assert D.name(Pers.X32, 0x40000000 | 257) == "openat"


def test_observe_keeps_the_fd_table_for_hidden_calls():
    y = Decoder(DecodeOptions(yflag=1))
    y.observe(sysrec("openat", [AT_FDCWD, 0x10, 0], 1004, [(0, 1, b"/etc/hostname\0")]))
    assert y.call(sysrec("read", [1004, 0x10, 4], -9, [], True)).startswith("read(1004, ")  # EBADF: bare
    y.observe(sysrec("openat", [AT_FDCWD, 0x10, 0], 1005, [(0, 1, b"/etc/hostname\0")]))
    assert y.call(sysrec("read", [1005, 0x10, 4], -11, [], True)).startswith("read(1005</etc/hostname>, ")


def test_a_name_registered_twice_is_refused():
    """Two family modules decoding one call (or printing one struct) would
    depend on import order: registration refuses the second."""
    import pytest

    from tracerd.client.decode._core import struct as register_struct, syscall

    with pytest.raises(ValueError, match="decoder 'listxattr' is registered twice"):
        syscall("listxattr")(lambda c: [])
    with pytest.raises(ValueError, match="struct printer 'int' is registered twice"):
        register_struct("int")(lambda c, b, i: "")

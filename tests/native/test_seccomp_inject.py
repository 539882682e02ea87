"""attach --seccomp-bpf: the filter injected into running processes.

Real tracees, real ptrace and seccomp. Every tracee waits on a pipe (its
stdin) at attach time, so the order of events is fixed by handshakes, never
by sleeps.
"""

import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest

from native_helpers import by_type, calls, needs_root

from _plans import filter_and_plan, nr_of, spec
from tracerd import TracerError, _wire
from tracerd._wire import Rec

pytestmark = needs_root

NR = {n: nr_of(n) for n in ("getppid", "read", "poll", "getpid")}

# Three threads at attach time: main blocked in read(0) (a restartable
# call: -ERESTARTSYS), one blocked in read on a pipe, one spinning in user
# code (the thread the filter is injected with: it is in no call). After
# the go byte each makes N untraced getpid and K traced getppid.
THREADS = r"""#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
#define N 20000
#define K 5
static volatile int go;
static int p[2];
static long ppid;
static void work(void) {
	for (int i = 0; i < N; i++) syscall(SYS_getpid);
	for (int i = 0; i < K; i++) if (syscall(SYS_getppid) != ppid) exit(9);
}
static void *spin(void *a) { while (!go) ; work(); return 0; }
static void *piped(void *a) { char c; if (read(p[0], &c, 1) != 1) exit(8); work(); return 0; }
int main(void) {
	pthread_t a, b;
	char c;
	pipe(p);
	ppid = getppid(); /* before attach: not traced */
	pthread_create(&a, 0, spin, 0);
	pthread_create(&b, 0, piped, 0);
	printf("ready\n"); fflush(stdout);
	if (read(0, &c, 1) != 1) return 7;
	go = 1;
	write(p[1], "x", 1);
	work();
	pthread_join(a, 0); pthread_join(b, 0);
	return 0;
}
"""

# One thread, blocked at attach time in read(0) ("read": -ERESTARTSYS) or in
# poll(0) with a timeout ("poll": -ERESTART_RESTARTBLOCK, restarted through
# restart_syscall). Echoes each line as "got <line>" plus its getppid().
ECHO = r"""#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(int argc, char **argv) {
	char buf[64];
	int usepoll = argc > 1 && !strcmp(argv[1], "poll");
	printf("ready\n"); fflush(stdout);
	for (;;) {
		if (usepoll) {
			struct pollfd f = { 0, POLLIN, 0 };
			if (poll(&f, 1, 600000) != 1) return 4;
		}
		ssize_t n = read(0, buf, sizeof buf);
		if (n <= 0) return 3;
		long pp = syscall(SYS_getppid);
		printf("got %.*s %ld\n", (int)n - 1, buf, pp); fflush(stdout);
	}
}
"""


def _start(prog, *args, **kw):
    p = subprocess.Popen([prog, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, **kw)
    assert p.stdout.readline() == b"ready\n"
    return p


def _say(p, line: bytes) -> bytes:
    p.stdin.write(line)
    p.stdin.flush()
    return p.stdout.readline()


def _status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def _attach(pids, names, **kw):
    from tracerd.client._embedded import EmbeddedAttach

    bpf, plan = filter_and_plan(spec(names))
    return EmbeddedAttach(pids, plan=plan, bpf=bpf, stats=True, **kw).start()


def _finish(p):
    p.stdin.close()
    return p.wait()


def test_untraced_calls_never_stop_and_every_thread_is_filtered(cbuild):
    prog = cbuild("inj_threads", THREADS)
    p = _start(prog)
    a = _attach([p.pid], ["getppid"])
    try:
        st = _status(p.pid)
        assert st["Seccomp"] == "2" and st["Seccomp_filters"] == "1"
        for tid in os.listdir(f"/proc/{p.pid}/task"):
            assert _status(tid)["Seccomp"] == "2"  # TSYNC: every thread has it
        p.stdin.write(b"g")
        p.stdin.flush()
        recs = list(a.records())  # the process ends while attached
    finally:
        a.close()
    assert p.wait() == 0  # getppid gave the right answer in every thread
    assert not a.passthru
    got = calls(recs, NR["getppid"])
    assert len(got) == 15
    assert {_wire.field(r, "ret") for r in got} == {os.getpid()}
    assert all(_wire.field(r, "flags") & _wire.SysFlag.SECCOMP for r in got)
    assert len({r[3] for r in got}) == 3
    # 15 seccomp stops and their 15 exit stops: the 60000 getpid never stopped
    assert a.stats["seccomp_stops"] == 15
    assert a.stats["syscall_stops"] == 15


@pytest.mark.parametrize("how", ["read", "poll"])
def test_call_blocked_at_attach_is_restarted(cbuild, how):
    prog = cbuild("inj_echo", ECHO)
    p = _start(prog, how)
    a = _attach([p.pid], ["read", "getppid"])
    try:
        assert _say(p, b"hello\n") == f"got hello {os.getpid()}\n".encode()
        assert _say(p, b"again\n") == f"got again {os.getpid()}\n".encode()
        assert _finish(p) == 3
        recs = list(a.records())
    finally:
        a.close()
    reads = calls(recs, NR["read"])
    # the interrupted read (or the read after the restarted poll) came back
    # through the filter with its data
    assert [(_wire.field(r, "ret")) for r in reads] == [6, 6, 0]
    assert len(calls(recs, NR["getppid"])) == 2
    assert a.stats["seccomp_stops"] == 5


@pytest.mark.parametrize("wait", ["blocking", "poll"])
def test_detach_leaves_a_passthrough_tracer(cbuild, wait):
    prog = cbuild("inj_echo", ECHO)
    p = _start(prog)
    a = _attach([p.pid], ["getppid"], worker_options={"wait": wait})
    try:
        assert _say(p, b"one\n") == f"got one {os.getpid()}\n".encode()
        a.detach()
        recs = list(a.records())
    finally:
        a.close()
    worker = a._worker
    assert a.passthru and worker.poll() is None
    assert _status(p.pid)["TracerPid"] == str(worker.pid)
    assert [r[3] for r in by_type(recs, Rec.DETACH)] == [p.pid]
    notes = [_wire.field(r, "message") for r in by_type(recs, Rec.ERROR)]
    assert notes == [f"process {p.pid} keeps its seccomp filter; tracer pid {worker.pid} stays attached (pass-through) until it exits"]
    # the traced call still works (no ENOSYS), as do the others
    assert _say(p, b"two\n") == f"got two {os.getpid()}\n".encode()
    # the worker survives the signals a terminal or a job-control kill sends
    for s in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
        os.kill(worker.pid, s)
    assert _say(p, b"three\n") == f"got three {os.getpid()}\n".encode()
    assert worker.poll() is None
    assert _finish(p) == 3
    assert worker.wait() == 0  # it ends with its last tracee


def test_consumer_gone_is_a_detach_too(cbuild):
    prog = cbuild("inj_echo", ECHO)
    p = _start(prog)
    a = _attach([p.pid], ["getppid"])
    worker = a._worker
    # the consumer vanishes: its ends of the stream and control pipes close
    a._close_fds()
    assert _say(p, b"one\n") == f"got one {os.getpid()}\n".encode()
    assert _status(p.pid)["TracerPid"] == str(worker.pid)
    assert _finish(p) == 3
    assert worker.wait() == 0
    os.close(a._passthru_r)
    os.close(a._ch.take("stats_fd"))


def test_no_new_privs_only_without_cap_sys_admin(cbuild, tmp_path_factory):
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv not installed")
    # a directory user nobody can reach (pytest's tmp dirs are root-only)
    d = tempfile.mkdtemp()
    try:
        os.chmod(d, 0o755)
        prog = os.path.join(d, "echo")
        shutil.copy(cbuild("inj_echo", ECHO), prog)
        os.chmod(prog, 0o755)
        p = _start("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", prog)
        assert _status(p.pid)["NoNewPrivs"] == "0"
        a = _attach([p.pid], ["getppid"])
        try:
            st = _status(p.pid)
            assert st["NoNewPrivs"] == "1" and st["Seccomp"] == "2"
            assert _say(p, b"x\n") == f"got x {os.getpid()}\n".encode()
            assert _finish(p) == 3
            recs = list(a.records())
        finally:
            a.close()
        assert len(calls(recs, NR["getppid"])) == 1
    finally:
        shutil.rmtree(d)
    # as root (CAP_SYS_ADMIN) the filter goes in without NO_NEW_PRIVS
    p = _start(cbuild("inj_echo", ECHO))
    a = _attach([p.pid], ["getppid"])
    try:
        assert _status(p.pid)["NoNewPrivs"] == "0"
        assert _finish(p) == 3
    finally:
        a.close()


def _refused(p, match):
    """Injection fails with one line; the process is as it was: not traced,
    no filter of ours, still answering."""
    before = _status(p.pid)
    with pytest.raises(TracerError) as ei:
        _attach([p.pid], ["getppid", "read"])
    msg = str(ei.value)
    assert "\n" not in msg and match in msg, msg
    after = _status(p.pid)
    assert after["TracerPid"] == "0"
    assert (after["Seccomp"], after["Seccomp_filters"]) == (before["Seccomp"], before["Seccomp_filters"])
    return msg


# Denies seccomp() (EPERM) with a filter of its own: our injection fails.
DENY = r"""#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
int main(void) {
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_seccomp, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { 4, f };
	char buf[64];
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) return 5;
	printf("ready\n"); fflush(stdout);
	for (;;) {
		ssize_t n = read(0, buf, sizeof buf);
		if (n <= 0) return 3;
		printf("got %.*s %ld\n", (int)n - 1, buf, (long)getppid()); fflush(stdout);
	}
}
"""


def test_refused_when_seccomp_fails(cbuild):
    p = _start(cbuild("inj_deny", DENY))
    msg = _refused(p, "seccomp(SECCOMP_SET_MODE_FILTER)")
    assert msg.endswith("Operation not permitted")
    assert _say(p, b"x\n") == f"got x {os.getpid()}\n".encode()  # its read was restarted
    assert _finish(p) == 3


# i386 echo, no libc: read(0) / write(1) through int 0x80 (with USEPOLL,
# each read waits in poll(0) with a timeout first: -ERESTART_RESTARTBLOCK).
ECHO32 = r"""static int sys3(int nr, int a, int b, int c) {
	int r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return r;
}
static char buf[64];
struct pfd { int fd; short events, revents; };
void _start(void) {
	sys3(4, 1, (int)"ready\n", 6);
	for (;;) {
#ifdef USEPOLL
		struct pfd f = { 0, 1, 0 };
		if (sys3(168, (int)&f, 1, 600000) != 1) sys3(1, 4, 0, 0);
#endif
		int n = sys3(3, 0, (int)buf, sizeof buf);
		if (n <= 0) sys3(1, 3, 0, 0);
		sys3(4, 1, (int)buf, n);
	}
}
"""

# A 64-bit program whose one thread sits in an i386 read through int 0x80.
INT80 = r"""#include <stdio.h>
#include <unistd.h>
static char buf[64];
int main(void) {
	printf("ready\n"); fflush(stdout);
	for (;;) {
		long n;
		__asm__ volatile("int $0x80" : "=a"(n) : "a"(3L), "b"(0L), "c"(buf), "d"(64L) : "memory");
		if (n <= 0) return 3;
		write(1, buf, n);
	}
}
"""


def _cbuild_raw(tmp_path_factory, name, source, *flags):
    d = tmp_path_factory.mktemp(name)
    src, out = d / f"{name}.c", d / name
    src.write_text(source)
    r = subprocess.run(["gcc", *flags, "-o", str(out), str(src)], capture_output=True)
    if r.returncode:
        pytest.skip(f"cannot build {name}: {r.stderr.decode(errors='replace').strip().splitlines()[-1:]}")
    return str(out)


def _attach_entries(pids, entries):
    from tracerd.client._embedded import EmbeddedAttach

    bpf, plan = filter_and_plan(entries)
    return EmbeddedAttach(pids, plan=plan, bpf=bpf, stats=True).start()


I386 = _wire.Pers.I386


@pytest.mark.parametrize("flags", [(), ("-DUSEPOLL",)], ids=["read", "poll"])
def test_i386_process_gets_the_filter_through_int80(tmp_path_factory, flags):
    prog = _cbuild_raw(tmp_path_factory, "echo32" + "".join(f[2:] for f in flags), ECHO32, "-m32", "-nostdlib",
                       "-static", "-ffreestanding", "-O1", *flags)
    p = _start(prog)
    a = _attach_entries([p.pid], spec(["read", "write"], pers=I386))
    try:
        assert _status(p.pid)["Seccomp"] == "2"
        assert _say(p, b"x\n") == b"x\n"  # the interrupted call was restarted
        assert _say(p, b"yz\n") == b"yz\n"
        assert _finish(p) == 3
        recs = list(a.records())
    finally:
        a.close()
    assert [_wire.field(r, "ret") for r in calls(recs, nr_of("read", I386), I386)] == [2, 3, 0]
    assert [_wire.field(r, "ret") for r in calls(recs, nr_of("write", I386), I386)] == [2, 3]
    assert a.stats["syscall_stops"] == a.stats["seccomp_stops"] == 5


def test_64bit_thread_inside_int80_call(tmp_path_factory):
    prog = _cbuild_raw(tmp_path_factory, "int80", INT80, "-no-pie", "-O1")
    p = _start(prog)
    a = _attach_entries([p.pid], {**spec(["read"], pers=I386), **spec(["write"])})
    try:
        assert _say(p, b"x\n") == b"x\n"  # its int 0x80 read restarted as one
        assert _finish(p) == 3
        recs = list(a.records())
    finally:
        a.close()
    assert [_wire.field(r, "ret") for r in calls(recs, nr_of("read", I386), I386)] == [2, 0]
    assert [_wire.field(r, "ret") for r in calls(recs, nr_of("write"))] == [2]


def test_plain_attach_is_unchanged(cbuild):
    """Without a filter attach still detaches and leaves nothing behind."""
    from tracerd.client._embedded import EmbeddedAttach

    p = _start(cbuild("inj_echo", ECHO))
    _, plan = filter_and_plan(spec(["getppid"]))
    a = EmbeddedAttach([p.pid], plan=plan).start()
    try:
        assert _say(p, b"x\n") == f"got x {os.getpid()}\n".encode()
        a.detach()
        list(a.records())
    finally:
        a.close()
    assert not a.passthru and a.worker_status == 0
    st = _status(p.pid)
    assert st["TracerPid"] == "0" and st["Seccomp"] == "0"
    assert _finish(p) == 3


def _tracectl(*args):
    argv = [sys.executable, "-c", "import sys; from tracerd.client import main; sys.exit(main())"]
    return subprocess.Popen([*argv, "--embedded", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_tracectl_attach_seccomp_bpf_then_ctrl_c(cbuild):
    p = _start(cbuild("inj_echo", ECHO))
    t = _tracectl("attach", "--seccomp-bpf", "-e", "trace=getppid", "-p", str(p.pid))
    try:
        # the note comes with the first frame, written once the filter is in
        assert t.stderr.readline() == f"tracectl: Process {p.pid} attached\n".encode()
        assert _status(p.pid)["Seccomp"] == "2"
        assert _say(p, b"a\n") == f"got a {os.getpid()}\n".encode()
        assert t.stderr.readline().decode().startswith("getppid()")
        t.send_signal(signal.SIGINT)
        rest = t.stderr.read().decode()  # EOF: the worker let go of our stderr
        assert t.wait() == -signal.SIGINT
    finally:
        if t.poll() is None:
            t.kill()
    lines = rest.splitlines()
    assert lines[0] == f"tracectl: Process {p.pid} detached"
    head = f"tracectl: process {p.pid} keeps its seccomp filter; tracer pid "
    assert lines[1].startswith(head) and lines[1].endswith(" stays attached (pass-through) until it exits")
    worker = int(lines[1][len(head):].split()[0])
    assert _status(p.pid)["TracerPid"] == str(worker)
    pidfd = os.pidfd_open(worker)
    try:
        # tracectl is gone; the traced call still succeeds
        assert _say(p, b"b\n") == f"got b {os.getpid()}\n".encode()
        assert select.select([pidfd], [], [], 0)[0] == []
        assert _finish(p) == 3
        # the worker ends with its tracee (pidfd readable = exited)
        assert select.select([pidfd], [], [], 60)[0] == [pidfd]
    finally:
        os.close(pidfd)


def test_tracectl_attach_seccomp_bpf_refused(cbuild):
    p = _start(cbuild("inj_deny", DENY))
    t = _tracectl("attach", "--seccomp-bpf", "-e", "trace=getppid", "-p", str(p.pid))
    err = t.stderr.read().decode()
    assert t.wait() == 1
    assert err.count("\n") == 1 and "seccomp(SECCOMP_SET_MODE_FILTER)" in err, err
    assert _status(p.pid)["TracerPid"] == "0"
    assert _say(p, b"x\n") == f"got x {os.getpid()}\n".encode()
    assert _finish(p) == 3


# A filter of its own that kills the process on mmap: injecting would kill it.
KILLMMAP = r"""#include <stddef.h>
#include <stdio.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
int main(void) {
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { 4, f };
	char buf[64];
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) return 5;
	write(1, "ready\n", 6);
	for (;;) {
		ssize_t n = read(0, buf, sizeof buf);
		if (n <= 0) return 3;
		write(1, buf, n);
	}
}
"""

# Seccomp strict mode: only read, write, exit, sigreturn.
STRICT = r"""#include <unistd.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
int main(void) {
	char buf[64];
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)) return 5;
	write(1, "ready\n", 6);
	for (;;) {
		ssize_t n = read(0, buf, sizeof buf);
		if (n <= 0) syscall(SYS_exit, 3);
		write(1, buf, n);
	}
}
"""


@pytest.mark.parametrize("name,source,match", [
    ("inj_killmmap", KILLMMAP, "would kill it on mmap"),
    ("inj_strict", STRICT, "seccomp strict mode"),
])
def test_refused_when_its_own_filter_would_kill_it(cbuild, name, source, match):
    p = _start(cbuild(name, source))
    _refused(p, match)
    assert _say(p, b"x\n") == b"x\n"  # alive, and its read was restarted
    assert _finish(p) == 3


def test_attach_again_repairs_a_killed_tracer(cbuild):
    """SIGKILL of the worker leaves the filter without a tracer (ENOSYS for
    the traced calls); attaching again with the filter brings them back."""
    p = _start(cbuild("inj_echo", ECHO))
    a = _attach([p.pid], ["getppid"])
    os.kill(a._worker.pid, signal.SIGKILL)
    a._worker.wait()
    a._close_fds()
    os.close(a._passthru_r)
    os.close(a._ch.take("stats_fd"))
    assert _say(p, b"x\n") == b"got x -1\n"  # ENOSYS
    b = _attach([p.pid], ["getppid"])
    try:
        assert _status(p.pid)["Seccomp_filters"] == "2"
        assert _say(p, b"y\n") == f"got y {os.getpid()}\n".encode()
        assert _finish(p) == 3
        recs = list(b.records())
    finally:
        b.close()
    assert len(calls(recs, NR["getppid"])) == 1


# Forks a child per line; the child's getppid (traced) must name its parent.
FORKER = r"""#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
int main(void) {
	char buf[64];
	printf("ready\n"); fflush(stdout);
	for (;;) {
		int st;
		if (read(0, buf, sizeof buf) <= 0) return 3;
		long me = getpid();
		pid_t c = fork();
		if (c == 0) _exit(syscall(SYS_getppid) == me ? 0 : 1);
		waitpid(c, &st, 0);
		printf("got %d\n", st); fflush(stdout);
	}
}
"""


def test_children_inherit_the_filter_and_are_followed(cbuild):
    p = _start(cbuild("inj_forker", FORKER))
    a = _attach([p.pid], ["getppid"])
    try:
        assert _say(p, b"a\n") == b"got 0\n"
        a.detach()
        recs = list(a.records())
    finally:
        a.close()
    kids = [_wire.field(r, "child") for r in by_type(recs, Rec.NEWTASK)]
    assert len(kids) == 1
    got = calls(recs, NR["getppid"])
    assert [(r[3], _wire.field(r, "ret")) for r in got] == [(kids[0], p.pid)]
    # pass-through: a new child still gets its traced call answered
    assert a.passthru
    assert _say(p, b"b\n") == b"got 0\n"
    assert _finish(p) == 3
    assert a._worker.wait() == 0


# Threads that keep making threads: the attach races clone events (each of
# which uses up a pending PTRACE_INTERRUPT) while every thread is held.
CHURN = r"""#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
static volatile int stop;
static long ppid;
static void *leaf(void *a) { if (syscall(SYS_getppid) != ppid) exit(9); return 0; }
static void *churn(void *a) {
	while (!stop) { pthread_t x; if (pthread_create(&x, 0, leaf, 0)) exit(8); pthread_join(x, 0); }
	return 0;
}
int main(void) {
	pthread_t th[8];
	char c;
	ppid = getppid();
	for (int i = 0; i < 8; i++) pthread_create(&th[i], 0, churn, 0);
	printf("ready\n"); fflush(stdout);
	if (read(0, &c, 1) != 1) return 7;
	stop = 1;
	for (int i = 0; i < 8; i++) pthread_join(th[i], 0);
	return 0;
}
"""


def test_threads_created_while_attaching_are_held_and_filtered(cbuild):
    prog = cbuild("inj_churn", CHURN)
    for _ in range(3):
        p = _start(prog)
        a = _attach([p.pid], ["getppid"])
        try:
            assert _status(p.pid)["Seccomp"] == "2"
            recs = a.records()
            for r in recs:  # the threads made since run under the filter
                if r[0] == Rec.SYSCALL:
                    break
            a.detach()
            for _ in recs:
                pass
        finally:
            a.close()
        assert a.passthru
        p.stdin.write(b"x")
        p.stdin.flush()
        assert p.wait() == 0  # no leaf ever got ENOSYS
        assert a._worker.wait() == 0


def test_refused_for_a_stopped_process(cbuild):
    p = _start(cbuild("inj_echo", ECHO))
    os.kill(p.pid, signal.SIGSTOP)
    try:
        # waitid(WSTOPPED) from its parent (us): returns once it has stopped
        assert os.waitid(os.P_PID, p.pid, os.WSTOPPED).si_code == os.CLD_STOPPED
        _refused(p, "is stopped")
        with open(f"/proc/{p.pid}/stat") as f:
            assert f.read().rsplit(")", 1)[1].split()[0] == "T"  # still stopped
    finally:
        os.kill(p.pid, signal.SIGCONT)
    assert _say(p, b"x\n") == f"got x {os.getpid()}\n".encode()
    assert _finish(p) == 3

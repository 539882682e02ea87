"""Launch mode end to end: real tracees, real ptrace and seccomp."""

import os
import signal
import struct

import pytest
from native_helpers import by_type, calls, mem_of, needs_root, run_traced

from _plans import eflags_of, filter_and_plan, nr_of, OPS, spec
from tracerd import TracerError, _wire
from tracerd._wire import Pers, Rec, SysFlag

pytestmark = needs_root

def cut(s: bytes, limit=32) -> bytes:
    """A CSTR value as the loop writes it with strsize `limit`."""
    return s + b"\0" if len(s) <= limit else s[:limit]


NR = {n: nr_of(n) for n in ("openat", "write", "getppid", "getpid", "execve", "exit_group", "read", "chdir", "fchdir")}


def test_exit_status_and_records(cbuild):
    prog = cbuild("exit7", "#include <stdlib.h>\nint main(void){return 7;}")
    recs, status, _ = run_traced([prog], ["execve", "exit_group"])
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 7
    ex = by_type(recs, Rec.EXIT)
    assert len(ex) == 1 and _wire.field(ex[0], "status") == 7
    # the execve itself is reported, with its path and argv
    (ev,) = calls(recs, NR["execve"])
    assert _wire.field(ev, "ret") == 0
    assert mem_of(ev, 0, 0) == prog.encode() + b"\0"
    assert mem_of(ev, 0, 1) == [1, cut(prog.encode())]
    # exit_group never returns: no value, VANISHED
    (eg,) = calls(recs, NR["exit_group"])
    assert _wire.field(eg, "ret") is None
    assert _wire.field(eg, "flags") & SysFlag.VANISHED
    assert _wire.field(eg, "args")[0] == 7


def test_killed_by_signal(cbuild):
    prog = cbuild("segv", "#include <signal.h>\n#include <unistd.h>\nint main(void){kill(getpid(), SIGTERM); pause(); return 0;}")
    recs, status, _ = run_traced([prog], ["kill"])
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM
    (k,) = by_type(recs, Rec.KILLED)
    assert _wire.field(k, "signo") == signal.SIGTERM and _wire.field(k, "core") is False
    sig = by_type(recs, Rec.SIGNAL)
    assert [_wire.field(s, "signo") for s in sig] == [signal.SIGTERM]
    si = _wire.field(sig[0], "siginfo")
    assert len(si) == 128
    signo, errno_, code, pid, uid = struct.unpack_from("<iii4xiI", si)
    assert signo == signal.SIGTERM and code == 0 and pid == _wire.field(k, "tgid")


def test_cannot_stat():
    with pytest.raises(TracerError, match=r"^Can't stat 'no-such-cmd-xyz': No such file or directory$"):
        run_traced(["no-such-cmd-xyz"], ["execve"])


def test_exec_failure_reported_like_strace(tmp_path, capfd):
    """The failed execve is recorded; the child says nothing itself: its
    errno comes back to the client (which prints strace's "exec: ERROR"
    after the execve line: tests/cli/test_process.py)."""
    from tracerd.client._embedded import EmbeddedRun

    f = tmp_path / "notexec"
    f.write_text("x\n")
    entries = spec(["execve"])
    bpf, plan = filter_and_plan(entries)
    run = EmbeddedRun([str(f)], bpf=bpf, plan=plan).start()
    try:
        recs = list(run.records())
    finally:
        run.close()
    status = run.status()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 1
    (ev,) = calls(recs, NR["execve"])
    assert _wire.field(ev, "ret") == -13 and _wire.field(ev, "is_error") is True
    assert run.child.exec_errno == 13
    assert capfd.readouterr().err == ""


def test_untraced_calls_never_stop(cbuild):
    prog = cbuild(
        "mix",
        "#include <unistd.h>\n#include <sys/syscall.h>\n"
        "int main(void){for(int i=0;i<20000;i++) syscall(SYS_getpid); for(int i=0;i<5;i++) syscall(SYS_getppid); return 0;}",
    )
    recs, status, st = run_traced([prog], ["getppid"])
    assert status == 0
    assert len(calls(recs, NR["getppid"])) == 5
    # five seccomp stops and five exit stops: the 20000 getpid never stopped
    assert st["seccomp_stops"] == 5
    assert st["syscall_stops"] == 5


def test_entry_only_calls_have_no_exit_stop(cbuild):
    prog = cbuild("ppid3", "#include <unistd.h>\nint main(void){getppid();getppid();getppid();return 0;}")
    recs, status, st = run_traced([prog], ["getppid"], exit_=False)
    got = calls(recs, NR["getppid"])
    assert len(got) == 3
    for r in got:
        assert _wire.field(r, "ret") is None and _wire.field(r, "flags") & SysFlag.NO_EXIT
    assert st["syscall_stops"] == 0


def test_memory_fetch_and_bad_pointers(cbuild):
    prog = cbuild(
        "mem",
        r"""#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
int main(void){
	char buf[8];
	int fd = open("/dev/null", O_WRONLY);
	syscall(SYS_openat, AT_FDCWD, (char *)1, O_RDONLY);       /* bad pointer */
	write(fd, "hello", 5);
	write(fd, (char *)16, 5);                                   /* bad buffer */
	int p[2]; pipe(p); write(p[1], "abc", 3); read(p[0], buf, sizeof buf);
	struct iovec v[2] = {{"ab", 2}, {"cdef", 4}}; writev(fd, v, 2);
	return 0;
}""",
    )
    recs, status, _ = run_traced([prog], ["openat", "write", "read", "writev"])
    assert status == 0
    op = calls(recs, NR["openat"])
    assert mem_of(op[-1], 0, 1) == -14
    assert _wire.field(op[-1], "ret") == -14
    dn = [r for r in op if mem_of(r, 0, 1) == b"/dev/null\0"]
    assert dn and _wire.field(dn[0], "ret") >= 0
    w = calls(recs, NR["write"])
    assert [mem_of(r, 0, 1) for r in w] == [b"hello", -14, b"abc"]
    rd = calls(recs, NR["read"])[-1]
    assert _wire.field(rd, "ret") == 3 and mem_of(rd, 1, 1) == b"abc"
    (wv,) = calls(recs, nr_of("writev"))
    assert [[e[1], e[2]] for e in mem_of(wv, 0, 1)] == [[2, b"ab"], [4, b"cdef"]]


def test_string_limits(cbuild):
    prog = cbuild(
        "longpath",
        r"""#include <unistd.h>
int main(void){ chdir("0123456789012345678901234567890"); chdir("01234567890123456789012345678901"); chdir("012345678901234567890123456789012"); return 0; }""",
    )
    entries = {(Pers.X86_64, "chdir"): (eflags_of(OPS["chdir"]), [(0, _wire.Op.CSTR, 0, _wire.LEN_NONE, 0)])}
    recs, _, _ = run_traced([prog], entries=entries, strsize=32)
    got = [mem_of(r, 0, 0) for r in calls(recs, NR["chdir"])]
    # 31 and 32 characters fit (with their NUL); 33 are cut at 32, no NUL
    assert got == [b"0123456789012345678901234567890\0", b"01234567890123456789012345678901\0", b"01234567890123456789012345678901"]


def test_huge_argv(cbuild):
    prog = cbuild("true", "int main(void){return 0;}")
    argv = [prog] + [f"a{i}" for i in range(100000)]
    recs, status, _ = run_traced(argv, ["execve"])
    assert status == 0
    (ev,) = calls(recs, NR["execve"])
    arr = mem_of(ev, 0, 1)
    assert arr[0] == 100001 and len(arr) == 1 + 32
    assert arr[1] == cut(prog.encode()) and arr[2] == b"a0\0"


def test_signals_delivered_and_reported(cbuild):
    prog = cbuild(
        "sig",
        r"""#include <signal.h>
#include <unistd.h>
static volatile int got;
static void h(int s){ got += s; }
int main(void){ signal(SIGUSR1, h); raise(SIGUSR1); raise(SIGUSR1); return got == 2 * SIGUSR1 ? 0 : 3; }""",
    )
    recs, status, _ = run_traced([prog], [])
    assert status == 0  # the handler ran twice: signals re-injected
    assert [_wire.field(r, "signo") for r in by_type(recs, Rec.SIGNAL)] == [signal.SIGUSR1] * 2


def test_sigstop_sigcont(cbuild):
    prog = cbuild(
        "stopcont",
        r"""#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>
int main(void){
	pid_t c = fork();
	if (!c) { raise(SIGSTOP); _exit(5); }
	int st; waitpid(c, &st, WUNTRACED);
	if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP) return 1;
	kill(c, SIGCONT);
	waitpid(c, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 5 ? 0 : 2;
}""",
    )
    recs, status, _ = run_traced([prog], ["wait4"])
    assert status == 0  # the parent saw the stop and the exit as without a tracer
    stopped = by_type(recs, Rec.STOPPED)
    assert [_wire.field(r, "signo") for r in stopped] == [signal.SIGSTOP]
    assert signal.SIGCONT in [_wire.field(r, "signo") for r in by_type(recs, Rec.SIGNAL)]


def test_blocked_read_then_killed(cbuild):
    prog = cbuild(
        "blockread",
        r"""#include <unistd.h>
#include <signal.h>
int main(void){ int p[2]; char c; pipe(p);
	pid_t k = fork();
	if (!k) { usleep(100000); kill(getppid(), SIGKILL); _exit(0); }
	read(p[0], &c, 1); return 0; }""",
    )
    recs, status, _ = run_traced([prog], ["read"], flush_ms=10)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    # blocked past the flush interval: announced, then ended without a value
    entries = by_type(recs, Rec.SYSCALL_ENTRY)
    exits = by_type(recs, Rec.SYSCALL_EXIT)
    assert [_wire.field(r, "nr") for r in entries] == [NR["read"]]
    assert len(exits) == 1 and _wire.field(exits[0], "ret") is None
    assert _wire.field(exits[0], "flags") & SysFlag.VANISHED
    assert entries[0][1] < exits[0][1]
    killed = by_type(recs, Rec.KILLED)
    assert any(_wire.field(r, "signo") == signal.SIGKILL for r in killed)


def test_exit_group_while_other_thread_reads(cbuild):
    prog = cbuild(
        "threxit",
        r"""#include <pthread.h>
#include <unistd.h>
static int p[2];
static void *t(void *a){ char c; read(p[0], &c, 1); return 0; }
int main(void){ pthread_t th; pipe(p); pthread_create(&th, 0, t, 0); usleep(50000); _exit(3); }""",
    )
    recs, status, _ = run_traced([prog], ["read", "exit_group"])
    assert os.WEXITSTATUS(status) == 3
    tids = {r[3] for r in by_type(recs, Rec.EXIT)}
    assert len(tids) == 2  # both threads' ends are reported
    rd = [r for r in recs if r[0] in (Rec.SYSCALL, Rec.SYSCALL_EXIT) and _wire.field(r, "nr") == NR["read"]]
    assert rd and _wire.field(rd[-1], "ret") is None and _wire.field(rd[-1], "flags") & SysFlag.VANISHED


def test_cpu_time_from_schedstat(cbuild):
    prog = cbuild("spin", r"""#include <fcntl.h>
#include <unistd.h>
int main(void){ char b[65536]; int fd = open("/dev/urandom", O_RDONLY); for (int i = 0; i < 20; i++) read(fd, b, sizeof b); return 0; }""")
    recs, status, _ = run_traced([prog], ["read", "getppid"], flags=_wire.PlanFlag.CPU_TIME)
    assert status == 0
    rd = [r for r in calls(recs, NR["read"]) if _wire.field(r, "args")[2] == 65536]
    assert len(rd) == 20
    cpus = [_wire.field(r, "cpu") for r in rd]
    # reading 64 KiB of urandom costs the thread CPU time; it is counted in ns
    assert all(isinstance(c, int) and c >= 0 for c in cpus) and sum(cpus) > 0
    assert all(_wire.field(r, "dur") > 0 for r in rd)
    recs2, _, _ = run_traced([prog], ["read"])
    assert all(_wire.field(r, "cpu") is None for r in calls(recs2, NR["read"]))


def test_pid_namespace_ids(cbuild):
    import shutil

    if not shutil.which("unshare"):
        pytest.skip("unshare not installed")
    prog = cbuild("ppid1", "#include <unistd.h>\nint main(void){ return getpid() == 1 ? 0 : 1; }")
    recs, status, _ = run_traced(["unshare", "--pid", "--fork", prog], ["getpid"])
    assert status == 0
    (gp,) = calls(recs, NR["getpid"])
    assert _wire.field(gp, "ret") == 1
    assert _wire.ext(gp) == {"nspid": [1, 1]} and gp[3] != 1
    # tasks in our own namespace carry no ext map
    assert all(_wire.ext(r) == {} for r in recs if r[3] == recs[0][3])


def test_close_early_kills_the_command():
    from _plans import filter_and_plan, spec
    from tracerd.client._embedded import EmbeddedRun

    bpf, plan = filter_and_plan(spec(["nanosleep", "clock_nanosleep"]))
    run = EmbeddedRun(["sleep", "100"], bpf=bpf, plan=plan).start()
    for rec in run.records():
        if rec[0] == Rec.SYSCALL_ENTRY:  # the sleep is under way (split at the tick)
            break
    run.close()
    status = run.status()
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert run.worker_status == 0


def test_killed_worker_kills_the_command():
    # EXITKILL: a launched command never runs on untraced (its filter would
    # fail every selected call with ENOSYS)
    from _plans import filter_and_plan, spec
    from tracerd.client._embedded import EmbeddedRun

    bpf, plan = filter_and_plan(spec(["execve"]))
    run = EmbeddedRun(["sleep", "100"], bpf=bpf, plan=plan).start()
    for rec in run.records():
        if rec[0] == Rec.SYSCALL:
            break
    run._worker.kill()
    status = run.status()
    run.close()
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def test_command_gets_default_signals_and_our_fds(cbuild, tmp_path):
    prog = cbuild("envcheck", r"""#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv){
	struct sigaction sa; sigset_t m;
	sigaction(SIGPIPE, 0, &sa); if (sa.sa_handler != SIG_DFL) return 2;
	sigaction(SIGXFSZ, 0, &sa); if (sa.sa_handler != SIG_DFL) return 3;
	sigprocmask(SIG_SETMASK, 0, &m); if (!sigisemptyset(&m)) return 4;
	int fd = atoi(argv[1]);
	if (fcntl(fd, F_GETFD) < 0) return 5;
	return write(fd, "ok", 2) == 2 ? 0 : 6;
}""")
    f = open(tmp_path / "out", "wb")
    fd = f.fileno()
    os.set_inheritable(fd, True)
    old = signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2])
    try:
        recs, status, _ = run_traced([prog, str(fd)], ["write"])
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
        f.close()
    assert os.waitstatus_to_exitcode(status) == 0
    assert (tmp_path / "out").read_bytes() == b"ok"
    (w,) = calls(recs, NR["write"])
    assert _wire.field(w, "args")[0] == fd and mem_of(w, 0, 1) == b"ok"


def test_bad_plan_refused_before_the_command_runs(tmp_path):
    from _plans import compile_filter
    from tracerd.client._embedded import EmbeddedRun

    bpf = compile_filter({(_wire.Pers.X86_64, "getppid"): _wire.EntryFlag.EXIT})
    marker = tmp_path / "ran"
    run = EmbeddedRun(["/bin/sh", "-c", f"touch {marker}"], bpf=bpf, plan=b"TRFPjunk")
    with pytest.raises(TracerError, match="^invalid fetch plan$"):
        run.start()
    status = run.child.wait()
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert not marker.exists()


NNP_SCRIPT = r"""
import sys
sys.path.insert(0, sys.argv[1])
from _plans import spec, filter_and_plan
from tracerd._wire import Rec, iter_records
from tracerd.client._embedded import EmbeddedRun
bpf, plan = filter_and_plan(spec(["execve"]))
r = EmbeddedRun(["/bin/grep", "NoNewPrivs", "/proc/self/status"], bpf=bpf, plan=plan).start()
kinds = [rec[0] for _, _, p in r.frames() for rec in iter_records(p)]
r.close()
# EXEC, the execve call (whole, or entry and exit when a frame ended
# between them), EXIT
calls = kinds.count(Rec.SYSCALL) + kinds.count(Rec.SYSCALL_EXIT)
ok = kinds.count(Rec.EXEC) == 1 and calls == 1 and kinds.count(Rec.EXIT) == 1
sys.exit(0 if ok and r.status() == 0 else 1)
"""


@pytest.mark.parametrize("drop_sys_admin", [False, True])
def test_no_new_privs_only_when_seccomp_needs_it(drop_sys_admin):
    import shutil
    import subprocess
    import sys

    if not shutil.which("setpriv"):
        pytest.skip("setpriv not installed")
    here = os.path.dirname(__file__)
    cmd = [sys.executable, "-c", NNP_SCRIPT, here]
    if drop_sys_admin:  # seccomp() then fails with EACCES: NO_NEW_PRIVS, retry
        cmd = ["setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin", *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["NoNewPrivs:", "1" if drop_sys_admin else "0"]


def test_long_strings_and_strings_at_the_end_of_memory(cbuild):
    prog = cbuild("edgestr", r"""#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
int main(void){
	static char longp[1500];
	memset(longp, 'x', sizeof longp - 1);
	syscall(SYS_chdir, longp);                       /* 1499 chars: several reads */
	char *m = mmap(0, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
	munmap(m + 4096, 4096);
	memset(m, 'y', 4096);
	syscall(SYS_chdir, m + 4096 - 10);               /* no NUL before unmapped memory */
	memcpy(m + 4096 - 5, "abcd", 5);
	syscall(SYS_chdir, m + 4096 - 5);                /* NUL in the last byte */
	return 0;
}""")
    recs, status, _ = run_traced([prog], ["chdir"])
    assert status == 0
    got = [mem_of(r, 0, 0) for r in calls(recs, NR["chdir"])]
    assert got == [b"x" * 1499 + b"\0", b"y" * 10, b"abcd\0"]


def test_stop_latency_histogram_counts_every_stop(cbuild):
    """The loop times each stop's hold: one histogram observation per stop
    it handled, exactly, with a sum no smaller than the counts' lower edges."""
    from tracerd.native._worker import stop_latency_edges_ns

    prog = cbuild("lat", "#include <unistd.h>\nint main(void){for(int i=0;i<300;i++) getppid(); if(fork()==0) _exit(0); return 0;}")
    recs, status, st = run_traced([prog], ["getppid"])
    assert status == 0
    hist = st["stop_ns_hist"]
    edges = stop_latency_edges_ns()
    assert len(hist) == len(edges) + 1
    assert st["stops"] >= 600 and sum(hist) == st["stops"]
    lower = sum(n * (edges[i - 1] if i else 1) for i, n in enumerate(hist))
    assert st["stop_ns_sum"] >= lower > 0
